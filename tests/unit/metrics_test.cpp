#include "status/metrics.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace orc {
namespace {

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";

// A report for kZone, whose mappings were listed.
ZoneReport listed_zone(ZoneOutcome outcome) {
  ZoneReport r;
  r.zone_id = kZone;
  r.outcome = outcome;
  r.listed = true;
  return r;
}

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

TEST(Metrics, EventCountersFollowTheRecordersTotalsOnceThereAreEvents) {
  Metrics m("1.0.0");
  // A daemon without Events has no such series (prometheus-cpp leaves an empty family out).
  EXPECT_EQ(m.serialize().find("origin_reconciler_events_"), std::string::npos);
  m.set_events({});
  std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_events_sent_total{operation="create"} 0)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_events_dropped_total{reason="failed"} 0)"));
  m.set_events({.created = 3, .patched = 2, .queue_full = 1, .rate_limited = 4, .failed = 5});
  m.set_events({.created = 2});  // a total never goes down
  text = m.serialize();
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_events_sent_total{operation="create"} 3)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_events_sent_total{operation="patch"} 2)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_events_dropped_total{reason="queue_full"} 1)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_events_dropped_total{reason="rate_limited"} 4)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_events_dropped_total{reason="failed"} 5)"));
  EXPECT_NE(text.find("# TYPE origin_reconciler_events_sent_total counter"), std::string::npos);
}

TEST(Metrics, ZoneInfoNamesTheZonesWrittenByName) {
  Metrics m("1.2.3");
  const std::string other = "1111111111111111111111111111111a";
  m.set_zone_names({{kZone, "example.com"}, {other, "example.net"}});
  std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, std::string(R"(origin_reconciler_zone_info{zone=")") + kZone +
                                 R"(",zone_name="example.com"} 1)"))
      << text;
  // A renamed zone keeps one series; a zone no longer named has none.
  m.set_zone_names({{kZone, "example.org"}});
  text = m.serialize();
  EXPECT_TRUE(has_line(text, std::string(R"(origin_reconciler_zone_info{zone=")") + kZone +
                                 R"(",zone_name="example.org"} 1)"))
      << text;
  EXPECT_EQ(text.find("example.com"), std::string::npos);
  EXPECT_EQ(text.find(other), std::string::npos);
}

TEST(Metrics, DesiredStateHeldGauge) {
  Metrics m("1.0.0");
  m.set_desired_state_held(true);
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_desired_state_held 1"));
  m.set_desired_state_held(false);
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_desired_state_held 0"));
}

TEST(Metrics, ASuspendedZoneShowsItsDriftAndItsSuspension) {
  Metrics m("1.0.0");
  m.set_zones({kZone});
  ZoneReport r = listed_zone(ZoneOutcome::kSuspended);
  r.plan.live = 12;
  r.plan.desired = 10;
  r.plan.changes.deletes = {"10.0.0.1", "10.0.0.2"};
  r.suspension = Suspension{"incident", WallTime(std::chrono::seconds(1800000000))};
  m.on_zone_done(r);
  const std::string z = std::string("zone=\"") + kZone + "\"";
  std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, "origin_reconciler_zone_suspended{" + z + "} 1")) << text;
  EXPECT_TRUE(has_line(
      text, "origin_reconciler_zone_suspended_until_timestamp_seconds{" + z + "} 1800000000"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_mappings{state=\"stale\"," + z + "} 2"));
  EXPECT_TRUE(
      has_line(text, R"(origin_reconciler_reconcile_runs_total{result="suspended",)" + z + "} 1"));

  // Its until passed, the stanza still there: 0, the until kept (the alert looks at it).
  r.outcome = ZoneOutcome::kSuccess;
  m.on_zone_done(r);
  text = m.serialize();
  EXPECT_TRUE(has_line(text, "origin_reconciler_zone_suspended{" + z + "} 0"));
  EXPECT_TRUE(has_line(
      text, "origin_reconciler_zone_suspended_until_timestamp_seconds{" + z + "} 1800000000"));

  // The stanza removed: no series.
  r.suspension.reset();
  m.on_zone_done(r);
  text = m.serialize();
  EXPECT_EQ(text.find("origin_reconciler_zone_suspended{"), std::string::npos);
  EXPECT_EQ(text.find("origin_reconciler_zone_suspended_until_timestamp_seconds{"),
            std::string::npos);
}

