#include "core/rate_limiter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace orc {

using std::chrono::nanoseconds;

BudgetLimits budget_limits(double requests_per_second, double headroom) {
  BudgetLimits l;
  if (requests_per_second >= 1) {
    l.burst = static_cast<int>(std::floor(requests_per_second));
    l.burst_span = std::chrono::seconds(1);
  } else {
    l.burst = 1;
    l.burst_span = nanoseconds(static_cast<nanoseconds::rep>(std::ceil(1e9 / requests_per_second)));
  }
  const double full = std::min(requests_per_second * static_cast<double>(kBudgetWindow.count()),
                               static_cast<double>(kCloudflareWindowQuota));
  // The epsilon keeps 1200 x 0.95 at 1140 despite binary fractions.
  l.window_cap = std::max(1, static_cast<int>(std::floor(full * (1.0 - headroom) + 1e-6)));
  return l;
}

RequestBudget::RequestBudget(double requests_per_second, double headroom)
    : RequestBudget(budget_limits(requests_per_second, headroom)) {}

RequestBudget::RequestBudget(BudgetLimits limits) : limits_(limits) {}

void RequestBudget::forget_old(MonoTime now) {
  // A start older than both spans no longer limits anything; beyond the larger count no rule
  // looks back further.
  const nanoseconds longest = std::max<nanoseconds>(kBudgetWindow, limits_.burst_span);
  while (!starts_.empty() && starts_.front() + longest <= now) starts_.pop_front();
  const auto keep = static_cast<std::size_t>(std::max(limits_.burst, limits_.window_cap));
  while (starts_.size() > keep) starts_.pop_front();
}

nanoseconds RequestBudget::try_start(MonoTime now) {
  if (!starts_.empty()) now = std::max(now, starts_.back());  // never out of order
  forget_old(now);
  MonoTime earliest = paused_until_;
  const std::size_t n = starts_.size();
  // With k starts allowed per span, the k-th most recent start must have left the span.
  const auto burst = static_cast<std::size_t>(limits_.burst);
  if (n >= burst) earliest = std::max(earliest, starts_[n - burst] + limits_.burst_span);
  const auto cap = static_cast<std::size_t>(window_limit(now));
  if (n >= cap) earliest = std::max(earliest, starts_[n - cap] + kBudgetWindow);
  if (earliest > now) return earliest - now;
  starts_.push_back(now);
  return nanoseconds::zero();
}

void RequestBudget::rate_limited(MonoTime now, nanoseconds retry_after) {
  paused_until_ = std::max(paused_until_, now + std::max(retry_after, nanoseconds::zero()));
  shrunk_until_ = std::max(shrunk_until_, paused_until_ + kBudgetWindow);
}

int RequestBudget::in_window(MonoTime now) const {
  // A start at s counts in [s, s + 300 s), as on Cloudflare's side.
  const auto first = std::upper_bound(starts_.begin(), starts_.end(), now - kBudgetWindow);
  const auto last = std::upper_bound(first, starts_.end(), now);
  return static_cast<int>(last - first);
}

int RequestBudget::window_limit(MonoTime now) const {
  return shrunk(now) ? std::max(1, limits_.window_cap / 2) : limits_.window_cap;
}

RateLimiter::RateLimiter(double requests_per_second, const Clock& clock, Sleeper& sleeper,
                         double headroom)
    : budget_(requests_per_second, headroom), clock_(clock), sleeper_(sleeper) {}

bool RateLimiter::acquire(std::stop_token stop) {
  for (;;) {
    if (stop.stop_requested()) return false;
    nanoseconds wait;
    {
      std::lock_guard lock(mu_);
      // Read under the lock, so starts are counted in the order of their times.
      wait = budget_.try_start(clock_.monotonic());
    }
    if (wait <= nanoseconds::zero()) return true;
    // Several callers may wake for the same slot: the others ask again and wait on.
    if (!sleeper_.sleep_for(std::chrono::ceil<Millis>(wait), stop)) return false;
  }
}

void RateLimiter::pause_for(Millis d) {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.monotonic();
  const bool was_shrunk = budget_.shrunk(now);
  budget_.rate_limited(now, d);
  if (!was_shrunk) {
    spdlog::warn(
        "API budget halved to {} requests per 5 minutes after a 429 answer (another client "
        "shares the limit); all requests wait {}, full budget again 5m after that",
        budget_.window_limit(now), format_duration(d));
  }
}

RateLimiter::Usage RateLimiter::usage() const {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.monotonic();
  return {budget_.in_window(now), budget_.window_limit(now)};
}

}  // namespace orc
