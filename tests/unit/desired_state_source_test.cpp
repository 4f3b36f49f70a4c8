// The loop's named parts on their own, in simulated time: the desired-state source (what a
// change of the file, a SIGHUP or an unreadable file does to the state in force) and the one
// wait (a deadline or a wake-up).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "config/desired_state_parser.h"
#include "fakes.h"
#include "log_capture.h"
#include "memory_desired_file.h"
#include "service/desired_state_source.h"
#include "service/wakeup.h"

namespace orc {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kZoneA = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kZoneB = "123e105f4ecef8ad9ca31a8372d0c353";

std::string yaml(const std::vector<std::pair<const char*, std::vector<std::string>>>& zones) {
  std::string out = "zones:\n";
  for (const auto& [id, ips] : zones) {
    out += std::string("  - zone_id: ") + id + "\n    origins:\n";
    for (const auto& ip : ips) out += "      - " + ip + "\n";
  }
  return out;
}

class DesiredStateSourceTest : public ::testing::Test {
 protected:
  DesiredStateSourceTest() {
    file_.write(yaml({{kZoneA, {"10.0.0.1", "10.0.0.2", "10.0.0.3"}}, {kZoneB, {"10.0.1.1"}}}));
  }
  DesiredStateSource make(DesiredStateSource::ResolveNames resolve = ok_names) {
    return DesiredStateSource({"desired.yaml", seconds(2), minutes(10), 0.5}, file_.parsed(), file_,
                              std::move(resolve));
  }
  static Status ok_names(DesiredState&) { return ok_status(); }
  MonoTime at(Millis d) const { return MonoTime{} + d; }