TEST(Metrics, ZoneReportsAndRequestsAreCounted) {
  Metrics m("1.0.0");
  ZoneReport r = listed_zone(ZoneOutcome::kSuccess);
  r.plan.live = 1000;
  r.plan.desired = 750;
  r.plan.changes.deletes.assign(250, "x");
  r.applied.pruned = 248;
  r.applied.delete_failed = {{"192.0.2.1", {0, "internal"}}, {"192.0.2.2", {0, "internal"}}};
  r.attempted_at = WallTime(std::chrono::seconds(1700000000));
  r.seconds = 1.5;
  r.plan.changes.release_deletes();  // an applied zone's report keeps their number only
  m.on_zone_done(r);
  EXPECT_TRUE(has_line(
      m.serialize(),
      std::string("origin_reconciler_mappings{state=\"stale\",zone=\"") + kZone + "\"} 250"));
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

  ZoneReport r = listed_zone(ZoneOutcome::kFailure);
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
  ZoneReport r = listed_zone(ZoneOutcome::kSuccess);
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

std::string zone_id(int i) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032x", i);
  return buf;
}

ZoneReport report(const std::string& zone, ZoneOutcome outcome, int stale = 0) {
  ZoneReport r;
  r.zone_id = zone;
  r.outcome = outcome;
  r.listed = outcome != ZoneOutcome::kFailure;
  r.plan.live = 100;
  r.plan.desired = 100 - stale;
  r.plan.changes.deletes.assign(static_cast<std::size_t>(stale), "x");
  if (outcome == ZoneOutcome::kSuccess) r.applied.pruned = stale;
  r.attempted_at = WallTime(std::chrono::seconds(1700000000));
  return r;
}

TEST(Metrics, ZoneSeriesByDefaultAllBelowAThousandZonesThenFailing) {
  EXPECT_EQ(zone_series_for(std::nullopt, 0), ZoneSeriesMode::kAll);
  EXPECT_EQ(zone_series_for(std::nullopt, 999), ZoneSeriesMode::kAll);
  EXPECT_EQ(zone_series_for(std::nullopt, 1000), ZoneSeriesMode::kFailing);
  EXPECT_EQ(zone_series_for(ZoneSeriesMode::kAll, 100000), ZoneSeriesMode::kAll);
  EXPECT_EQ(zone_series_for(ZoneSeriesMode::kNone, 1), ZoneSeriesMode::kNone);
  Metrics m("1.0.0");
  std::vector<std::string> ids;
  for (int i = 0; i < 999; ++i) ids.push_back(zone_id(i));
  m.set_zones(ids);
  EXPECT_EQ(m.zone_series(), ZoneSeriesMode::kAll);
  EXPECT_NE(m.serialize().find(zone_id(998)), std::string::npos);
  ids.push_back(zone_id(999));
  m.set_zones(ids);
  EXPECT_EQ(m.zone_series(), ZoneSeriesMode::kFailing);
  EXPECT_EQ(m.serialize().find(zone_id(998)), std::string::npos);
}

