// The shutdown's grace on a fake clock: when the loop must wake up for it, and that the
// transfers are abandoned once it is over, once.
#include "service/shutdown_grace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.h"
#include "log_capture.h"

namespace orc {
namespace {

using std::chrono::seconds;

TEST(ShutdownGrace, NothingIsDueBeforeAStopIsRequested) {
  testing::FakeClock clock;
  std::stop_source abort;
  ShutdownGrace grace(clock, abort, seconds(5));
  const MonoTime next = clock.monotonic() + seconds(30);
  EXPECT_EQ(grace.wake_by(next), next);
  clock.advance(seconds(60));
  grace.enforce();
  EXPECT_FALSE(abort.stop_requested());
}

TEST(ShutdownGrace, TheFirstStopStartsItAndTheTransfersAreAbandonedWhenItEnds) {
  testing::LogCapture log;
  testing::FakeClock clock;
  std::stop_source abort;
  ShutdownGrace grace(clock, abort, seconds(5));
  const MonoTime stop_at = clock.monotonic();
  EXPECT_TRUE(grace.begin());
  clock.advance(seconds(2));
  EXPECT_FALSE(grace.begin()) << "a second SIGTERM does not restart the grace";
  EXPECT_EQ(grace.wake_by(clock.monotonic() + seconds(1)), clock.monotonic() + seconds(1));
  EXPECT_EQ(grace.wake_by(clock.monotonic() + seconds(30)), stop_at + seconds(5));

  clock.advance(std::chrono::milliseconds(2999));
  grace.enforce();
  EXPECT_FALSE(abort.stop_requested()) << "1 ms before the end of the grace";
  clock.advance(std::chrono::milliseconds(1));
  grace.enforce();
  EXPECT_TRUE(abort.stop_requested());
  grace.enforce();
  EXPECT_THAT(log.lines(), ::testing::ElementsAre(::testing::HasSubstr(
                               "shutdown: requests still running after 5s; abandoning them")));
}

}  // namespace
}  // namespace orc
