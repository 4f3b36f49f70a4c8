// Times people write in the desired state and the configuration (a suspension's `until`):
// RFC 3339 date-times, in UTC or with a numeric offset, with or without fractional seconds.
#pragma once

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace orc {

// Years a written time may name: the clock holds nanoseconds since 1970 in 64 bits (1677 to
// 2262), so a year outside these could not be represented and would wrap.
inline constexpr int kRfc3339FirstYear = 1970;
inline constexpr int kRfc3339LastYear = 2200;

// "2026-12-24T00:00:00Z", "2026-12-24T01:00:00+01:00", "2026-12-23T18:30:00.5-05:30": the
// instant an RFC 3339 date-time names (section 5.6: full-date "T" full-time), to the
// nanosecond. "t" and "z" may be lower case, as the RFC allows; "-00:00" is UTC. Anything else
// is an Error whose message says what is wrong, e.g. "month 13 is not 01 to 12" or "the time
// zone is missing: end with Z (UTC) or an offset like +01:00"; callers add the key and value.
// Not accepted: a date alone, a space for "T", more than 9 fractional digits, a leap second
// (:60), offsets without a colon (+0100).
StatusOr<WallTime> parse_rfc3339(std::string_view text);

// `t` as "2026-12-02T01:30:00Z": UTC, whole seconds (the seconds below are dropped), the form
// plan documents and Kubernetes' metav1.Time write.
std::string format_utc(WallTime t);

// What a value must be, for messages: "an RFC 3339 time like 2026-12-24T00:00:00Z or
// 2026-12-24T01:00:00+01:00".
inline constexpr std::string_view kRfc3339Example =
    "an RFC 3339 time like 2026-12-24T00:00:00Z or 2026-12-24T01:00:00+01:00";

}  // namespace orc