TEST(Metrics, FailingZonesGetSeriesWithTheirTotalsAndLoseThemWhenInLine) {
  Metrics m("1.0.0", ZoneSeriesMode::kFailing);
  const std::string a = zone_id(1), b = zone_id(2);
  m.set_zones({a, b});
  m.on_zone_done(report(a, ZoneOutcome::kSuccess, 3));
  m.on_zone_done(report(a, ZoneOutcome::kSuccess));
  m.on_zone_done(report(b, ZoneOutcome::kSuccess));
  std::string text = m.serialize();
  EXPECT_EQ(text.find(a), std::string::npos) << text;  // both in line: no zone series
  EXPECT_EQ(text.find(b), std::string::npos);

  m.on_zone_done(report(a, ZoneOutcome::kFailure));
  text = m.serialize();
  const std::string za = "zone=\"" + a + "\"";
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_reconcile_runs_total{result=\"success\"," + za + "} 2"))
      << text;
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_reconcile_runs_total{result=\"failure\"," + za + "} 1"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_pruned_total{" + za + "} 3"));
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_last_success_timestamp_seconds{" + za + "} 1700000000"));
  EXPECT_EQ(text.find(b), std::string::npos);
  m.on_zone_done(report(a, ZoneOutcome::kFailure));
  EXPECT_TRUE(has_line(m.serialize(),
                       "origin_reconciler_reconcile_runs_total{result=\"failure\"," + za + "} 2"));
  // Blocked, items not deleted, stale in a dry run: not in line either.
  m.on_zone_done(report(b, ZoneOutcome::kBlocked, 50));
  EXPECT_TRUE(
      has_line(m.serialize(), "origin_reconciler_safety_blocks_total{zone=\"" + b + "\"} 1"));
  ZoneReport partial = report(b, ZoneOutcome::kSuccess, 2);
  partial.applied.delete_failed = {{"192.0.2.1", {0, "internal"}}};
  m.on_zone_done(partial);
  EXPECT_NE(m.serialize().find(b), std::string::npos);
  m.on_zone_done(report(b, ZoneOutcome::kDryRun, 2));
  EXPECT_NE(m.serialize().find(b), std::string::npos);
  m.on_zone_done(report(b, ZoneOutcome::kDryRun, 0));
  EXPECT_EQ(m.serialize().find(b), std::string::npos);

  m.on_zone_done(report(a, ZoneOutcome::kSuccess));
  text = m.serialize();
  EXPECT_EQ(text.find(a), std::string::npos) << text;
  // The fleet still tells the whole story.
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_fleet_reconcile_runs_total{result="success"} 5)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(origin_reconciler_fleet_reconcile_runs_total{result="failure"} 2)"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_fleet_pruned_total 5"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_fleet_prune_failures_total 1"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_fleet_safety_blocks_total 1"));
}

TEST(Metrics, FleetAggregatesAnswerIsItWorkingWithoutZoneSeries) {
  Metrics m("1.0.0", ZoneSeriesMode::kNone);
  const std::string a = zone_id(1), b = zone_id(2), c = zone_id(3);
  m.set_zones({a, b, c});
  std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="none"} 3)")) << text;
  EXPECT_TRUE(has_line(text, "origin_reconciler_oldest_success_timestamp_seconds 0"));
  ZoneReport ra = report(a, ZoneOutcome::kSuccess, 10);
  ra.attempted_at = WallTime(std::chrono::seconds(1700000100));
  m.on_zone_done(ra);
  m.on_zone_done(report(b, ZoneOutcome::kSuccess, 0));
  m.on_zone_done(report(c, ZoneOutcome::kFailure));
  text = m.serialize();
  EXPECT_EQ(text.find(a), std::string::npos);
  EXPECT_EQ(text.find(c), std::string::npos);  // none: not even failing zones
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="success"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="failure"} 1)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="none"} 0)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_fleet_mappings{state="live"} 200)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_fleet_mappings{state="stale"} 10)"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_oldest_success_timestamp_seconds 0"));  // c
  m.on_zone_done(report(c, ZoneOutcome::kSuccess));
  EXPECT_TRUE(
      has_line(m.serialize(), "origin_reconciler_oldest_success_timestamp_seconds 1700000000"));
  // A zone leaving the desired state leaves the aggregates.
  m.set_zones({a});
  text = m.serialize();
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="success"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_fleet_mappings{state="live"} 100)"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_oldest_success_timestamp_seconds 1700000100"));
}

