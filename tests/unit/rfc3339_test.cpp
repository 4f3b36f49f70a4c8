#include "base/rfc3339.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "model/plan_file.h"

namespace orc {
namespace {

using namespace std::chrono;

WallTime utc(const char* text) {
  const auto t = parse_utc(text);
  EXPECT_TRUE(t) << text;
  return t.value_or(WallTime{});
}

// The instant a text names, or the error's message prefixed with "error: ".
std::string error_of(std::string_view text) {
  const auto t = parse_rfc3339(text);
  return t.ok() ? "parsed" : "error: " + t.error().message;
}

TEST(ParseRfc3339, UtcWithZ) {
  const auto t = parse_rfc3339("2026-12-24T00:00:00Z");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, utc("2026-12-24T00:00:00Z"));
}

TEST(ParseRfc3339, NumericOffsetsAreTheInstantTheyName) {
  const auto plus = parse_rfc3339("2026-12-24T01:00:00+01:00");
  ASSERT_TRUE(plus.ok()) << plus.error().message;
  EXPECT_EQ(*plus, utc("2026-12-24T00:00:00Z"));
  const auto minus = parse_rfc3339("2026-12-23T18:30:00-05:30");
  ASSERT_TRUE(minus.ok()) << minus.error().message;
  EXPECT_EQ(*minus, utc("2026-12-24T00:00:00Z"));
  // Across a day, a month and a year.
  const auto across = parse_rfc3339("2027-01-01T00:30:00+02:00");
  ASSERT_TRUE(across.ok());
  EXPECT_EQ(*across, utc("2026-12-31T22:30:00Z"));
  // -00:00 ("the offset is unknown") and +00:00 are UTC.
  EXPECT_EQ(*parse_rfc3339("2026-12-24T00:00:00-00:00"), utc("2026-12-24T00:00:00Z"));
  EXPECT_EQ(*parse_rfc3339("2026-12-24T00:00:00+00:00"), utc("2026-12-24T00:00:00Z"));
  EXPECT_EQ(*parse_rfc3339("2026-12-24T00:00:00+23:59"),
            utc("2026-12-24T00:00:00Z") - hours(23) - minutes(59));
}

TEST(ParseRfc3339, FractionalSecondsToTheNanosecond) {
  const WallTime base = utc("2026-12-24T00:00:00Z");
  EXPECT_EQ(*parse_rfc3339("2026-12-24T00:00:00.5Z"), base + milliseconds(500));
  EXPECT_EQ(*parse_rfc3339("2026-12-24T00:00:00.000001Z"), base + microseconds(1));
  EXPECT_EQ(*parse_rfc3339("2026-12-24T00:00:00.123456789Z"), base + nanoseconds(123456789));
  EXPECT_EQ(*parse_rfc3339("2026-12-24T01:00:00.25+01:00"), base + milliseconds(250));
}

TEST(ParseRfc3339, LowerCaseTAndZAsTheRfcAllows) {
  EXPECT_EQ(*parse_rfc3339("2026-12-24t00:00:00z"), utc("2026-12-24T00:00:00Z"));
}

TEST(ParseRfc3339, EachMistakeSaysWhatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"tomorrow", "error: the date must be YYYY-MM-DD"},
      {"", "error: the date must be YYYY-MM-DD"},
      {"2026/12/24T00:00:00Z", "error: the date must be YYYY-MM-DD"},
      {"26-12-24T00:00:00Z", "error: the date must be YYYY-MM-DD"},
      {"2026-12-24", "error: a date alone is not a time: add the time, as in T00:00:00Z"},
      {"2026-12-24 00:00:00Z",
       "error: the date and the time must be separated by 'T' (got 'a "
       "space')"},
      {"2026-12-24_00:00:00Z", "error: the date and the time must be separated by 'T' (got '_')"},
      {"2026-13-01T00:00:00Z", "error: month 13 is not 01 to 12"},
      {"2026-00-01T00:00:00Z", "error: month 00 is not 01 to 12"},
      {"2026-04-31T00:00:00Z", "error: day 31 is not a day of 2026-04"},
      {"2026-02-29T00:00:00Z", "error: day 29 is not a day of 2026-02"},
      {"2026-12-00T00:00:00Z", "error: day 00 is not a day of 2026-12"},
      {"1969-12-31T23:59:59Z", "error: year 1969 is not 1970 to 2200"},
      {"2201-01-01T00:00:00Z", "error: year 2201 is not 1970 to 2200"},
      {"2026-12-24T00:00Z", "error: the time must be HH:MM:SS"},
      {"2026-12-24T0:00:00Z", "error: the time must be HH:MM:SS"},
      {"2026-12-24T24:00:00Z", "error: hour 24 is not 00 to 23"},
      {"2026-12-24T00:60:00Z", "error: minute 60 is not 00 to 59"},
      {"2026-12-31T23:59:60Z", "error: a leap second (:60) cannot be used here: write :59"},
      {"2026-12-24T00:00:61Z", "error: second 61 is not 00 to 59"},
      {"2026-12-24T00:00:00.Z", "error: fractional seconds need a digit after '.'"},
      {"2026-12-24T00:00:00.1234567891Z", "error: at most 9 fractional digits (nanoseconds)"},
      {"2026-12-24T00:00:00",
       "error: the time zone is missing: end with Z (UTC) or an offset like +01:00"},
      {"2026-12-24T00:00:00.5",
       "error: the time zone is missing: end with Z (UTC) or an offset like +01:00"},
      {"2026-12-24T00:00:00+0100",
       "error: the offset must be +HH:MM or -HH:MM, as in +01:00 or -05:30"},
      {"2026-12-24T00:00:00+01",
       "error: the offset must be +HH:MM or -HH:MM, as in +01:00 or "
       "-05:30"},
      {"2026-12-24T00:00:00+1:00",
       "error: the offset must be +HH:MM or -HH:MM, as in +01:00 or "
       "-05:30"},
      {"2026-12-24T00:00:00+24:00",
       "error: the offset +24:00 is out of range (hours 00 to 23, minutes 00 to 59)"},
      {"2026-12-24T00:00:00-05:60",
       "error: the offset -05:60 is out of range (hours 00 to 23, minutes 00 to 59)"},
      {"2026-12-24T00:00:00 UTC",
       "error: the time zone must be Z (UTC) or an offset like +01:00 (got ' ')"},
      {"2026-12-24T00:00:00CET",
       "error: the time zone must be Z (UTC) or an offset like +01:00 (got 'C')"},
      {"2026-12-24T00:00:00ZZ", "error: unexpected text after the time zone"},
      {"2026-12-24T00:00:00+01:00 ", "error: unexpected text after the time zone"},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(error_of(text), expected) << text;
  }
}

TEST(ParseRfc3339, TheYearsAtTheEdgesAreTimes) {
  EXPECT_TRUE(parse_rfc3339("1970-01-01T00:00:00Z").ok());
  EXPECT_TRUE(parse_rfc3339("2200-12-31T23:59:59.999999999Z").ok());
  EXPECT_TRUE(parse_rfc3339("2028-02-29T00:00:00Z").ok()) << "a leap year's 29 February";
}

}  // namespace
}  // namespace orc
