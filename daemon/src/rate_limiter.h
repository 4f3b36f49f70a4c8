// The client-side request budget shared by every zone (cloudflare.requests_per_second).
// TokenBucket is the pure arithmetic; RateLimiter adds the clock, the wait and a lock.
#pragma once

#include <mutex>

#include "clock.h"
#include "duration.h"

namespace orc {

class TokenBucket {
 public:
  // `rate` tokens per second, holding at most `burst` tokens; starts full.
  TokenBucket(double rate, double burst, MonoTime now);

  // Takes one token. Returns how long the caller must wait before sending (zero when a token
  // was available). Tokens are reserved in order, so concurrent callers queue up fairly.
  Millis reserve(MonoTime now);

  // Nothing may be sent before `until` (a 429's Retry-After applies to every caller,
  // because Cloudflare's limit is per user, not per zone).
  void pause_until(MonoTime until);

 private:
  void refill(MonoTime now);

  double rate_;
  double burst_;
  double tokens_;
  MonoTime last_;
  MonoTime paused_until_{};
};

class RateLimiter {
 public:
  RateLimiter(double rate, const Clock& clock, Sleeper& sleeper);

  // Waits for a token; false when a stop request cut the wait short.
  bool acquire();
  void pause_for(Millis d);

 private:
  std::mutex mu_;
  TokenBucket bucket_;
  const Clock& clock_;
  Sleeper& sleeper_;
};

}  // namespace orc
