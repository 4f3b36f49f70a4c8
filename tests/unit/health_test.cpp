#include "status/health.h"

#include <gtest/gtest.h>

namespace orc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const MonoTime kT0{std::chrono::hours(5)};

TEST(Health, HealthyUntilTheStallThresholdPasses) {
  Health h(seconds(60), kT0);
  EXPECT_TRUE(h.healthy(kT0));
  EXPECT_TRUE(h.healthy(kT0 + seconds(60)));
  EXPECT_FALSE(h.healthy(kT0 + seconds(60) + milliseconds(1)));
}

TEST(Health, ProgressMovesTheDeadline) {
  Health h(seconds(60), kT0);
  h.progress(kT0 + seconds(50));
  EXPECT_TRUE(h.healthy(kT0 + seconds(100)));
  EXPECT_FALSE(h.healthy(kT0 + seconds(111)));
  EXPECT_EQ(h.since_progress(kT0 + seconds(80)), seconds(30));
  h.progress(kT0 + seconds(10));  // late reports never move it back
  EXPECT_TRUE(h.healthy(kT0 + seconds(100)));
}

TEST(Health, AnnouncedQuietPeriodIsNotAStall) {
  Health h(seconds(60), kT0);
  // A 5-minute Retry-After: nothing happens, on purpose.
  h.quiet_until(kT0 + seconds(300));
  EXPECT_TRUE(h.healthy(kT0 + seconds(359)));
  EXPECT_FALSE(h.healthy(kT0 + seconds(361)));
}

}  // namespace
}  // namespace orc
