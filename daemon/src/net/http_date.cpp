#include "net/http_date.h"

#include <algorithm>
#include <array>

#include "base/text.h"
#include "net/backoff.h"

namespace orc {

std::optional<std::chrono::system_clock::time_point> answer_time(const HttpResponse& response) {
  if (const std::string* date = response.header("date")) {
    if (const auto server_now = parse_http_date(*date)) return server_now;
  }
  return response.received_at;
}

namespace {

// Reads exactly `digits` decimal digits at text[pos], advancing pos.
bool read_number(std::string_view text, std::size_t& pos, std::size_t digits, int& out) {
  if (pos + digits > text.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += digits;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, std::string_view what) {
  if (text.substr(pos, what.size()) != what) return false;
  pos += what.size();
  return true;
}

bool read_month(std::string_view text, std::size_t& pos, int& month) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int m = 0; m < 12; ++m) {
    if (text.substr(pos, 3) == kMonths[m]) {
      pos += 3;
      month = m + 1;
      return true;
    }
  }
  return false;
}

// "HH:MM:SS"
bool read_clock(std::string_view text, std::size_t& pos, int& h, int& m, int& s) {
  return read_number(text, pos, 2, h) && expect(text, pos, ":") && read_number(text, pos, 2, m) &&
         expect(text, pos, ":") && read_number(text, pos, 2, s);
}

bool skip_day_name(std::string_view text, std::size_t& pos, bool long_form) {
  static constexpr std::string_view kShort[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kLong[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                               "Friday", "Saturday", "Sunday"};
  for (int d = 0; d < 7; ++d) {
    const std::string_view name = long_form ? kLong[d] : kShort[d];
    if (text.substr(pos, name.size()) == name) {
      pos += name.size();
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  text = trim_ows(text);
  int day = 0, month = 0, year = 0, h = 0, m = 0, s = 0;
  std::size_t pos = 0;
  bool ok = false;
  if (text.size() > 3 && text[3] == ',') {  // IMF-fixdate
    ok = skip_day_name(text, pos, false) && expect(text, pos, ", ") &&
         read_number(text, pos, 2, day) && expect(text, pos, " ") && read_month(text, pos, month) &&
         expect(text, pos, " ") && read_number(text, pos, 4, year) && expect(text, pos, " ") &&
         read_clock(text, pos, h, m, s) && expect(text, pos, " GMT");
  } else if (text.find(',') != std::string_view::npos) {  // RFC 850, two-digit year
    ok = skip_day_name(text, pos, true) && expect(text, pos, ", ") &&
         read_number(text, pos, 2, day) && expect(text, pos, "-") && read_month(text, pos, month) &&
         expect(text, pos, "-") && read_number(text, pos, 2, year) && expect(text, pos, " ") &&
         read_clock(text, pos, h, m, s) && expect(text, pos, " GMT");
    year += year < 70 ? 2000 : 1900;  // RFC 9110: a year more than 50 years ahead is the past
  } else {                            // asctime: "Sun Nov  6 08:49:37 1994"
    ok = skip_day_name(text, pos, false) && expect(text, pos, " ") &&
         read_month(text, pos, month) && expect(text, pos, " ");
    if (ok && pos < text.size() && text[pos] == ' ') {
      ++pos;
      ok = read_number(text, pos, 1, day);
    } else {
      ok = ok && read_number(text, pos, 2, day);
    }
    ok = ok && expect(text, pos, " ") && read_clock(text, pos, h, m, s) && expect(text, pos, " ") &&
         read_number(text, pos, 4, year);
  }
  if (!ok || pos != text.size()) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || h > 23 || m > 59 || s > 60) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits (years 1677 to 2262): a date outside this range
  // would overflow it, and none of them is a wait a server can mean.
  if (year < 1970 || year > 2200) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(h) + std::chrono::minutes(m) +
         std::chrono::seconds(s);
}

std::optional<Millis> retry_after_delay(
    std::string_view value, std::optional<std::chrono::system_clock::time_point> reference) {
  if (const auto seconds = parse_retry_after(value)) return seconds;
  const auto at = parse_http_date(value);
  if (!at || !reference) return std::nullopt;
  constexpr Millis kMax{3600 * 1000};
  if (*at <= *reference) return Millis{0};
  return std::min(kMax, std::chrono::duration_cast<Millis>(*at - *reference));
}

}  // namespace orc