TEST(Metrics, AZoneAStopInterruptedIsCountedApartFromFailures) {
  Metrics m("1.0.0", ZoneSeriesMode::kAll);
  const std::string a = zone_id(1);
  const std::string za = "zone=\"" + a + "\"";
  m.set_zones({a});
  std::string text = m.serialize();
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_reconcile_runs_total{result=\"interrupted\"," + za + "} 0"))
      << text;
  m.on_zone_done(report(a, ZoneOutcome::kSuccess));
  ZoneReport cut = report(a, ZoneOutcome::kInterrupted, 10);
  cut.stopped_by = StopReason::kShutdown;
  cut.attempted_at = WallTime(std::chrono::seconds(1700000100));
  m.on_zone_done(cut);
  text = m.serialize();
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_reconcile_runs_total{result=\"interrupted\"," + za + "} 1"))
      << text;
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_reconcile_runs_total{result=\"failure\"," + za + "} 0"));
  EXPECT_TRUE(
      has_line(text, R"(origin_reconciler_fleet_reconcile_runs_total{result="interrupted"} 1)"));
  EXPECT_FALSE(
      has_line(text, R"(origin_reconciler_fleet_reconcile_runs_total{result="failure"} 1)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="interrupted"} 1)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="failure"} 0)"));
  // Not a success either: the last success stays the one before.
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_last_success_timestamp_seconds{" + za + "} 1700000000"));
  EXPECT_TRUE(
      has_line(text, "origin_reconciler_last_attempt_timestamp_seconds{" + za + "} 1700000100"));
}

TEST(Metrics, AnInterruptedRunLeavesAZoneInLineOrNotAsItWas) {
  Metrics m("1.0.0", ZoneSeriesMode::kFailing);
  const std::string a = zone_id(1), b = zone_id(2);
  m.set_zones({a, b});
  m.on_zone_done(report(a, ZoneOutcome::kSuccess));
  m.on_zone_done(report(b, ZoneOutcome::kFailure));
  m.on_zone_done(report(a, ZoneOutcome::kInterrupted));
  m.on_zone_done(report(b, ZoneOutcome::kInterrupted));
  const std::string text = m.serialize();
  EXPECT_EQ(text.find(a), std::string::npos) << "in line before the stop: no series";
  EXPECT_NE(text.find(b), std::string::npos) << "failing before the stop: still failing";
}

TEST(Metrics, HundredThousandZonesWithFailingSeriesServeUnderAMegabyte) {
  Metrics m("1.0.0");  // unset: failing from 1,000 zones
  std::vector<std::string> ids;
  for (int i = 0; i < 100000; ++i) ids.push_back(zone_id(i));
  m.set_zones(ids);
  EXPECT_EQ(m.zone_series(), ZoneSeriesMode::kFailing);
  for (int i = 0; i < 100000; ++i) {
    m.on_zone_done(report(ids[static_cast<std::size_t>(i)],
                          i % 200 == 0 ? ZoneOutcome::kFailure : ZoneOutcome::kSuccess, 1));
  }
  const std::string text = m.serialize();
  EXPECT_LE(text.size(), 1'000'000u);
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="failure"} 500)"));
  EXPECT_TRUE(has_line(text, R"(origin_reconciler_zones{last_result="success"} 99500)"));
  EXPECT_TRUE(has_line(text, "origin_reconciler_fleet_pruned_total 99500"));
  // The 500 failing zones are there, with their own series.
  EXPECT_TRUE(has_line(text, "origin_reconciler_reconcile_runs_total{result=\"failure\",zone=\"" +
                                 ids[99800] + "\"} 1"));
  EXPECT_EQ(text.find(ids[1]), std::string::npos);
}

TEST(Metrics, EveryZonesSeriesIsWhatMakesAScrapeLarge) {
  // The comparison for the test above: with all, 1,000 zones alone pass a megabyte.
  Metrics m("1.0.0", ZoneSeriesMode::kAll);
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(zone_id(i));
  m.set_zones(ids);
  EXPECT_GT(m.serialize().size(), 1'000'000u);
}

TEST(Metrics, ApiBudgetRemainingAppearsWithTheFirstAnswerThatSaysIt) {
  Metrics m("1.0.0");
  m.set_api_budget_remaining(std::nullopt);
  EXPECT_FALSE(has_line(m.serialize(), "origin_reconciler_api_budget_remaining 0"));
  m.set_api_budget_remaining(642);
  EXPECT_TRUE(has_line(m.serialize(), "origin_reconciler_api_budget_remaining 642"));
}

}  // namespace
}  // namespace orc
