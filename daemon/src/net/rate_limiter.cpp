#include "net/rate_limiter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace orc {

using std::chrono::nanoseconds;

BudgetLimits budget_limits(double requests_per_second, double headroom) {
  BudgetLimits l;
  if (requests_per_second == 0) {  // no client-side budget (benchmarks on loopback only)
    l.burst = kUnlimited;
    l.window_cap = kUnlimited;
    l.headroom = headroom;
    return l;
  }
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
  l.headroom = headroom;
  return l;
}

RequestBudget::RequestBudget(double requests_per_second, double headroom)
    : RequestBudget(budget_limits(requests_per_second, headroom)) {}

RequestBudget::RequestBudget(BudgetLimits limits) : limits_(limits) {}

void RequestBudget::forget_old(MonoTime now) {
  // A start older than both spans no longer limits anything; beyond the larger count no rule
  // looks back further.
  nanoseconds longest = std::max<nanoseconds>(kBudgetWindow, limits_.burst_span);
  int most = std::max(limits_.burst, limits_.window_cap);
  if (shared_ && now >= shared_->sent + shared_->use.window) shared_.reset();
  if (shared_) {
    longest = std::max(longest, shared_->use.window);
    most = std::max(most, shared_->use.quota);
  }
  while (!starts_.empty() && starts_.front() + longest <= now) starts_.pop_front();
  const auto keep = static_cast<std::size_t>(most);
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
  // The server's window, shared with other clients (observe()).
  bool probe = false;
  if (const auto next = shared_block(now)) {
    probe = *next == shared_->probe_at && shared_->probe_at <= now;
    earliest = std::max(earliest, *next);
  }
  if (earliest > now) return earliest - now;
  // The probe's answer brings new numbers; without one, ask again after the longest wait.
  if (probe) shared_->probe_at = now + kMaxAnnouncedWait;
  if (!first_start_) first_start_ = now;
  starts_.push_back(now);
  return nanoseconds::zero();
}

std::optional<MonoTime> RequestBudget::shared_block(MonoTime now) const {
  if (!shared_ || now >= shared_->sent + shared_->use.window) return std::nullopt;
  if (in_span(now, shared_->use.window) < shared_->use.cap) return std::nullopt;
  const int c = shared_->use.cap;
  MonoTime free_at = MonoTime::max();  // enough of this client's own starts have left
  if (c > 0) free_at = starts_[starts_.size() - static_cast<std::size_t>(c)] + shared_->use.window;
  const MonoTime expires = shared_->sent + shared_->use.window;
  return std::min({free_at, expires, shared_->probe_at});
}

std::optional<RequestBudget::AnnouncedWait> RequestBudget::announced_wait(MonoTime now) const {
  std::optional<AnnouncedWait> out;
  if (paused_until_ > now) out = AnnouncedWait{paused_until_, false};
  if (const auto next = shared_block(now); next && *next > now && (!out || *next > out->until)) {
    out = AnnouncedWait{*next, true};
  }
  return out;
}

int RequestBudget::in_span(MonoTime now, nanoseconds span) const {
  const auto first = std::upper_bound(starts_.begin(), starts_.end(), now - span);
  const auto last = std::upper_bound(first, starts_.end(), now);
  return static_cast<int>(last - first);
}

void RequestBudget::observe(MonoTime sent, MonoTime answered, const ServerBudget& server) {
  if (shared_ && sent < shared_->sent) return;  // an older answer than the one in force
  server_remaining_ = server.remaining;
  if (limits_.window_cap == kUnlimited) return;  // no client-side budget at all
  SharedUse use;
  use.quota = server.quota.value_or(kCloudflareWindowQuota);
  use.window = server.window.value_or(kBudgetWindow);
  // What the server counted that this client did not start: another client's requests.
  const int counted = use.quota - server.remaining;
  use.others = std::max(0, counted - in_span(sent, use.window));
  use.others_at_least = std::max(0, counted - in_span(std::max(sent, answered), use.window));
  use.cap = static_cast<int>(std::floor(use.quota * (1.0 - limits_.headroom) + 1e-6)) - use.others;
  // Requests the server still counts from before this client's first start can be its own
  // earlier process's. They are at most what any answer since showed beyond the own starts
  // (they only leave the window), and all have left one server window after that start.
  if (first_start_ && answered < *first_start_ + use.window) {
    before_start_ = std::min(before_start_.value_or(use.others), use.others);
    use.before_start = std::min(use.others_at_least, *before_start_);
  }
  Shared s;
  s.sent = sent;
  s.answered = std::max(sent, answered);
  s.server = server;
  s.use = use;
  const nanoseconds reset =
      server.reset.value_or(std::chrono::duration_cast<std::chrono::seconds>(use.window));
  // The server's reset counts from its answer, which came no later than it was read. One
  // further away than a Retry-After may be (a day, say) is asked about again after an hour:
  // the answer to that one request brings the server's numbers as they are then.
  s.probe_at =
      s.answered + std::clamp<nanoseconds>(reset, std::chrono::seconds(1), kMaxAnnouncedWait);
  shared_ = s;
}

std::optional<SavedBudget> RequestBudget::saved(MonoTime now, WallTime wall) const {
  const auto at_wall = [&](MonoTime t) {
    return wall + std::chrono::duration_cast<WallTime::duration>(t - now);
  };
  SavedBudget out;
  if (shared_ && shared_block(now)) {
    out.answer = SavedBudget::Answer{at_wall(shared_->answered), shared_->server};
  }
  if (paused_until_ > now) out.paused_until = at_wall(paused_until_);
  if (!out.answer && !out.paused_until) return std::nullopt;
  return out;
}

