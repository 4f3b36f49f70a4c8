// The client-side request budget shared by every zone (cloudflare.requests_per_second and
// cloudflare.budget_headroom). RequestBudget is the pure arithmetic; RateLimiter adds the
// clock, the wait and a lock. Every request the daemon sends (retries, follow-up GETs, list
// pages, every zone) passes through the one RateLimiter in the request executor.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <stop_token>

#include "core/clock.h"
#include "core/duration.h"

namespace orc {

// Cloudflare's per-user limit: 1,200 requests in any sliding 5-minute window; past it every
// request of the user (every tool on the token) is refused for five minutes.
inline constexpr int kCloudflareWindowQuota = 1200;
inline constexpr std::chrono::seconds kBudgetWindow{300};
inline constexpr double kDefaultBudgetHeadroom = 0.05;

// The limits derived from the settings.
struct BudgetLimits {
  // Burst rule: at most `burst` starts in any half-open interval of `burst_span`. For a
  // whole-number rate r that is "r per second"; a fractional rate above 1 is rounded down
  // (2.5 allows 2 per second); a rate below 1 means one request every 1/r seconds.
  int burst = 1;
  std::chrono::nanoseconds burst_span{std::chrono::seconds(1)};
  // Window rule: at most `window_cap` starts in any half-open interval of kBudgetWindow:
  // min(r x 300, 1,200) less the headroom, rounded down, at least 1.
  int window_cap = 1;
};
BudgetLimits budget_limits(double requests_per_second, double headroom);

class RequestBudget {
 public:
  RequestBudget(double requests_per_second, double headroom);
  explicit RequestBudget(BudgetLimits limits);

  // Starts one request at `now` when both rules (and any pause) allow it, and counts it:
  // returns zero. Otherwise counts nothing and returns how long until the earliest moment a
  // start could be allowed (ask again then; another caller may have taken the slot).
  // `now` must not go backwards between calls.
  std::chrono::nanoseconds try_start(MonoTime now);

  // A 429 answer at `now` with this Retry-After: nothing starts before now + retry_after, and
  // from then until kBudgetWindow after the pause ends the window cap is halved (another client
  // is using the same budget). A later 429 extends both; the cap is not halved twice.
  void rate_limited(MonoTime now, std::chrono::nanoseconds retry_after);

  // Requests started in the window ending at `now`: (now - 300 s, now]. `now` no earlier than
  // the last try_start (older starts are forgotten).
  int in_window(MonoTime now) const;
  // The cap in force at `now` (halved after a 429).
  int window_limit(MonoTime now) const;
  bool shrunk(MonoTime now) const { return now < shrunk_until_; }
  const BudgetLimits& limits() const { return limits_; }

 private:
  void forget_old(MonoTime now);

  BudgetLimits limits_;
  std::deque<MonoTime> starts_;  // ascending; only as many as a rule can still look at
  MonoTime paused_until_{};
  MonoTime shrunk_until_{};
};

class RateLimiter {
 public:
  RateLimiter(double requests_per_second, const Clock& clock, Sleeper& sleeper,
              double headroom = kDefaultBudgetHeadroom);

  // Waits until the budget allows one more request and counts it; false when `stop` was
  // requested before or during the wait (nothing is sent then).
  bool acquire(std::stop_token stop);
  // A 429 answer: every caller waits `d` (the Retry-After), and the budget shrinks for the
  // following five minutes (RequestBudget::rate_limited).
  void pause_for(Millis d);

  struct Usage {
    int in_window = 0;  // requests started in the last 5 minutes
    int limit = 0;      // the cap in force now
  };
  Usage usage() const;

 private:
  mutable std::mutex mu_;
  RequestBudget budget_;
  const Clock& clock_;
  Sleeper& sleeper_;
};

}  // namespace orc
