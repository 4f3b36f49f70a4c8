#include "base/duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace orc {
namespace {

struct ParseCase {
  const char* text;
  std::optional<long long> millis;  // nullopt: rejected
};

void PrintTo(const ParseCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class ParseDuration : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseDuration, MatchesTable) {
  const auto& c = GetParam();
  const auto got = parse_duration(c.text);
  if (!c.millis) {
    EXPECT_FALSE(got.has_value()) << "'" << c.text << "' -> " << got->count() << "ms";
  } else {
    ASSERT_TRUE(got.has_value()) << "'" << c.text << "'";
    EXPECT_EQ(got->count(), *c.millis) << "'" << c.text << "'";
  }
}

constexpr long long kMax = std::numeric_limits<Millis::rep>::max();

INSTANTIATE_TEST_SUITE_P(Units, ParseDuration,
                         ::testing::Values(ParseCase{"500ms", 500}, ParseCase{"1ms", 1},
                                           ParseCase{"30s", 30000}, ParseCase{"1s", 1000},
                                           ParseCase{"5m", 300000}, ParseCase{"1m", 60000},
                                           ParseCase{"1h", 3600000}, ParseCase{"24h", 86400000},
                                           ParseCase{"1500ms", 1500}, ParseCase{"90s", 90000},
                                           ParseCase{"007s", 7000}));

INSTANTIATE_TEST_SUITE_P(Zero, ParseDuration,
                         ::testing::Values(ParseCase{"0ms", 0}, ParseCase{"0s", 0},
                                           ParseCase{"0m", 0}, ParseCase{"0h", 0}));

// The largest values that still fit in a signed 64-bit count of milliseconds, and one past.
INSTANTIATE_TEST_SUITE_P(Overflow, ParseDuration,
                         ::testing::Values(ParseCase{"9223372036854775807ms", kMax},
                                           ParseCase{"9223372036854775808ms", std::nullopt},
                                           ParseCase{"9223372036854775s", 9223372036854775000LL},
                                           ParseCase{"9223372036854776s", std::nullopt},
                                           ParseCase{"153722867280912m", 153722867280912LL * 60000},
                                           ParseCase{"153722867280913m", std::nullopt},
                                           ParseCase{"2562047788015h", 2562047788015LL * 3600000},
                                           ParseCase{"2562047788016h", std::nullopt},
                                           ParseCase{"99999999999999999999h", std::nullopt},
                                           ParseCase{"99999999999999999999ms", std::nullopt}));

INSTANTIATE_TEST_SUITE_P(
    Garbage, ParseDuration,
    ::testing::Values(ParseCase{"", std::nullopt}, ParseCase{"10", std::nullopt},
                      ParseCase{"s", std::nullopt}, ParseCase{"ms", std::nullopt},
                      ParseCase{"1.5s", std::nullopt}, ParseCase{"-1s", std::nullopt},
                      ParseCase{"+1s", std::nullopt}, ParseCase{"1m30s", std::nullopt},
                      ParseCase{" 1s", std::nullopt}, ParseCase{"1s ", std::nullopt},
                      ParseCase{"1 s", std::nullopt}, ParseCase{"1S", std::nullopt},
                      ParseCase{"1H", std::nullopt}, ParseCase{"1d", std::nullopt},
                      ParseCase{"1us", std::nullopt}, ParseCase{"1sec", std::nullopt},
                      ParseCase{"1msx", std::nullopt}, ParseCase{"0x10s", std::nullopt},
                      ParseCase{"1e3ms", std::nullopt}, ParseCase{"30 seconds", std::nullopt},
                      ParseCase{"1_000ms", std::nullopt}, ParseCase{"\xd9\xa1s", std::nullopt}));

TEST(ParseDuration, RejectsEmbeddedNul) {
  EXPECT_FALSE(parse_duration(std::string_view("1s\0", 3)).has_value());
  EXPECT_FALSE(parse_duration(std::string_view("1\0s", 3)).has_value());
}

struct FormatCase {
  long long millis;
  const char* text;
};

void PrintTo(const FormatCase& c, std::ostream* os) {
  *os << c.millis << "ms";
}

class FormatDuration : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatDuration, ShortestExactForm) {
  const auto& c = GetParam();
  EXPECT_EQ(format_duration(Millis{c.millis}), c.text);
}

INSTANTIATE_TEST_SUITE_P(Table, FormatDuration,
                         ::testing::Values(FormatCase{0, "0s"}, FormatCase{1, "1ms"},
                                           FormatCase{999, "999ms"}, FormatCase{1000, "1s"},
                                           FormatCase{1500, "1500ms"}, FormatCase{59000, "59s"},
                                           FormatCase{60000, "1m"}, FormatCase{90000, "90s"},
                                           FormatCase{3540000, "59m"}, FormatCase{3600000, "1h"},
                                           FormatCase{5400000, "90m"}, FormatCase{86400000, "24h"},
                                           FormatCase{3600001, "3600001ms"},
                                           FormatCase{kMax, "9223372036854775807ms"}));

// format_duration's output always parses back to the same value.
TEST(FormatDuration, RoundTripsThroughParse) {
  for (long long ms : {0LL, 1LL, 999LL, 1000LL, 1001LL, 60000LL, 61000LL, 3600000LL, 7200000LL,
                       86400000LL, 123456789LL, kMax}) {
    const std::string text = format_duration(Millis{ms});
    const auto back = parse_duration(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(back->count(), ms) << text;
  }
}

}  // namespace
}  // namespace orc