void RequestBudget::restore(MonoTime now, WallTime wall, const SavedBudget& saved) {
  if (saved.answer) {
    // An answer from the future (a clock set back since, or a file not written here) came now.
    const auto age = std::max(wall - saved.answer->at, WallTime::duration::zero());
    // One a whole server window old is over: everything it counted has left the window.
    if (age < saved.answer->server.window.value_or(kBudgetWindow)) {
      const MonoTime at = now - std::chrono::duration_cast<nanoseconds>(age);
      observe(at, at, saved.answer->server);
    }
  }
  if (saved.paused_until && *saved.paused_until > wall) {
    rate_limited(now, std::min<nanoseconds>(*saved.paused_until - wall, kMaxAnnouncedWait));
  }
}

std::optional<RequestBudget::SharedUse> RequestBudget::shared(MonoTime now) const {
  if (!shared_ || now >= shared_->sent + shared_->use.window) return std::nullopt;
  return shared_->use;
}

void RequestBudget::rate_limited(MonoTime now, nanoseconds retry_after) {
  paused_until_ = std::max(paused_until_, now + std::max(retry_after, nanoseconds::zero()));
  shrunk_until_ = std::max(shrunk_until_, paused_until_ + kBudgetWindow);
}

int RequestBudget::in_window(MonoTime now) const {
  // A start at s counts in [s, s + 300 s), as on Cloudflare's side.
  return in_span(now, kBudgetWindow);
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
    std::optional<RequestBudget::AnnouncedWait> announced;
    std::function<void(MonoTime)> tell;
    {
      std::lock_guard lock(mu_);
      announced = budget_.announced_wait(clock_.monotonic());
      tell = on_announced_wait_;
    }
    if (announced && tell) tell(announced->until);
    // Several callers may wake for the same slot: the others ask again and wait on.
    if (!sleeper_.sleep_for(std::chrono::ceil<Millis>(wait), stop)) return false;
  }
}

void RateLimiter::pause_for(Millis d) {
  decltype(saved_change()) change;
  {
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
    change = saved_change();
  }
  if (change) change->first(change->second);
}

auto RateLimiter::saved_change() -> std::optional<
    std::pair<std::function<void(const std::optional<SavedBudget>&)>, std::optional<SavedBudget>>> {
  if (!on_saved_) return std::nullopt;
  std::optional<SavedBudget> now = budget_.saved(clock_.monotonic(), clock_.wall());
  if (now == last_saved_) return std::nullopt;
  last_saved_ = now;
  return std::pair{on_saved_, std::move(now)};
}

void RateLimiter::restore(const SavedBudget& saved) {
  std::lock_guard lock(mu_);
  budget_.restore(clock_.monotonic(), clock_.wall(), saved);
  last_saved_ = budget_.saved(clock_.monotonic(), clock_.wall());
}

void RateLimiter::on_saved_budget(std::function<void(const std::optional<SavedBudget>&)> callback) {
  std::lock_guard lock(mu_);
  on_saved_ = std::move(callback);
}

void RateLimiter::observe(MonoTime sent, const std::optional<ServerBudget>& server) {
  if (!server) return;
  decltype(saved_change()) change;
  {
    std::lock_guard lock(mu_);
    observe_locked(sent, *server);
    change = saved_change();
  }
  if (change) change->first(change->second);
}

void RateLimiter::observe_locked(MonoTime sent, const ServerBudget& server) {
  const MonoTime now = clock_.monotonic();
  budget_.observe(sent, now, server);
  const auto use = budget_.shared(now);
  if (!use) return;
  // Counted before this start: maybe this daemon's own earlier process; said once, not blamed.
  if (use->before_start * 100 > use->quota && !earlier_logged_) {
    earlier_logged_ = true;
    spdlog::info(
        "API budget: Cloudflare counts {} requests sent before this start in its {} window (this "
        "daemon's earlier run, or another client); they are taken off this run's budget until "
        "they have left it, at the latest {} after the first request",
        use->before_start, format_duration(std::chrono::duration_cast<Millis>(use->window)),
        format_duration(std::chrono::duration_cast<Millis>(use->window)));
  }
  // Noticeable: more than 1 % of the quota (12 of Cloudflare's 1,200) is certainly not ours,
  // nor from before this start.
  const int others = use->others_at_least - use->before_start;
  const bool sharing = others * 100 > use->quota;
  if (sharing && !sharing_logged_) {
    spdlog::warn(
        "another client is using this API user's budget: Cloudflare reports {} of {} requests "
        "left in its {} window, at least {} of them sent by others; this daemon now starts at most "
        "{} requests in any {} so that together they stay under the limit",
        server.remaining, use->quota,
        format_duration(std::chrono::duration_cast<Millis>(use->window)), others,
        std::max(0, use->cap), format_duration(std::chrono::duration_cast<Millis>(use->window)));
  } else if (!sharing && sharing_logged_ && others == 0) {
    spdlog::info("API budget: no other client's requests in Cloudflare's window any more");
  }
  if (sharing) sharing_logged_ = true;
  if (others == 0) sharing_logged_ = false;
}

std::optional<RequestBudget::AnnouncedWait> RateLimiter::announced_wait() const {
  std::lock_guard lock(mu_);
  return budget_.announced_wait(clock_.monotonic());
}

void RateLimiter::on_announced_wait(std::function<void(MonoTime until)> callback) {
  std::lock_guard lock(mu_);
  on_announced_wait_ = std::move(callback);
}

RateLimiter::Usage RateLimiter::usage() const {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.monotonic();
  return {budget_.in_window(now), budget_.window_limit(now), budget_.server_remaining()};
}

}  // namespace orc
