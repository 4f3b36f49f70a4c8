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
  ZoneReport z = done(zone, ZoneOutcome::kFailure);
  z.error = "listing mappings: " + ApiError::cancelled().describe();
  return z;
}

// ... and for a zone whose next batch delete was not sent.
ZoneReport delete_cancelled(const char* zone) {
  ZoneReport z = done(zone, ZoneOutcome::kFailure);
  z.listed = true;
  z.applied.error = ApiError::cancelled();
  z.applied.pruned = 100;
  z.error = "batch delete: " + ApiError::cancelled().describe();
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

TEST(CutShortByStop, OnlyCancelledRequestsCount) {
  EXPECT_TRUE(cut_short_by_stop(listing_cancelled(kA)));
  EXPECT_TRUE(cut_short_by_stop(delete_cancelled(kA)));
  EXPECT_FALSE(cut_short_by_stop(real_failure(kA)));
  EXPECT_FALSE(cut_short_by_stop(done(kA, ZoneOutcome::kSuccess)));
  ZoneReport with_items = delete_cancelled(kA);
  with_items.applied.failed.push_back({"192.0.2.1", {1000, "internal"}});
  EXPECT_FALSE(cut_short_by_stop(with_items)) << "items the API refused are failures";
  ZoneReport with_upserts = delete_cancelled(kA);
  with_upserts.applied.upsert_failed.push_back({"192.0.2.2", {1000, "unsupported region"}});
  EXPECT_FALSE(cut_short_by_stop(with_upserts)) << "refused upserts are failures too";
  CycleReport c;
  c.zones = {with_upserts};
  EXPECT_EQ(once_exit_status(c, /*stopped=*/true), 1);
  ZoneReport other_error = delete_cancelled(kA);
  other_error.applied.error->kind = ApiError::Kind::kRetryable;
  EXPECT_FALSE(cut_short_by_stop(other_error));
}

TEST(OnceExitStatus, AStopIsNotAFailure) {
  CycleReport c;
  c.zones = {done(kA, ZoneOutcome::kSuccess), listing_cancelled(kB)};
  c.interrupted = true;
  EXPECT_EQ(c.exit_status(), 1) << "without the stop it would be a failure";
  EXPECT_EQ(once_exit_status(c, /*stopped=*/true), 0);
  EXPECT_EQ(once_exit_status(c, /*stopped=*/false), 1);
  c.zones = {delete_cancelled(kA)};
  EXPECT_EQ(once_exit_status(c, true), 0);
  c.zones = {};
  EXPECT_EQ(once_exit_status(c, true), 0);
}

TEST(OnceExitStatus, FailuresAndBlocksBeforeTheStopStillCount) {
  CycleReport c;
  c.zones = {real_failure(kA), listing_cancelled(kB)};
  EXPECT_EQ(once_exit_status(c, true), 1);
  c.zones = {done(kA, ZoneOutcome::kBlocked), listing_cancelled(kB)};
  EXPECT_EQ(once_exit_status(c, true), 3);
  ZoneReport items = done(kA, ZoneOutcome::kFailure);
  items.applied.failed.push_back({"192.0.2.1", {1000, "internal"}});
  c.zones = {items};
  EXPECT_EQ(once_exit_status(c, true), 1);
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
  c.zones = {done(kA, ZoneOutcome::kSuccess), listing_cancelled(kB)};
  const DesiredState d = zones({kA, kB, kC});
  const std::string report = format_plan_report(c, false, &d, false);
  EXPECT_THAT(report, HasSubstr(std::string("zone ") + kB + ": failure"));
  EXPECT_THAT(report, Not(HasSubstr("not started")));
  EXPECT_THAT(report, Not(HasSubstr("stopped")));
  EXPECT_EQ(report, format_plan_report(c, false));
}

}  // namespace
}  // namespace orc
