// Times in HTTP answers: HTTP-dates, the time an answer speaks of, and Retry-After.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "base/duration.h"
#include "net/http.h"

namespace orc {

// An HTTP-date (RFC 9110 5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the
// obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37
// 1994") forms. nullopt for anything else, including impossible dates and years outside
// 1970..2200 (the clock's nanoseconds overflow past 2262).
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

// The time an answer speaks of: its own Date header when it has a valid one (so a skewed local
// clock does not matter), else when it arrived (HttpResponse::received_at), else nullopt. The
// reference for a Retry-After or rate-limit reset given as a time.
std::optional<std::chrono::system_clock::time_point> answer_time(const HttpResponse& response);

// The wait a Retry-After header asks for: delay-seconds ("120"), or an HTTP-date measured from
// `reference` (the answer's own Date header when it has one, so a skewed local clock does not
// matter; else the time the answer arrived). A date in the past means no wait; an HTTP-date
// without any reference, or anything malformed, is ignored (nullopt). Capped at one hour.
std::optional<Millis> retry_after_delay(
    std::string_view value, std::optional<std::chrono::system_clock::time_point> reference);

}  // namespace orc
