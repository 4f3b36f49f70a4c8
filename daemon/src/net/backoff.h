// Retry arithmetic: exponential backoff with full jitter, and Retry-After parsing.
// Pure: the random source is passed in, nothing sleeps here.
#pragma once

#include <optional>
#include <string_view>

#include "base/clock.h"
#include "base/duration.h"

namespace orc {

// How often and how patiently a failed request is tried again (reconcile.retry).
struct RetryPolicy {
  int max_attempts = 6;  // 1..20, counts the first try
  Millis initial_backoff{1000};
  Millis max_backoff{60000};  // >= initial_backoff
};

class Backoff {
 public:
  Backoff(Millis initial, Millis max) : initial_(initial), max_(max) {}

  // The ceiling before the n-th retry (n = 0 for the first retry): min(max, initial * 2^n).
  Millis ceiling(int retry_index) const;

  // Full jitter: a uniformly random delay in [0, ceiling(n)].
  Millis delay(int retry_index, RandomSource& random) const;

 private:
  Millis initial_;
  Millis max_;
};

// Retry-After in whole seconds ("120"). The HTTP-date form is not read here (nullopt): see
// retry_after_delay in http_date.h. Negative or malformed values are ignored too. Capped at one
// hour so a broken header cannot park the daemon for days.
std::optional<Millis> parse_retry_after(std::string_view value);

}  // namespace orc
