// The --once report and exit status, in particular after a SIGTERM/SIGINT cut the pass short.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/plan_report.h"
#include "zone_ids.h"

namespace orc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ZoneReport done(const char* zone, ZoneOutcome outcome) {
  ZoneReport z;
  z.zone_id = zone;
  z.outcome = outcome;
  z.listed = outcome != ZoneOutcome::kFailure;
  return z;
}

// What the reconciler reports for a zone whose listing was abandoned for the stop.
ZoneReport listing_cancelled(const char* zone) {
  ZoneReport z = done(zone, ZoneOutcome::kInterrupted);
  z.listed = false;
  z.stopped_by = StopReason::kShutdown;
  z.error = "listing mappings: " + ApiError::cancelled(StopView{}).describe();
  return z;
}

// ... and for a zone whose next batch delete was not sent.
ZoneReport delete_cancelled(const char* zone) {
  ZoneReport z = done(zone, ZoneOutcome::kInterrupted);
  z.stopped_by = StopReason::kShutdown;
  z.applied.error = ApiError::cancelled(StopView{});
  z.applied.pruned = 100;
  z.error = "batch delete: " + ApiError::cancelled(StopView{}).describe();
  return z;
}

ZoneReport real_failure(const char* zone) {
  ZoneReport z = done(zone, ZoneOutcome::kFailure);
  z.error = "listing mappings: HTTP 403: [10000] Authentication error";
  return z;
}

DesiredState zones(std::initializer_list<const char*> ids) {
  DesiredState d;
  for (const char* id : ids) d.zones.push_back({id, {}, {}});
  return d;
}

// The exit status of a --once pass, as render_once gives it.
int once_status(const CycleReport& c, bool stopped) {
  return render_once(c, false, {}, zones({}), stopped, WallTime{}).status;
}

TEST(OnceExitStatus, AStopIsNotAFailure) {
  CycleReport c;
  c.zones = {done(kA, ZoneOutcome::kSuccess), listing_cancelled(kB)};
  c.interrupted = true;
  EXPECT_EQ(once_status(c, /*stopped=*/true), 0);
  c.zones = {delete_cancelled(kA)};
  EXPECT_EQ(once_status(c, true), 0);
  c.zones = {};
  EXPECT_EQ(once_status(c, true), 0);
}

TEST(OnceExitStatus, FailuresAndBlocksBeforeTheStopStillCount) {
  CycleReport c;
  c.zones = {real_failure(kA), listing_cancelled(kB)};
  EXPECT_EQ(once_status(c, true), 1);
  c.zones = {done(kA, ZoneOutcome::kBlocked), listing_cancelled(kB)};
  EXPECT_EQ(once_status(c, true), 3);
  ZoneReport items = done(kA, ZoneOutcome::kFailure);
  items.stopped_by = StopReason::kShutdown;  // the API refused items, then the stop came
  items.applied.delete_failed.push_back({"192.0.2.1", {1000, "internal"}});
  c.zones = {items};
  EXPECT_EQ(once_status(c, true), 1);
}

TEST(FormatPlanReport, AfterAStopNamesTheZonesNotDone) {
  CycleReport c;
  c.zones = {done(kA, ZoneOutcome::kSuccess), delete_cancelled(kB)};
  c.interrupted = true;
  const DesiredState d = zones({kA, kB, kC});
  const std::string report = format_plan_report(c, false, &d, true);
  EXPECT_THAT(report, HasSubstr(std::string("zone ") + kA + ": success"));
  EXPECT_THAT(report, HasSubstr(std::string("zone ") + kB +
                                ": stopped live=0 desired=0 stale=0 pruned=100"));
  EXPECT_THAT(report, HasSubstr(std::string("zone ") + kC +
                                ": not started (stopped before it was "
                                "reconciled)\n"));
  EXPECT_THAT(report, HasSubstr("stopped by a signal: 1 zones cut short, 1 not started; run "
                                "again to finish them\n"));
  EXPECT_THAT(report, Not(HasSubstr(std::string("zone ") + kA + ": not started")));
}

TEST(FormatPlanReport, WithoutAStopNothingChanges) {
  CycleReport c;
  c.zones = {done(kA, ZoneOutcome::kSuccess), real_failure(kB)};
  const DesiredState d = zones({kA, kB, kC});
  const std::string report = format_plan_report(c, false, &d, false);
  EXPECT_THAT(report, HasSubstr(std::string("zone ") + kB + ": failure"));
  EXPECT_THAT(report, Not(HasSubstr("not started")));
  EXPECT_THAT(report, Not(HasSubstr("stopped")));
  EXPECT_EQ(report, format_plan_report(c, false));
}

}  // namespace
}  // namespace orc
