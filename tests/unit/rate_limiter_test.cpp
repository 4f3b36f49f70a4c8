#include "rate_limiter.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace orc {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucket, BurstThenOneTokenPerPeriod) {
  const MonoTime t0{std::chrono::hours(1)};
  TokenBucket bucket(4.0, 4.0, t0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bucket.reserve(t0).count(), 0) << i;
  // Tokens are reserved in order: the 5th waits 250ms, the 6th 500ms.
  EXPECT_EQ(bucket.reserve(t0).count(), 250);
  EXPECT_EQ(bucket.reserve(t0).count(), 500);
  // A second later four more tokens have come in, two of them already promised.
  EXPECT_EQ(bucket.reserve(t0 + milliseconds(1000)).count(), 0);
}

TEST(TokenBucket, RefillNeverExceedsBurst) {
  const MonoTime t0{std::chrono::hours(1)};
  TokenBucket bucket(2.0, 2.0, t0);
  const MonoTime later = t0 + std::chrono::minutes(10);
  EXPECT_EQ(bucket.reserve(later).count(), 0);
  EXPECT_EQ(bucket.reserve(later).count(), 0);
  EXPECT_EQ(bucket.reserve(later).count(), 500);
}

TEST(TokenBucket, PauseHoldsEveryoneUntilItEnds) {
  const MonoTime t0{std::chrono::hours(1)};
  TokenBucket bucket(4.0, 4.0, t0);
  bucket.pause_until(t0 + milliseconds(3000));
  EXPECT_GE(bucket.reserve(t0).count(), 3000);
  EXPECT_GE(bucket.reserve(t0 + milliseconds(1000)).count(), 2000);
}

TEST(RateLimiter, SleepsForTheReservedWaitAndStopsOnRequest) {
  testing::FakeClock clock;
  testing::FakeSleeper sleeper(clock);
  RateLimiter limiter(2.0, clock, sleeper);
  EXPECT_TRUE(limiter.acquire());
  EXPECT_TRUE(limiter.acquire());
  EXPECT_TRUE(sleeper.sleeps().empty());  // the burst
  EXPECT_TRUE(limiter.acquire());
  ASSERT_EQ(sleeper.sleeps().size(), 1u);
  EXPECT_EQ(sleeper.sleeps()[0].count(), 500);

  limiter.pause_for(milliseconds(5000));
  EXPECT_TRUE(limiter.acquire());
  EXPECT_GE(sleeper.sleeps().back().count(), 5000);

  sleeper.stop();
  EXPECT_FALSE(limiter.acquire());
}

}  // namespace
}  // namespace orc
