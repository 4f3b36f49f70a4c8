#include "status/metrics.h"

#include <gtest/gtest.h>

namespace orc {
namespace {

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, EveryFamilyIsExportedFromTheStart) {
  Metrics m("1.2.3");
  m.set_zones({kZone});
  m.set_desired_state_valid(true);
  const std::string text = m.serialize();
  for (const char* name :
       {"origin_reconciler_build_info", "origin_reconciler_reconcile_runs_total",
        "origin_reconciler_reconcile_duration_seconds",
        "origin_reconciler_last_success_timestamp_seconds",
        "origin_reconciler_last_attempt_timestamp_seconds", "origin_reconciler_mappings",
        "origin_reconciler_pruned_total", "origin_reconciler_prune_failures_total",
        "origin_reconciler_api_request_duration_seconds", "origin_reconciler_api_retries_total",
        "origin_reconciler_safety_blocks_total", "origin_reconciler_desired_state_valid",
        "origin_reconciler_desired_state_held"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  }
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_build_info{version="1.2.3"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "origin_reconciler_desired_state_valid 1"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_desired_state_held 0"));
  EXPECT_TRUE(has_line(
      text, std::string(R"(origin_reconciler_reconcile_runs_total{result="blocked",zone=")") +
                kZone + R"("} 0)"));
}

TEST(Metrics, LeaderGaugeAndTransitionsCounter) {
  Metrics m("1.0.0");
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_leader 0"));
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_leader_transitions_total 0"));
  m.set_leader(true, 1);
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_leader 1"));
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_leader_transitions_total 1"));
  m.set_leader(false, 1);
  m.set_leader(true, 3);
  m.set_leader(true, 2);  // never goes down
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_leader 1"));
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_leader_transitions_total 3"));
}

TEST(Metrics, DesiredStateHeldGauge) {
  Metrics m("1.0.0");
  m.set_desired_state_held(true);
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_desired_state_held 1"));
  m.set_desired_state_held(false);
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_desired_state_held 0"));
}

TEST(Metrics, ZoneReportsAndRequestsAreCounted) {
  Metrics m("1.0.0");
  ZoneReport r;
  r.zone_id = kZone;
  r.outcome = ZoneOutcome::kSuccess;
  r.listed = true;
  r.plan.live = 1000;
  r.plan.desired = 750;
  r.plan.changes.deletes.assign(250, "x");
  r.applied.pruned = 248;
  r.applied.failed = {{"192.0.2.1", {0, "internal"}}, {"192.0.2.2", {0, "internal"}}};
  r.attempted_at = WallTime(std::chrono::seconds(1700000000));
  r.seconds = 1.5;
  m.on_zone_done(r);
  r.outcome = ZoneOutcome::kBlocked;
  r.applied = {};
  m.on_zone_done(r);
  m.on_request(Operation::kBatchDelete, 200, 0.01);
  m.on_request(Operation::kList, 0, 0.01);
  m.on_retry(Operation::kList, RetryReason::kRateLimited, Millis(1000));

  const std::string z = std::string("zone=\"") + kZone + "\"";
  const std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, "origin_reconciler_pruned_total{" + z + "} 248")) << text;
  EXPECT_TRUE(has_line(text, "origin_reconciler_prune_failures_total{" + z + "} 2"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_safety_blocks_total{" + z + "} 1"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_mappings{state=\"live\"," + z + "} 1000"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_mappings{state=\"stale\"," + z + "} 250"));
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_last_success_timestamp_seconds{" + z + "} 1700000000"));
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_reconcile_runs_total{result=\"success\"," + z + "} 1"));
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_reconcile_runs_total{result=\"blocked\"," + z + "} 1"));
  EXPECT_TRUE(has_line(
      text, R"(origin_reconciler_api_requests_total{code="200",operation="batch_delete"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(origin_reconciler_api_requests_total{code="error",operation="list"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(origin_reconciler_api_retries_total{operation="list",reason="rate_limited"} 1)"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_reconcile_duration_seconds_count 2"));
}

TEST(Metrics, SyncCountsAreExported) {
  Metrics m("1.0.0");
  m.set_zones({kZone});
  const std::string z = std::string("zone=\"") + kZone + "\"";
  std::string text = m.serialize();
  // Every zone's series exist from the start.
  EXPECT_TRUE(has_line(text, "origin_reconciler_upserted_total{" + z + "} 0")) << text;
  EXPECT_TRUE(has_line(text, "origin_reconciler_upsert_failures_total{" + z + "} 0"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_mappings{state=\"missing\"," + z + "} 0"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_mappings{state=\"mismatched\"," + z + "} 0"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_unsupported_region_origins{" + z + "} 0"));

  ZoneReport r;
  r.zone_id = kZone;
  r.outcome = ZoneOutcome::kFailure;
  r.listed = true;
  r.plan.missing = 120;
  r.plan.mismatched = 50;
  r.unsupported = {{"192.0.2.1", "aws", "mars-north-1"}};
  r.applied.upserted = 169;
  r.applied.upsert_failed = {{"192.0.2.2", {1157, "invalid region"}}};
  m.on_zone_done(r);
  m.on_zone_done(r);
  m.on_request(Operation::kBatchUpsert, 200, 0.01);
  m.on_request(Operation::kSupportedRegions, 200, 0.01);
  text = m.serialize();
  EXPECT_TRUE(has_line(text, "origin_reconciler_upserted_total{" + z + "} 338")) << text;
  EXPECT_TRUE(has_line(text, "origin_reconciler_upsert_failures_total{" + z + "} 2"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_mappings{state=\"missing\"," + z + "} 120"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_mappings{state=\"mismatched\"," + z + "} 50"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_unsupported_region_origins{" + z + "} 1"));
  EXPECT_TRUE(has_line(
      text, R"(origin_reconciler_api_requests_total{code="200",operation="batch_upsert"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(origin_reconciler_api_requests_total{code="200",operation="supported_regions"} 1)"));
  EXPECT_TRUE(has_line(
      text,
      R"(origin_reconciler_api_retries_total{operation="batch_upsert",reason="server_error"} 0)"));

  m.set_zones({});
  text = m.serialize();
  EXPECT_EQ(text.find(kZone), std::string::npos) << "removed with the zone: " << text;
}

TEST(Metrics, FailureBeforeListingKeepsTheLastCounts) {
  Metrics m("1.0.0");
  ZoneReport r;
  r.zone_id = kZone;
  r.outcome = ZoneOutcome::kSuccess;
  r.listed = true;
  r.plan.live = 42;
  m.on_zone_done(r);
  ZoneReport failed;
  failed.zone_id = kZone;
  failed.outcome = ZoneOutcome::kFailure;
  m.on_zone_done(failed);
  const std::string text = m.serialize();
  EXPECT_TRUE(has_line(
      text, std::string("origin_reconciler_mappings{state=\"live\",zone=\"") + kZone + "\"} 42"))
      << text;
}

TEST(Metrics, ZonesNoLongerManagedLoseTheirSeries) {
  Metrics m("1.0.0");
  m.set_zones({kZone, "1111111111111111111111111111111a"});
  m.set_zones({"1111111111111111111111111111111a"});
  const std::string text = m.serialize();
  EXPECT_EQ(text.find(kZone), std::string::npos);
  EXPECT_NE(text.find("1111111111111111111111111111111a"), std::string::npos);
}

TEST(Metrics, ApiBudgetWindowIsExportedFromTheStart) {
  Metrics m("1.0.0");
  std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, "# TYPE origin_reconciler_api_budget_window_requests gauge")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE origin_reconciler_api_budget_window_limit gauge")) << text;
  EXPECT_TRUE(has_line(text, "origin_reconciler_api_budget_window_requests 0")) << text;
  m.set_api_budget(1031, 1140);
  text = m.serialize();
  EXPECT_TRUE(has_line(text, "origin_reconciler_api_budget_window_requests 1031")) << text;
  EXPECT_TRUE(has_line(text, "origin_reconciler_api_budget_window_limit 1140")) << text;
}

}  // namespace
}  // namespace orc
