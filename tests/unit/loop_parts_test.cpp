// The service loop's parts on their own, on a fake clock: the shutdown's grace (when the loop
// must wake up for it, the transfers abandoned once it is over), the watchdog (how long the loop
// may wait, when it pings) and the status view (what /healthz says). DesiredStateSource and
// Wakeup have desired_state_source_test.cpp; the loop as a whole, service_loop_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes.h"
#include "log_capture.h"
#include "service/shutdown_grace.h"
#include "service/status_view.h"
#include "service/watchdog.h"

namespace orc {
namespace {

using std::chrono::milliseconds;
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

// A notifier whose watchdog interval is set by the test; it counts the pings.
class PingCounter final : public ServiceNotifier {
 public:
  explicit PingCounter(std::optional<std::chrono::microseconds> interval) : interval_(interval) {}
  void ready() override {}
  void reloading() override {}
  void stopping() override {}
  void status(const std::string&) override {}
  void watchdog() override { ++pings; }
  void extend_timeout(std::chrono::microseconds) override {}
  std::optional<std::chrono::microseconds> watchdog_interval() const override { return interval_; }
  int pings = 0;

 private:
  std::optional<std::chrono::microseconds> interval_;
};

TEST(Watchdog, WithoutAWatchdogTheLoopWaitsItsPollStepAndNeverPings) {
  testing::FakeClock clock;
  Health health(seconds(300), clock.monotonic());
  PingCounter notifier(std::nullopt);
  Watchdog watchdog(notifier, health, clock, seconds(1));
  EXPECT_EQ(watchdog.step(), seconds(1));
  clock.advance(seconds(10));
  watchdog.ping();
  EXPECT_EQ(notifier.pings, 0);
}

TEST(Watchdog, TheLoopLooksAsOftenAsTheWatchdogWantsPings) {
  testing::FakeClock clock;
  Health health(seconds(300), clock.monotonic());
  PingCounter often(std::chrono::milliseconds(300));
  EXPECT_EQ(Watchdog(often, health, clock, seconds(1)).step(), milliseconds(300));
  PingCounter seldom(std::chrono::seconds(15));
  EXPECT_EQ(Watchdog(seldom, health, clock, seconds(1)).step(), seconds(1));
}

TEST(Watchdog, PingsOncePerIntervalAndOnlyWhileTheLoopMakesProgress) {
  testing::FakeClock clock;
  Health health(seconds(300), clock.monotonic());
  PingCounter notifier(std::chrono::seconds(15));
  Watchdog watchdog(notifier, health, clock, seconds(1));
  clock.advance(seconds(15));
  watchdog.ping();
  watchdog.ping();
  EXPECT_EQ(notifier.pings, 1) << "one ping per interval";
  clock.advance(seconds(14));
  watchdog.ping();
  EXPECT_EQ(notifier.pings, 1);
  clock.advance(seconds(1));
  watchdog.ping();
  EXPECT_EQ(notifier.pings, 2);
  // No progress for longer than the stall threshold: stuck, so systemd may restart it.
  clock.advance(seconds(301));
  watchdog.ping();
  EXPECT_EQ(notifier.pings, 2);
  health.progress(clock.monotonic());
  watchdog.ping();
  EXPECT_EQ(notifier.pings, 3);
}

class StatusViewTest : public ::testing::Test {
 protected:
  nlohmann::json health_body(StatusView& view, bool expect_healthy) {
    const HealthAnswer answer = view.health_answer();
    EXPECT_EQ(answer.healthy, expect_healthy) << answer.body;
    return nlohmann::json::parse(answer.body);
  }

  testing::FakeClock clock;
  testing::FakeSleeper sleeper{clock};
  Metrics metrics{"test"};
  Health health{seconds(300), clock.monotonic()};
  RateLimiter limiter{4.0, clock, sleeper};
};

TEST_F(StatusViewTest, HealthSaysWhatTheLoopLastDidAndWhatIsInForce) {
  AlwaysLeader leader;
  StatusView view(metrics, health, limiter, leader, clock);
  DesiredState state;
  state.zones.resize(3);
  view.desired_state(state);
  view.condition(DesiredCondition::kHeld);
  view.cycle_done("3 zones: 3 in line");
  clock.advance(seconds(2));
  const auto body = health_body(view, true);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["leadership"], "leader (leader election off)");
  EXPECT_EQ(body["zones"], 3);
  EXPECT_EQ(body["desired_state"], "held");
  EXPECT_EQ(body["last_cycle"], "3 zones: 3 in line");
  EXPECT_EQ(body["seconds_since_progress"], 2.0);
  EXPECT_FALSE(body.contains("api_wait"));
}

TEST_F(StatusViewTest, StalledWithoutProgressAndUnhealthyWhenTheLeaseCannotBeRead) {
  AlwaysLeader leader;
  StatusView view(metrics, health, limiter, leader, clock);
  clock.advance(seconds(301));
  EXPECT_EQ(health_body(view, false)["status"], "stalled");

  health.progress(clock.monotonic());
  testing::FakeLeadership cut_off;
  cut_off.cut_off();
  StatusView standby(metrics, health, limiter, cut_off, clock);
  const auto body = health_body(standby, false);
  EXPECT_EQ(body["status"], "lease API unreachable");
  EXPECT_EQ(body["leadership"], "standby: the lease API is unreachable");
}

}  // namespace
}  // namespace orc
