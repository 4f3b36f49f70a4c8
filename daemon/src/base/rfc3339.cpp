#include "base/rfc3339.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

namespace orc {

namespace {

// `len` digits at `at`, or nullopt when any of them is not a digit (or the text ends).
std::optional<int> digits(std::string_view s, std::size_t at, std::size_t len) {
  if (at + len > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = at; i < at + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::string two(int v) {
  return (v < 10 ? "0" : "") + std::to_string(v);
}

}  // namespace

StatusOr<WallTime> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  // full-date: YYYY-MM-DD
  const auto y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-') {
    return Error{"the date must be YYYY-MM-DD"};
  }
  if (*y < kRfc3339FirstYear || *y > kRfc3339LastYear) {
    return Error{"year " + std::to_string(*y) + " is not " + std::to_string(kRfc3339FirstYear) +
                 " to " + std::to_string(kRfc3339LastYear)};
  }
  if (*mo < 1 || *mo > 12) return Error{"month " + two(*mo) + " is not 01 to 12"};
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) {
    return Error{"day " + two(*d) + " is not a day of " + std::to_string(*y) + "-" + two(*mo)};
  }
  if (s.size() == 10) return Error{"a date alone is not a time: add the time, as in T00:00:00Z"};
  if (s[10] != 'T' && s[10] != 't') {
    return Error{"the date and the time must be separated by 'T' (got '" +
                 (s[10] == ' ' ? std::string("a space") : std::string(1, s[10])) + "')"};
  }
  // partial-time: HH:MM:SS[.fraction]
  const auto h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (!h || !mi || !se || s[13] != ':' || s[16] != ':') {
    return Error{"the time must be HH:MM:SS"};
  }
  if (*h > 23) return Error{"hour " + two(*h) + " is not 00 to 23"};
  if (*mi > 59) return Error{"minute " + two(*mi) + " is not 00 to 59"};
  if (*se == 60) return Error{"a leap second (:60) cannot be used here: write :59"};
  if (*se > 59) return Error{"second " + two(*se) + " is not 00 to 59"};
  std::size_t at = 19;
  nanoseconds fraction{0};
  if (at < s.size() && s[at] == '.') {
    ++at;
    std::size_t n = 0;
    long long ns = 0;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      if (++n > 9) return Error{"at most 9 fractional digits (nanoseconds)"};
      ns = ns * 10 + (s[at] - '0');
      ++at;
    }
    if (n == 0) return Error{"fractional seconds need a digit after '.'"};
    for (std::size_t i = n; i < 9; ++i) ns *= 10;
    fraction = nanoseconds(ns);
  }
  // time-offset: Z, or +HH:MM / -HH:MM
  if (at == s.size()) {
    return Error{"the time zone is missing: end with Z (UTC) or an offset like +01:00"};
  }
  minutes offset{0};
  if (s[at] == 'Z' || s[at] == 'z') {
    ++at;
  } else if (s[at] == '+' || s[at] == '-') {
    const auto oh = digits(s, at + 1, 2), om = digits(s, at + 4, 2);
    if (!oh || !om || s[at + 3] != ':') {
      return Error{"the offset must be +HH:MM or -HH:MM, as in +01:00 or -05:30"};
    }
    if (*oh > 23 || *om > 59) {
      return Error{"the offset " + std::string(s.substr(at, 6)) +
                   " is out of range (hours 00 to 23, minutes 00 to 59)"};
    }
    offset = minutes((s[at] == '-' ? -1 : 1) * (*oh * 60 + *om));
    at += 6;
  } else {
    return Error{"the time zone must be Z (UTC) or an offset like +01:00 (got '" +
                 std::string(s.substr(at, 1)) + "')"};
  }
  if (at != s.size()) return Error{"unexpected text after the time zone"};
  // The local time named, less its offset, is the instant in UTC.
  const auto local = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*se};
  return time_point_cast<WallTime::duration>(local - offset + fraction);
}

std::string format_utc(WallTime t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace orc
