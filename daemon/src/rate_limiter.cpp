#include "rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace orc {

TokenBucket::TokenBucket(double rate, double burst, MonoTime now)
    : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

void TokenBucket::refill(MonoTime now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

Millis TokenBucket::reserve(MonoTime now) {
  refill(now);
  // A pause moves the earliest send time; tokens keep counting from there.
  const MonoTime start = std::max(now, paused_until_);
  tokens_ -= 1.0;
  double wait_s = std::chrono::duration<double>(start - now).count();
  if (tokens_ < 0) wait_s += -tokens_ / rate_;
  return Millis{static_cast<Millis::rep>(std::ceil(wait_s * 1000.0))};
}

void TokenBucket::pause_until(MonoTime until) {
  paused_until_ = std::max(paused_until_, until);
  // Nothing accumulates while paused: the budget restarts empty, like the server's.
  tokens_ = std::min(tokens_, 0.0);
  last_ = std::max(last_, until);
}

RateLimiter::RateLimiter(double rate, const Clock& clock, Sleeper& sleeper)
    : bucket_(rate, rate, clock.monotonic()), clock_(clock), sleeper_(sleeper) {}

bool RateLimiter::acquire() {
  Millis wait;
  {
    std::lock_guard lock(mu_);
    wait = bucket_.reserve(clock_.monotonic());
  }
  if (wait.count() <= 0) return !sleeper_.stop_requested();
  return sleeper_.sleep_for(wait);
}

void RateLimiter::pause_for(Millis d) {
  std::lock_guard lock(mu_);
  bucket_.pause_until(clock_.monotonic() + d);
}

}  // namespace orc