  testing::MemoryDesiredFile file_;
  testing::LogCapture log_;
};

TEST_F(DesiredStateSourceTest, AChangedFileIsTakenOnceSettledWithTheZonesItChanges) {
  auto source = make();
  EXPECT_FALSE(source.poll(at(seconds(1)), false));  // unchanged: nothing
  file_.write(yaml({{kZoneA, {"10.0.0.1", "10.0.0.2"}}, {kZoneB, {"10.0.1.1"}}}));
  EXPECT_FALSE(source.poll(at(seconds(2)), false));  // seen: settling
  ASSERT_TRUE(source.due().has_value());
  EXPECT_EQ(*source.due(), at(seconds(4)));
  EXPECT_FALSE(source.poll(at(seconds(3)), false));  // not yet
  const auto update = source.poll(at(seconds(4)), false);
  ASSERT_TRUE(update.has_value());
  EXPECT_TRUE(update->taken);
  EXPECT_FALSE(update->sighup);
  EXPECT_EQ(update->changed_zones, std::vector<std::string>{kZoneA});
  EXPECT_EQ(source.current()->zones[0].origins.size(), 2u);
  EXPECT_EQ(source.condition(), DesiredCondition::kValid);
  EXPECT_EQ(log_.count("desired state reloaded (file changed): 2 zones from desired.yaml"), 1);
}

TEST_F(DesiredStateSourceTest, AChangeRemovingTooMuchIsHeldUntilSighupConfirmsIt) {
  auto source = make();
  const auto before = source.current();
  file_.write(yaml({{kZoneA, {"10.0.0.1"}}, {kZoneB, {"10.0.1.1"}}}));  // 2 of 3: over 50%
  EXPECT_FALSE(source.poll(at(seconds(1)), false));
  EXPECT_FALSE(source.poll(at(seconds(3)), false));
  EXPECT_EQ(source.condition(), DesiredCondition::kHeld);
  EXPECT_EQ(source.current(), before);  // the state in force is the very same object
  EXPECT_EQ(log_.count("desired state change held: "), 1);

  const auto update = source.poll(at(seconds(4)), true);
  ASSERT_TRUE(update.has_value());
  EXPECT_TRUE(update->taken);
  EXPECT_TRUE(update->sighup);
  EXPECT_EQ(update->changed_zones, std::vector<std::string>{kZoneA});
  EXPECT_EQ(source.condition(), DesiredCondition::kValid);
  EXPECT_EQ(log_.count("(SIGHUP, which confirms the held change)"), 1);
}

TEST_F(DesiredStateSourceTest, AHeldChangeTakesEffectAfterTheConfirmationPeriod) {
  auto source = make();
  file_.write(yaml({{kZoneA, {"10.0.0.1"}}, {kZoneB, {"10.0.1.1"}}}));
  EXPECT_FALSE(source.poll(at(seconds(1)), false));
  EXPECT_FALSE(source.poll(at(seconds(3)), false));  // held
  ASSERT_TRUE(source.due().has_value());
  EXPECT_FALSE(source.poll(*source.due() - milliseconds(1), false));
  const auto update = source.poll(*source.due(), false);
  ASSERT_TRUE(update.has_value());
  EXPECT_TRUE(update->taken);
  EXPECT_EQ(log_.count("held change confirmed: unchanged for 10m"), 1);
}

TEST_F(DesiredStateSourceTest, AnUnreadableFileKeepsTheStateAndIsReportedOnce) {
  auto source = make();
  const auto before = source.current();
  file_.remove();
  EXPECT_FALSE(source.poll(at(seconds(1)), false));
  EXPECT_FALSE(source.poll(at(seconds(2)), false));
  EXPECT_EQ(source.condition(), DesiredCondition::kUnreadable);
  EXPECT_EQ(source.current(), before);
  EXPECT_EQ(log_.count("cannot be read: No such file or directory"), 1);
  // A SIGHUP asks for a cycle even when it cannot take anything.
  const auto update = source.poll(at(seconds(3)), true);
  ASSERT_TRUE(update.has_value());
  EXPECT_FALSE(update->taken);
  EXPECT_TRUE(update->sighup);
  EXPECT_TRUE(update->changed_zones.empty());
}

TEST_F(DesiredStateSourceTest, ANameThatCannotBeResolvedKeepsTheChangeOut) {
  auto source = make([](DesiredState&) -> Status { return Error{"zone example.com: not found"}; });
  file_.write(yaml({{kZoneA, {"10.0.0.1", "10.0.0.2"}}, {kZoneB, {"10.0.1.1"}}}));
  EXPECT_FALSE(source.poll(at(seconds(1)), false));
  EXPECT_FALSE(source.poll(at(seconds(3)), false));
  EXPECT_EQ(source.condition(), DesiredCondition::kInvalid);
  EXPECT_EQ(source.current()->zones[0].origins.size(), 3u);
  EXPECT_EQ(log_.count("zone example.com: not found (a change to the file, or SIGHUP, looks the "
                       "names up again)"),
            1);
}

TEST(Wakeup, WaitsUntilTheDeadlineWithoutAWakeUp) {
  testing::FakeClock clock;
  testing::FakeSleeper sleeper(clock);
  Wakeup wakeup(clock, sleeper);
  const MonoTime start = clock.monotonic();
  EXPECT_FALSE(wakeup.wait_until(start + milliseconds(1500)));
  EXPECT_EQ(clock.monotonic(), start + milliseconds(1500));
  EXPECT_FALSE(wakeup.wait_until(start));  // a deadline already past: no wait at all
  EXPECT_EQ(sleeper.sleeps().size(), 1u);
}

TEST(Wakeup, AWakeUpGivenBeforeTheWaitIsKeptAndSeenOnce) {
  testing::FakeClock clock;
  testing::FakeSleeper sleeper(clock);
  Wakeup wakeup(clock, sleeper);
  wakeup.notify();
  wakeup.notify();  // two before one wait are one
  const MonoTime start = clock.monotonic();
  EXPECT_TRUE(wakeup.wait_until(start + seconds(10)));
  EXPECT_EQ(clock.monotonic(), start);  // no sleep
  EXPECT_FALSE(wakeup.wait_until(start + seconds(1)));
  EXPECT_EQ(clock.monotonic(), start + seconds(1));
}

// A sleeper that blocks until its token is stopped, as a real sleep would until woken.
class BlockingSleeper final : public Sleeper {
 public:
  bool sleep_for(Millis, std::stop_token stop) override {
    entered = true;
    while (!stop.stop_requested()) std::this_thread::yield();
    return false;
  }
  std::atomic<bool> entered{false};
};

TEST(Wakeup, AWakeUpEndsAWaitInProgress) {
  testing::FakeClock clock;
  BlockingSleeper sleeper;
  Wakeup wakeup(clock, sleeper);
  std::atomic<bool> woken{false};
  std::thread waiter([&] { woken = wakeup.wait_until(clock.monotonic() + minutes(5)); });
  while (!sleeper.entered) std::this_thread::yield();
  wakeup.notify();
  waiter.join();
  EXPECT_TRUE(woken);
}

}  // namespace
}  // namespace orc
