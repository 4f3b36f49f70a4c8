#include "net/backoff.h"

#include <gtest/gtest.h>

#include <optional>
#include <utility>
#include <vector>

#include "fakes.h"

namespace orc {
namespace {

using std::chrono::milliseconds;
using testing::FixedRandom;

TEST(Backoff, CeilingDoublesUntilTheCap) {
  const Backoff b(milliseconds(1000), milliseconds(60000));
  const std::vector<long> expected{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (std::size_t n = 0; n < expected.size(); ++n) {
    EXPECT_EQ(b.ceiling(static_cast<int>(n)).count(), expected[n]) << "retry " << n;
  }
  EXPECT_EQ(b.ceiling(1000).count(), 60000);  // no overflow far past the cap
}

TEST(Backoff, FullJitterScalesTheCeilingByTheRandomValue) {
  const Backoff b(milliseconds(1000), milliseconds(60000));
  FixedRandom zero(0.0);
  FixedRandom half(0.5);
  FixedRandom almost_one(0.999);
  EXPECT_EQ(b.delay(0, zero).count(), 0);
  EXPECT_EQ(b.delay(0, half).count(), 500);
  EXPECT_EQ(b.delay(3, half).count(), 4000);
  EXPECT_EQ(b.delay(10, half).count(), 30000);  // half of the cap
  EXPECT_EQ(b.delay(10, almost_one).count(), 59940);
}

TEST(Backoff, CapBelowInitialIsTheCap) {
  const Backoff b(milliseconds(500), milliseconds(500));
  EXPECT_EQ(b.ceiling(0).count(), 500);
  EXPECT_EQ(b.ceiling(5).count(), 500);
}

TEST(RetryAfter, WholeSecondsOnly) {
  const std::vector<std::pair<const char*, std::optional<milliseconds>>> cases = {
      {"1", milliseconds(1000)},
      {" 30 ", milliseconds(30000)},
      {"0", milliseconds(0)},
      {"86400", milliseconds(3600 * 1000)},  // capped at an hour
      {"", std::nullopt},
      {"-1", std::nullopt},
      {"1.5", std::nullopt},
      {"Wed, 21 Oct 2015 07:28:00 GMT", std::nullopt},
      {"99999999999999999999999", std::nullopt},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(parse_retry_after(text), expected) << "Retry-After: '" << text << "'";
  }
}

}  // namespace
}  // namespace orc
