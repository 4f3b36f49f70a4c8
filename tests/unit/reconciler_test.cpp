#include "reconcile/reconciler.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "log_capture.h"
#include "model/plan_file.h"

namespace orc {
namespace {

using testing::FakeZoneApi;

constexpr const char* kZoneA = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kZoneB = "1111111111111111111111111111111a";

class NullObserver final : public ReconcileObserver {
 public:
  void on_zone_done(const ZoneReport& r) override {
    std::lock_guard lock(mu);
    seen.push_back(r.zone_id);
  }
  std::mutex mu;
  std::vector<std::string> seen;
};

std::vector<std::string> range_ips(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) {
    v.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  }
  return v;
}

DesiredZone zone_keeping(const std::string& id, const std::vector<std::string>& ips) {
  DesiredZone z;
  z.zone_id = id;
  for (const auto& ip : ips) z.origins.push_back({*parse_origin_key(ip), {}, {}});
  return z;
}

// Requests a stop of reason `why` from `cancel` as the first call of a kind is made: at a
// listing, which is then given up as the request executor gives it up (with the reason of the
// cycle's cancellation); at a batch (delete or upsert), which is still sent, as one already in
// flight when the stop comes.
class StoppedFor : public testing::ForwardingZoneApi {
 public:
  enum class At { kListing, kBatch };
  StoppedFor(ZoneApi& inner, Cancellation& cancel, StopReason why, At at)
      : ForwardingZoneApi(inner), cancel_(cancel), why_(why), at_(at) {}
  Result<std::vector<Mapping>> list(const std::string& zone) override {
    if (at_ != At::kListing) return inner_.list(zone);
    cancel_.request_stop(why_);
    return ApiError::cancelled(cancel_);
  }
  Result<BatchResult> batch_delete(const std::string& zone,
                                   const std::vector<std::string>& ips) override {
    if (at_ == At::kBatch) cancel_.request_stop(why_);
    return inner_.batch_delete(zone, ips);
  }
  Result<BatchResult> batch_upsert(const std::string& zone,
                                   const std::vector<Mapping>& items) override {
    if (at_ == At::kBatch) cancel_.request_stop(why_);
    return inner_.batch_upsert(zone, items);
  }

 private:
  Cancellation& cancel_;
  StopReason why_;
  At at_;
};

// The API's answer while it is down: HTTP 503, worth another try.
ApiError unavailable() {
  ApiError down;
  down.kind = ApiError::Kind::kRetryable;
  down.http_status = 503;
  down.message = "down";
  return down;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() : sleeper_(clock_) {}

  CycleReport run(PlanApplier& applier, const DesiredState& desired,
                  ReconcileSettings settings = {}) {
    Reconciler r(api_, applier, clock_, sleeper_.token(), observer_);
    return r.run_cycle(desired, settings);
  }

  // One zone reconciled through `api`, in batches of 100, under `cancel`.
  ZoneReport reconcile_zone(ZoneApi& api, Cancellation& cancel, const DesiredZone& zone,
                            const ReconcileSettings& settings) {
    ChangeSetApplier applier(api, 100, cancel);
    Reconciler r(api, applier, clock_, cancel, observer_);
    return r.reconcile_zone(zone, settings);
  }

  testing::FakeClock clock_;
  testing::FakeSleeper sleeper_;
  FakeZoneApi api_;
  NullObserver observer_;
};

TEST_F(ReconcilerTest, PrunesAThousandToSevenFiftyInThreeBatches) {
  const auto all = range_ips(0, 1000);
  const auto keep = std::vector<std::string>(all.begin(), all.begin() + 750);
  api_.seed(kZoneA, all);
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, keep)}});

  ASSERT_EQ(cycle.zones.size(), 1u);
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  EXPECT_EQ(z.plan.changes.deletes.size(), 250u);
  EXPECT_EQ(z.applied.pruned, 250u);
  EXPECT_EQ(z.applied.requests, 3u);
  ASSERT_EQ(api_.batches.size(), 3u);
  EXPECT_EQ(api_.batches[0].second.size(), 100u);
  EXPECT_EQ(api_.batches[2].second.size(), 50u);
  const std::set<std::string> keep_set(keep.begin(), keep.end());
  for (const auto& [zone, ips] : api_.batches) {
    for (const auto& ip : ips) EXPECT_FALSE(keep_set.contains(ip)) << "desired IP sent: " << ip;
  }
  EXPECT_EQ(api_.live(kZoneA), keep_set);
  EXPECT_EQ(cycle.exit_status(), 0);

  // A second cycle finds nothing to do and sends nothing.
  api_.batches.clear();
  const auto again = run(applier, {{zone_keeping(kZoneA, keep)}});
  EXPECT_EQ(again.zones[0].outcome, ZoneOutcome::kSuccess);
  EXPECT_TRUE(api_.batches.empty());
}

TEST_F(ReconcilerTest, BatchSizeIsRespected) {
  api_.seed(kZoneA, range_ips(0, 10));
  ChangeSetApplier applier(api_, 3, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 7))}});
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kSuccess);
  ASSERT_EQ(api_.batches.size(), 1u);  // 3 stale: one batch of 3
  EXPECT_EQ(api_.batches[0].second.size(), 3u);
}

TEST_F(ReconcilerTest, ItemsAlreadyGoneAreNotFailures) {
  api_.seed(kZoneA, range_ips(0, 10));
  api_.missing_refusal = Refusal{0, "something unexpected"};  // the answer does not say so...
  // ...but the follow-up GET does: another actor removed 10.0.0.9 between list and delete.
  class RemovingApi : public testing::ForwardingZoneApi {
   public:
    explicit RemovingApi(FakeZoneApi& fake) : ForwardingZoneApi(fake), fake_(fake) {}
    Result<std::vector<Mapping>> list(const std::string& z) override {
      auto r = inner_.list(z);
      fake_.remove_behind_our_back(z, "10.0.0.9");
      return r;
    }

   private:
    FakeZoneApi& fake_;
  } racing(api_);
  ChangeSetApplier racing_applier(racing, 100, sleeper_.token());
  Reconciler r(racing, racing_applier, clock_, sleeper_.token(), observer_);
  const auto cycle = r.run_cycle({{zone_keeping(kZoneA, range_ips(0, 7))}}, {});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  EXPECT_EQ(z.applied.pruned, 2u);
  EXPECT_EQ(z.applied.already_gone, 1u);
  EXPECT_EQ(api_.gets, std::vector<std::string>{"10.0.0.9"});
}

TEST_F(ReconcilerTest, AbsentItemsNeedNoFollowUp) {
  api_.seed(kZoneA, range_ips(0, 3));
  class GoneApi : public testing::ForwardingZoneApi {
   public:
    using ForwardingZoneApi::ForwardingZoneApi;
    Result<BatchResult> batch_delete(const std::string&,
                                     const std::vector<std::string>& ips) override {
      BatchResult r;
      for (const auto& ip : ips) r.items.push_back({ip, ItemOutcome::absent()});
      return r;
    }
  } gone(api_);
  ChangeSetApplier applier(gone, 100, sleeper_.token());
  Reconciler r(gone, applier, clock_, sleeper_.token(), observer_);
  const auto cycle = r.run_cycle({{zone_keeping(kZoneA, {})}}, {});
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kSuccess);
  EXPECT_EQ(cycle.zones[0].applied.already_gone, 3u);
  EXPECT_EQ(cycle.zones[0].applied.pruned, 0u);
  EXPECT_TRUE(api_.gets.empty());
}

TEST_F(ReconcilerTest, ItemsTheApiRefusesAreReportedNotPruned) {
  api_.seed(kZoneA, range_ips(0, 10));
  api_.refuse["10.0.0.8"] = "internal error";
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 7))}});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kFailure);
  EXPECT_EQ(z.applied.pruned, 2u);
  ASSERT_EQ(z.applied.delete_failed.size(), 1u);
  EXPECT_EQ(z.applied.delete_failed[0].ip, "10.0.0.8");
  EXPECT_EQ(z.applied.delete_failed[0].refusal, (Refusal{0, "internal error"}));
  EXPECT_EQ(api_.gets, std::vector<std::string>{"10.0.0.8"});  // checked, still there
  EXPECT_EQ(cycle.exit_status(), 1);
}

TEST_F(ReconcilerTest, OneZoneFailingDoesNotStopTheOthers) {
  api_.seed(kZoneA, range_ips(0, 10));
  api_.seed(kZoneB, range_ips(0, 10));
  api_.list_fails[kZoneA] = unavailable();
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle =
      run(applier, {{zone_keeping(kZoneA, range_ips(0, 8)), zone_keeping(kZoneB, range_ips(0, 8))}},
          {.max_delete_fraction = 0.3, .force = false, .concurrency = 2});
  ASSERT_EQ(cycle.zones.size(), 2u);
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kFailure);
  EXPECT_NE(cycle.zones[0].error.find("listing"), std::string::npos);
  EXPECT_FALSE(cycle.zones[0].listed);
  EXPECT_EQ(cycle.zones[1].outcome, ZoneOutcome::kSuccess);
  EXPECT_EQ(api_.live(kZoneB).size(), 8u);
  EXPECT_EQ(api_.live(kZoneA).size(), 10u);  // nothing deleted without a listing
  EXPECT_EQ(cycle.exit_status(), 1);
}

TEST_F(ReconcilerTest, AFailedBatchStopsThatZonesPlan) {
  api_.seed(kZoneA, range_ips(0, 300));
  ApiError denied;
  denied.kind = ApiError::Kind::kPermanent;
  denied.http_status = 403;
  api_.batch_fails[kZoneA] = denied;
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 100))}},
                         {.max_delete_fraction = 1.0, .force = false, .concurrency = 1});
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kFailure);
  EXPECT_EQ(cycle.zones[0].applied.requests, 1u);
  EXPECT_EQ(api_.batches.size(), 1u);
}

TEST_F(ReconcilerTest, SafetyGuardBlocksAndForceLiftsIt) {
  api_.seed(kZoneA, range_ips(0, 20));
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const DesiredState desired{{zone_keeping(kZoneA, range_ips(0, 5))}};  // 15 of 20 stale
  const auto blocked = run(applier, desired);
  EXPECT_EQ(blocked.zones[0].outcome, ZoneOutcome::kBlocked);
  EXPECT_TRUE(api_.batches.empty());
  EXPECT_EQ(blocked.exit_status(), 3);

  const auto forced =
      run(applier, desired, {.max_delete_fraction = 0.3, .force = true, .concurrency = 1});
  EXPECT_EQ(forced.zones[0].outcome, ZoneOutcome::kSuccess);
  EXPECT_EQ(api_.live(kZoneA).size(), 5u);
}

TEST_F(ReconcilerTest, AZonesOwnThresholdBlocksItAndForceZoneLiftsItForThatZoneAlone) {
  // Both zones would delete 3 of 20 (15 %): under the configuration's 30 %, above kZoneA's
  // own 10 %.
  api_.seed(kZoneA, range_ips(0, 20));
  api_.seed(kZoneB, range_ips(100, 120));
  DesiredZone a = zone_keeping(kZoneA, range_ips(0, 17));
  a.max_delete_fraction = 0.1;
  DesiredZone b = zone_keeping(kZoneB, range_ips(100, 117));
  const DesiredState desired{{a, b}};
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto first = run(applier, desired);
  EXPECT_EQ(first.zones[0].outcome, ZoneOutcome::kBlocked);
  EXPECT_NE(first.zones[0].error.find("above max_delete_fraction 10.0% (the zone's own "
                                      "threshold); to approve these changes for this zone alone: "
                                      "origin-reconciler --once --force-zone " +
                                      std::string(kZoneA)),
            std::string::npos)
      << first.zones[0].error;
  EXPECT_EQ(first.zones[1].outcome, ZoneOutcome::kSuccess) << first.zones[1].error;
  EXPECT_EQ(api_.live(kZoneA).size(), 20u);
  EXPECT_EQ(api_.live(kZoneB).size(), 17u);

  // --force-zone for kZoneB does nothing for kZoneA; for kZoneA it lifts it.
  ReconcileSettings other;
  other.force_zones = {kZoneB};
  EXPECT_EQ(run(applier, desired, other).zones[0].outcome, ZoneOutcome::kBlocked);
  ReconcileSettings forced;
  forced.force_zones = {kZoneA};
  const auto lifted = run(applier, desired, forced);
  EXPECT_EQ(lifted.zones[0].outcome, ZoneOutcome::kSuccess) << lifted.zones[0].error;
  EXPECT_EQ(api_.live(kZoneA).size(), 17u);
}

TEST_F(ReconcilerTest, AZonesOwnThresholdMayBeLooserAndAReviewApprovesABlock) {
  api_.seed(kZoneA, range_ips(0, 20));
  api_.seed(kZoneB, range_ips(100, 120));
  DesiredZone a = zone_keeping(kZoneA, range_ips(0, 10));  // 50 % stale
  a.max_delete_fraction = 0.6;
  DesiredZone b = zone_keeping(kZoneB, range_ips(100, 110));  // 50 % stale, 30 % applies
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  ReconcileSettings approved;
  approved.approved_zones = {kZoneB};
  EXPECT_EQ(guard_lifted_by(approved, kZoneB), "approved by the reviewed plan");
  EXPECT_EQ(guard_lifted_by(approved, kZoneA), "");
  const auto cycle = run(applier, {{a, b}}, approved);
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kSuccess) << cycle.zones[0].error;
  EXPECT_EQ(cycle.zones[1].outcome, ZoneOutcome::kSuccess) << cycle.zones[1].error;
  EXPECT_EQ(api_.live(kZoneB).size(), 10u);
}

TEST_F(ReconcilerTest, ASuspendedZoneIsListedAndPlannedButSendsNothingUntilItsEnd) {
  api_.seed(kZoneA, range_ips(0, 12));
  api_.seed(kZoneB, range_ips(100, 112));
  DesiredZone a = zone_keeping(kZoneA, range_ips(0, 10));
  a.suspend = Suspension{"incident 4711", clock_.wall() + std::chrono::hours(1)};
  const DesiredState desired{{a, zone_keeping(kZoneB, range_ips(100, 110))}};
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  testing::LogCapture logs;
  const auto cycle = run(applier, desired);
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuspended);
  EXPECT_TRUE(z.listed);
  EXPECT_EQ(z.plan.changes.deletes.size(), 2u) << "the drift is still known";
  EXPECT_EQ(z.error, "reason: incident 4711, until " + format_utc(*a.suspend->until));
  EXPECT_EQ(api_.live(kZoneA).size(), 12u) << "nothing sent";
  EXPECT_EQ(cycle.zones[1].outcome, ZoneOutcome::kSuccess);
  EXPECT_EQ(api_.live(kZoneB).size(), 10u);
  EXPECT_EQ(cycle.exit_status(), 0) << "a pause is not a failure";
  EXPECT_NE(cycle.summary().find(", 1 suspended;"), std::string::npos) << cycle.summary();
  EXPECT_EQ(logs.count("nothing sent while suspended"), 1);

  // Its until passes: a warning, and the zone is reconciled again.
  clock_.advance(std::chrono::hours(1));
  const auto later = run(applier, desired);
  EXPECT_EQ(later.zones[0].outcome, ZoneOutcome::kSuccess) << later.zones[0].error;
  EXPECT_EQ(api_.live(kZoneA).size(), 10u);
  EXPECT_EQ(logs.count("its suspension (incident 4711) ended at"), 1);

  // Without an until it lasts until it is removed.
  EXPECT_TRUE(active_suspension(DesiredZone{kZoneA, {}, {}, {}, {}, {}, Suspension{"x", {}}},
                                clock_.wall() + std::chrono::hours(10000)));
}

TEST_F(ReconcilerTest, TheDaemonsFreezeSuspendsEveryZoneUntilItsEnd) {
  api_.seed(kZoneA, range_ips(0, 12));
  DesiredZone a = zone_keeping(kZoneA, range_ips(0, 10));
  a.suspend = Suspension{"ended", clock_.wall() - std::chrono::hours(1)};  // its own: ended
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  ReconcileSettings settings;
  settings.freeze = Suspension{"change freeze", clock_.wall() + std::chrono::minutes(5)};
  const auto frozen = run(applier, {{a}}, settings);
  EXPECT_EQ(frozen.zones[0].outcome, ZoneOutcome::kSuspended);
  EXPECT_EQ(frozen.zones[0].error, "reconcile.suspend, reason: change freeze, until " +
                                       format_utc(*settings.freeze->until));
  EXPECT_EQ(api_.live(kZoneA).size(), 12u);
  clock_.advance(std::chrono::minutes(5));
  const auto thawed = run(applier, {{a}}, settings);
  EXPECT_EQ(thawed.zones[0].outcome, ZoneOutcome::kSuccess) << thawed.zones[0].error;
  EXPECT_EQ(api_.live(kZoneA).size(), 10u);
}

// Told not to keep them, a zone's report lets the IPs of the deletes it sent go and keeps
// their number, which the summary and the stale count read; the zones that sent nothing keep
// the list their reports show.
TEST_F(ReconcilerTest, SentDeletesAreCountedNotKeptWhenNothingListsThem) {
  api_.seed(kZoneA, range_ips(0, 10));
  api_.seed(kZoneB, range_ips(0, 20));
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const DesiredState desired{
      {zone_keeping(kZoneA, range_ips(0, 8)), zone_keeping(kZoneB, range_ips(0, 5))}};
  const auto cycle = run(
      applier, desired, {.max_delete_fraction = 0.3, .concurrency = 1, .keep_sent_deletes = false});
  ASSERT_EQ(cycle.zones.size(), 2u);
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kSuccess);
  EXPECT_TRUE(cycle.zones[0].plan.changes.deletes.empty());
  EXPECT_EQ(cycle.zones[0].plan.changes.delete_count(), 2u);
  EXPECT_FALSE(cycle.zones[0].plan.changes.empty());
  EXPECT_EQ(cycle.zones[1].outcome, ZoneOutcome::kBlocked);  // 15 of 20: its list is kept
  EXPECT_EQ(cycle.zones[1].plan.changes.deletes.size(), 15u);
  EXPECT_EQ(cycle.summary(), "2 zones: 1 ok, 0 failed, 1 blocked, 0 dry-run; 17 stale, 2 pruned");

  DryRunApplier dry_run;
  const auto planned =
      run(dry_run, {{zone_keeping(kZoneB, range_ips(0, 19))}}, {.keep_sent_deletes = false});
  EXPECT_EQ(planned.zones[0].plan.changes.deletes, std::vector<std::string>{"10.0.0.19"});

  DesiredZone paused = zone_keeping(kZoneB, range_ips(0, 19));
  paused.suspend = Suspension{"incident 4711", clock_.wall() + std::chrono::hours(1)};
  const auto suspended = run(applier, {{paused}}, {.keep_sent_deletes = false});
  EXPECT_EQ(suspended.zones[0].outcome, ZoneOutcome::kSuspended);
  EXPECT_EQ(suspended.zones[0].plan.changes.deletes, std::vector<std::string>{"10.0.0.19"});
}

TEST(ChangeSet, ReleasedDeletesAreCounted) {
  ChangeSet c;
  c.deletes = {"10.0.0.1", "10.0.0.2"};
  c.release_deletes();
  EXPECT_EQ(c.deletes.capacity(), 0u);
  EXPECT_EQ(c.delete_count(), 2u);
  EXPECT_FALSE(c.empty());
  c.deletes = {"10.0.0.3"};
  c.release_deletes();
  EXPECT_EQ(c.delete_count(), 3u);
  EXPECT_TRUE(ChangeSet{}.empty());
}

TEST_F(ReconcilerTest, DryRunSendsNothing) {
  api_.seed(kZoneA, range_ips(0, 10));
  DryRunApplier applier;
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 8))}});
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kDryRun);
  EXPECT_EQ(cycle.zones[0].plan.changes.deletes,
            (std::vector<std::string>{"10.0.0.8", "10.0.0.9"}));
  EXPECT_TRUE(api_.batches.empty());
  EXPECT_EQ(api_.live(kZoneA).size(), 10u);
  EXPECT_EQ(cycle.exit_status(), 0);
}

TEST_F(ReconcilerTest, ManyZonesConcurrentlyKeepTheirOrder) {
  DesiredState desired;
  for (int i = 0; i < 12; ++i) {
    char id[33];
    std::snprintf(id, sizeof(id), "%032x", i + 1);
    api_.seed(id, range_ips(0, 10));
    desired.zones.push_back(zone_keeping(id, range_ips(0, 9)));
  }
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle =
      run(applier, desired, {.max_delete_fraction = 0.3, .force = false, .concurrency = 4});
  ASSERT_EQ(cycle.zones.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(cycle.zones[i].zone_id, desired.zones[i].zone_id);
    EXPECT_EQ(cycle.zones[i].applied.pruned, 1u);
  }
  EXPECT_EQ(observer_.seen.size(), 12u);
}

TEST_F(ReconcilerTest, StopRequestedBeforeTheCycleRunsNothing) {
  api_.seed(kZoneA, range_ips(0, 10));
  sleeper_.stop();
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, {})}});
  EXPECT_TRUE(cycle.interrupted);
  EXPECT_TRUE(cycle.zones.empty());
  EXPECT_EQ(api_.list_calls, 0);
}

// --- Batch answers are matched against the request ---------------------------------------

struct MatchCase {
  const char* name;
  std::vector<std::string> requested;
  BatchResult answer;
  std::vector<std::string> succeeded;
  std::vector<std::string> failed;  // ip=error, or ip=absent
  std::vector<std::string> unrequested;
  std::size_t unanswered;
};

void PrintTo(const MatchCase& c, std::ostream* os) {
  *os << c.name;
}

class MatchBatchAnswer : public ::testing::TestWithParam<MatchCase> {};

TEST_P(MatchBatchAnswer, OnlyRequestedIpsCountAndInTheRequestsSpelling) {
  const auto& c = GetParam();
  const MatchedBatch m = match_batch_answer(c.requested, c.answer);
  EXPECT_EQ(m.applied, c.succeeded);
  std::vector<std::string> failed;
  for (const auto& f : m.refused) failed.push_back(f.ip + "=" + f.refusal.describe());
  for (const auto& ip : m.absent) failed.push_back(ip + "=absent");
  EXPECT_EQ(failed, c.failed);
  EXPECT_EQ(m.unrequested, c.unrequested);
  EXPECT_EQ(m.unanswered, c.unanswered);
}

struct FailedItem {
  std::string ip;
  std::string error;  // "absent": the API layer read it as absent
};

// Applied items first, then the failed ones, as the API layer reads an answer.
BatchResult answer(const std::vector<std::string>& succeeded,
                   const std::vector<FailedItem>& failed = {}) {
  BatchResult r;
  for (const auto& ip : succeeded) r.items.push_back({ip, ItemOutcome::applied()});
  for (const auto& f : failed) {
    r.items.push_back(
        {f.ip, f.error == "absent" ? ItemOutcome::absent() : ItemOutcome::refused({0, f.error})});
  }
  return r;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MatchBatchAnswer,
    ::testing::Values(
        MatchCase{"all_succeeded",
                  {"192.0.2.1", "192.0.2.2"},
                  answer({"192.0.2.2", "192.0.2.1"}),
                  {"192.0.2.1", "192.0.2.2"},
                  {},
                  {},
                  0},
        MatchCase{"answer_spells_ips_differently",
                  {"2001:db8::1", "192.0.2.1", "::ffff:192.0.2.9"},
                  answer({"2001:DB8:0::1", "::FFFF:192.0.2.1", "192.0.2.9"}),
                  {"2001:db8::1", "192.0.2.1", "::ffff:192.0.2.9"},
                  {},
                  {},
                  0},
        MatchCase{"unrequested_succeeded_ignored",
                  {"192.0.2.1"},
                  answer({"192.0.2.1", "192.0.2.99", "10.0.0.1", "junk"}),
                  {"192.0.2.1"},
                  {},
                  {"192.0.2.99", "10.0.0.1", "junk"},
                  0},
        MatchCase{"unrequested_failed_ignored",
                  {"192.0.2.1"},
                  answer({"192.0.2.1"}, {{"../../user/tokens/verify", "x"},
                                         {"192.0.2.99", "x"},
                                         {"192.0.2.1/32", "x"},
                                         {"", "x"}}),
                  {"192.0.2.1"},
                  {},
                  {"../../user/tokens/verify", "192.0.2.99", "192.0.2.1/32", ""},
                  0},
        MatchCase{"failed_in_the_requests_spelling",
                  {"::FFFF:192.0.2.1", "2001:DB8::5"},
                  answer({}, {{"192.0.2.1", "internal error"}, {"2001:db8::5", "busy"}}),
                  {},
                  {"::FFFF:192.0.2.1=internal error", "2001:DB8::5=busy"},
                  {},
                  0},
        MatchCase{"repeats_count_once",
                  {"192.0.2.1", "192.0.2.2"},
                  answer({"192.0.2.1", "192.0.2.1", "::ffff:192.0.2.1"},
                         {{"192.0.2.2", "first"}, {"192.0.2.2", "second"}}),
                  {"192.0.2.1"},
                  {"192.0.2.2=first"},
                  {},
                  0},
        MatchCase{"failed_outranks_succeeded",
                  {"192.0.2.1"},
                  answer({"192.0.2.1"}, {{"192.0.2.1", "internal error"}}),
                  {},
                  {"192.0.2.1=internal error"},
                  {},
                  0},
        MatchCase{"absent_outranks_succeeded_and_the_first_failure_decides",
                  {"192.0.2.1", "192.0.2.2"},
                  answer({"192.0.2.1", "192.0.2.2"}, {{"192.0.2.1", "absent"},
                                                      {"192.0.2.1", "internal error"},
                                                      {"192.0.2.2", "busy"},
                                                      {"192.0.2.2", "absent"}}),
                  {},
                  {"192.0.2.2=busy", "192.0.2.1=absent"},
                  {},
                  0},
        MatchCase{"unmentioned_are_counted_apart",
                  {"192.0.2.1", "192.0.2.2", "192.0.2.3"},
                  answer({"192.0.2.2"}),
                  {"192.0.2.2"},
                  {},
                  {},
                  2},
        // Both forms requested (an API that keeps them apart): each answer entry matches its
        // own form only.
        MatchCase{"both_forms_requested",
                  {"192.0.2.9", "::ffff:192.0.2.9"},
                  answer({"0:0:0:0:0:ffff:c000:209"}, {{"192.0.2.9", "internal error"}}),
                  {"::ffff:192.0.2.9"},
                  {"192.0.2.9=internal error"},
                  {},
                  0},
        MatchCase{"empty_answer", {"192.0.2.1"}, answer({}), {}, {}, {}, 1},
        // The usual answer: each requested IP once, in order and as spelled.
        MatchCase{"in_order_each_outcome",
                  {"192.0.2.1", "192.0.2.2", "2001:db8::1"},
                  answer({"192.0.2.1"}, {{"192.0.2.2", "busy"}, {"2001:db8::1", "absent"}}),
                  {"192.0.2.1"},
                  {"192.0.2.2=busy", "2001:db8::1=absent"},
                  {},
                  0},
        // In order, but one address requested twice: both entries answer its first request.
        MatchCase{"in_order_one_address_twice",
                  {"192.0.2.1", "192.0.2.1"},
                  answer({"192.0.2.1"}, {{"192.0.2.1", "busy"}}),
                  {},
                  {"192.0.2.1=busy"},
                  {},
                  1},
        MatchCase{"in_order_one_address_in_two_spellings",
                  {"2001:db8::1", "2001:DB8::1"},
                  answer({"2001:db8::1", "2001:DB8::1"}),
                  {"2001:db8::1"},
                  {},
                  {},
                  1}),
    [](const ::testing::TestParamInfo<MatchCase>& info) { return std::string(info.param.name); });

// Answers every batch delete with a fixed, crafted answer; records the follow-up checks.
class CraftedAnswerApi : public testing::ForwardingZoneApi {
 public:
  CraftedAnswerApi(ZoneApi& inner, BatchResult crafted)
      : ForwardingZoneApi(inner), crafted_(std::move(crafted)) {}
  Result<BatchResult> batch_delete(const std::string& z,
                                   const std::vector<std::string>& ips) override {
    sent.push_back(ips);
    (void)inner_.batch_delete(z, ips);  // the deletes happen; the answer is another story
    return crafted_;
  }
  std::vector<std::vector<std::string>> sent;

 private:
  BatchResult crafted_;
};

TEST_F(ReconcilerTest, UnrequestedIpsInAnAnswerAreNeitherCountedNorChecked) {
  api_.seed(kZoneA, range_ips(0, 10));
  CraftedAnswerApi crafted(
      api_, answer({"10.0.0.8", "10.0.0.9", "10.0.0.200", "10.0.0.201", "10.0.0.202"},
                   {{"../../user/tokens/verify", "internal error"},
                    {"10.0.0.0/../../../accounts", "internal error"},
                    {"10.0.0.250", "internal error"}}));
  ChangeSetApplier applier(crafted, 100, sleeper_.token());
  Reconciler r(crafted, applier, clock_, sleeper_.token(), observer_);
  const auto cycle = r.run_cycle({{zone_keeping(kZoneA, range_ips(0, 8))}}, {});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  EXPECT_EQ(z.applied.pruned, 2u);  // not 5
  EXPECT_EQ(z.applied.unrequested, 6u);
  EXPECT_TRUE(z.applied.delete_failed.empty());
  EXPECT_TRUE(api_.gets.empty()) << "no follow-up check of an IP nobody asked to delete";
}

TEST_F(ReconcilerTest, AFailedItemIsCheckedInItsCanonicalFormOnly) {
  // The listing spells a stale mapping unusually; the answer spells it another way.
  api_.seed(kZoneA, range_ips(0, 10));
  class OddListing : public testing::ForwardingZoneApi {
   public:
    using ForwardingZoneApi::ForwardingZoneApi;
    Result<std::vector<Mapping>> list(const std::string& z) override {
      auto r = inner_.list(z);
      r.value().push_back({"0:0:0:0:0:FFFF:0A00:0063", "aws", "r"});  // ::ffff:10.0.0.99
      return r;
    }
  } odd(api_);
  CraftedAnswerApi crafted(odd, answer({}, {{"::ffff:a00:63", "internal error"}}));
  ChangeSetApplier applier(crafted, 100, sleeper_.token());
  Reconciler r(crafted, applier, clock_, sleeper_.token(), observer_);
  const auto cycle = r.run_cycle({{zone_keeping(kZoneA, range_ips(0, 10))}}, {});
  const auto& z = cycle.zones[0];
  ASSERT_EQ(crafted.sent.size(), 1u);
  EXPECT_EQ(crafted.sent[0], std::vector<std::string>{"0:0:0:0:0:FFFF:0A00:0063"})
      << "the delete names the live record as the API spelled it";
  EXPECT_EQ(api_.gets, std::vector<std::string>{"::ffff:10.0.0.99"}) << "RFC 5952 in the path";
  ASSERT_EQ(z.applied.already_gone, 1u);  // the fake has no such record: absent
  EXPECT_EQ(z.applied.pruned, 0u);
}

TEST_F(ReconcilerTest, MappedListingsNeverDeleteADesiredOrigin) {
  // An API that keeps both forms apart lists desired origins also in their mapped form, and
  // one stale origin only in its mapped form.
  api_.seed(kZoneA, range_ips(0, 10));
  api_.seed(kZoneA, {"::ffff:10.0.0.1", "::ffff:10.0.0.2", "::ffff:10.0.0.50"});
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 10))}});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  ASSERT_EQ(api_.batches.size(), 1u);
  EXPECT_EQ(api_.batches[0].second, std::vector<std::string>{"::ffff:10.0.0.50"});
  EXPECT_EQ(z.applied.pruned, 1u);
  EXPECT_TRUE(api_.live(kZoneA).contains("::ffff:10.0.0.1"));
  EXPECT_EQ(api_.live(kZoneA).size(), 12u);
}

// --- Sync: change sets with creates and updates ----------------------------------------

DesiredOrigin origin(const std::string& ip, const char* vendor, const char* region) {
  return {*parse_origin_key(ip), vendor, region};
}

DesiredOrigin origin(const OriginKey& ip, const char* vendor, const char* region) {
  return {ip, vendor, region};
}

// 300 live (aws us-east-1): 150 in line, 50 desired in eu-west-1, 100 stale; 120 new origins.
DesiredZone three_hundred_zone(FakeZoneApi& api, const std::string& id) {
  api.seed(id, range_ips(0, 300));
  DesiredZone z;
  z.zone_id = id;
  for (const auto& ip : range_ips(0, 150)) z.origins.push_back(origin(ip, "aws", "us-east-1"));
  for (const auto& ip : range_ips(150, 200)) z.origins.push_back(origin(ip, "aws", "eu-west-1"));
  for (int i = 0; i < 120; ++i) {
    z.origins.push_back(origin("192.0.2." + std::to_string(i), "gcp", "us-central1"));
  }
  return z;
}

ReconcileSettings sync_settings(double max_delete_fraction = 0.5) {
  ReconcileSettings s;
  s.policy = Policy::kSync;
  s.max_delete_fraction = max_delete_fraction;
  return s;
}

TEST_F(ReconcilerTest, SyncUpsertsFirstThenDeletesInAsFewRequestsAsPossible) {
  const DesiredZone zone = three_hundred_zone(api_, kZoneA);
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone}}, sync_settings());
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  EXPECT_EQ(api_.calls,
            (std::vector<std::string>{"list", "regions", "upsert", "upsert", "delete"}));
  ASSERT_EQ(api_.upserts.size(), 2u);
  EXPECT_EQ(api_.upserts[0].second.size(), 100u);
  EXPECT_EQ(api_.upserts[1].second.size(), 70u);
  EXPECT_EQ(api_.upserts[0].second[0], (Mapping{"192.0.2.0", "gcp", "us-central1"}))
      << "creates first, then updates";
  EXPECT_EQ(api_.upserts[1].second.back(), (Mapping{"10.0.0.199", "aws", "eu-west-1"}));
  EXPECT_EQ(z.applied.requests, 3u);
  EXPECT_EQ(z.applied.upsert_requests, 2u);
  EXPECT_EQ(z.applied.upserted, 170u);
  EXPECT_EQ(z.applied.pruned, 100u);

  // Exactly the desired state, and nothing desired was deleted.
  const auto now = api_.mappings(kZoneA);
  ASSERT_EQ(now.size(), zone.origins.size());
  for (const auto& o : zone.origins) {
    const std::string ip = to_string(o.ip);
    ASSERT_TRUE(now.contains(ip)) << ip;
    EXPECT_EQ(now.at(ip), std::make_pair(*o.vendor, *o.region)) << ip;
  }
  // The second cycle reads the listing and sends nothing.
  api_.calls.clear();
  const auto again = run(applier, {{zone}}, sync_settings());
  EXPECT_EQ(again.zones[0].outcome, ZoneOutcome::kSuccess);
  EXPECT_EQ(api_.calls, std::vector<std::string>{"list"}) << "no regions read without upserts";
}

TEST_F(ReconcilerTest, PruneCountsWhatSyncWouldDoButOnlyDeletes) {
  const DesiredZone zone = three_hundred_zone(api_, kZoneA);
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone}}, {.max_delete_fraction = 0.5});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  EXPECT_EQ(api_.calls, (std::vector<std::string>{"list", "delete"}));
  EXPECT_EQ(z.plan.missing, 120u);
  EXPECT_EQ(z.plan.mismatched, 50u);
  EXPECT_EQ(z.applied.pruned, 100u);
  EXPECT_EQ(api_.live(kZoneA).size(), 200u);
}

TEST_F(ReconcilerTest, TheZonesPolicyOverridesTheDaemons) {
  DesiredZone synced = three_hundred_zone(api_, kZoneA);
  synced.policy = Policy::kSync;
  DesiredZone pruned = three_hundred_zone(api_, kZoneB);
  pruned.policy = Policy::kPrune;
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  ReconcileSettings daemon_prune{.max_delete_fraction = 0.5, .force = false, .concurrency = 1};
  const auto cycle = run(applier, {{synced}}, daemon_prune);
  EXPECT_EQ(cycle.zones[0].applied.upserted, 170u);
  ReconcileSettings daemon_sync = sync_settings();
  const auto other = run(applier, {{pruned}}, daemon_sync);
  EXPECT_EQ(other.zones[0].applied.upserted, 0u);
  EXPECT_EQ(other.zones[0].applied.pruned, 100u);
  for (const auto& [zone, items] : api_.upserts) EXPECT_EQ(zone, kZoneA);
}

TEST_F(ReconcilerTest, SupportedRegionsAreReadOncePerZoneAndCycle) {
  DesiredState desired;
  for (int i = 0; i < 6; ++i) {
    char id[33];
    std::snprintf(id, sizeof(id), "%032x", i + 1);
    desired.zones.push_back(three_hundred_zone(api_, id));
  }
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  ReconcileSettings settings = sync_settings();
  settings.concurrency = 3;
  const auto cycle = run(applier, desired, settings);
  for (const auto& z : cycle.zones) EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  // Each zone's own table (the API ties it to the zone's Tiered Cache), read once.
  EXPECT_EQ(api_.regions_calls, 6);
  for (const auto& z : desired.zones) EXPECT_EQ(api_.regions_calls_by_zone[z.zone_id], 1);
  // A new cycle reads them again (the table may have changed).
  for (auto& z : desired.zones) z.origins.push_back(origin("198.51.100.1", "aws", "us-east-1"));
  run(applier, desired, settings);
  EXPECT_EQ(api_.regions_calls, 12);
}

TEST_F(ReconcilerTest, OneZonesUnreadableRegionsDoNotHoldBackAnother) {
  const DesiredZone a = three_hundred_zone(api_, kZoneA);
  const DesiredZone b = three_hundred_zone(api_, kZoneB);
  ApiError no_tiered_cache;
  no_tiered_cache.kind = ApiError::Kind::kPermanent;
  no_tiered_cache.http_status = 400;
  no_tiered_cache.message = "Tiered Cache is not enabled";
  api_.zone_regions_fail[kZoneA] = no_tiered_cache;
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  ReconcileSettings settings = sync_settings();
  settings.concurrency = 1;  // zone A first: its failure must not be cached for B
  const auto cycle = run(applier, {{a, b}}, settings);
  ASSERT_EQ(cycle.zones.size(), 2u);
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kFailure);
  EXPECT_EQ(cycle.zones[1].outcome, ZoneOutcome::kSuccess) << cycle.zones[1].error;
  EXPECT_EQ(cycle.zones[1].applied.upserted, 170u);
  for (const auto& [zone, items] : api_.upserts) EXPECT_EQ(zone, kZoneB);
  EXPECT_EQ(api_.regions_calls_by_zone[kZoneA], 1);
  EXPECT_EQ(api_.regions_calls_by_zone[kZoneB], 1);
}

TEST_F(ReconcilerTest, AnUnsupportedRegionIsReportedAndNotSent) {
  api_.seed(kZoneA, range_ips(0, 10));
  DesiredZone z = zone_keeping(kZoneA, range_ips(0, 10));
  z.origins.set(3, origin("10.0.0.3", "aws", "mars-north-1"));      // an update
  z.origins.push_back(origin("192.0.2.1", "oci", "us-ashburn-1"));  // no oci in the table
  z.origins.push_back(origin("192.0.2.2", "gcp", "us-central1"));
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{z}}, sync_settings());
  const auto& r = cycle.zones[0];
  EXPECT_EQ(r.outcome, ZoneOutcome::kSuccess) << r.error;
  EXPECT_EQ(r.unsupported, (std::vector<Mapping>{{"192.0.2.1", "oci", "us-ashburn-1"},
                                                 {"10.0.0.3", "aws", "mars-north-1"}}));
  ASSERT_EQ(api_.upserts.size(), 1u);
  EXPECT_EQ(api_.upserts[0].second, (std::vector<Mapping>{{"192.0.2.2", "gcp", "us-central1"}}));
  EXPECT_EQ(api_.mappings(kZoneA).at("10.0.0.3"),
            std::make_pair(std::string("aws"), std::string("us-east-1")));
}

TEST_F(ReconcilerTest, ARefusedUpsertIsAnItemFailureWithTheApisError) {
  api_.seed(kZoneA, range_ips(0, 10));
  DesiredZone z = zone_keeping(kZoneA, range_ips(0, 9));
  z.origins.push_back(origin("192.0.2.1", "gcp", "us-central1"));
  z.origins.push_back(origin("192.0.2.2", "gcp", "us-central1"));
  api_.refuse_upsert["192.0.2.1"] = {1157, "region not available for this zone"};
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{z}}, sync_settings());
  const auto& r = cycle.zones[0];
  EXPECT_EQ(r.outcome, ZoneOutcome::kFailure);
  EXPECT_EQ(r.applied.upserted, 1u);
  EXPECT_EQ(
      r.applied.upsert_failed,
      (std::vector<ItemFailure>{{"192.0.2.1", {1157, "region not available for this zone"}}}));
  EXPECT_NE(r.error.find("1 items could not be created or updated"), std::string::npos) << r.error;
  EXPECT_EQ(r.applied.pruned, 1u) << "the deletes still go out";
  EXPECT_TRUE(api_.gets.empty()) << "no follow-up check for upserts";
  EXPECT_EQ(cycle.failed_items(), 1u);
  EXPECT_EQ(cycle.exit_status(), 1);
}

TEST_F(ReconcilerTest, AFailedUpsertRequestSendsNoDeletes) {
  const DesiredZone zone = three_hundred_zone(api_, kZoneA);
  ApiError denied;
  denied.kind = ApiError::Kind::kPermanent;
  denied.http_status = 400;
  denied.codes = {1164};
  denied.message = "[1164] Zone limit reached";
  denied.zone_full = true;  // as the Cloudflare layer reads code 1164
  api_.upsert_fails[kZoneA] = denied;
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone}}, sync_settings());
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kFailure);
  EXPECT_NE(z.error.find("batch upsert: zone limit reached: the zone already holds the 3500 "
                         "mappings Cloudflare allows (HTTP 400: [1164] Zone limit reached)"),
            std::string::npos)
      << z.error;
  EXPECT_EQ(api_.upserts.size(), 1u);
  EXPECT_TRUE(api_.batches.empty());
  EXPECT_EQ(api_.live(kZoneA).size(), 300u);
}

TEST_F(ReconcilerTest, UnreadableSupportedRegionsHoldBackUpsertsButNotDeletes) {
  const DesiredZone zone = three_hundred_zone(api_, kZoneA);
  api_.regions_fail = unavailable();
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone}}, sync_settings());
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kFailure);
  EXPECT_NE(z.error.find("reading supported regions: HTTP 503"), std::string::npos) << z.error;
  EXPECT_NE(z.error.find("170 creates and updates held back"), std::string::npos) << z.error;
  EXPECT_NE(z.error.find("the zone's deletes were sent"), std::string::npos) << z.error;
  EXPECT_EQ(api_.calls, (std::vector<std::string>{"list", "regions", "delete"}));
  EXPECT_EQ(z.regions_unknown.size(), 170u);
  EXPECT_EQ(z.applied.pruned, 100u);
  EXPECT_EQ(api_.live(kZoneA).size(), 200u);
  EXPECT_EQ(cycle.exit_status(), 1);
}

TEST_F(ReconcilerTest, UnreadableSupportedRegionsDoNotLiftTheDeleteGuard) {
  const DesiredZone zone = three_hundred_zone(api_, kZoneA);
  api_.regions_fail = unavailable();
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  // 100 of 300 stale: above a 30 % guard.
  const auto cycle = run(applier, {{zone}}, sync_settings(0.3));
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kBlocked);
  EXPECT_EQ(api_.calls, (std::vector<std::string>{"list", "regions"}));
}

TEST_F(ReconcilerTest, AFullZoneThatReplacesOriginsMakesRoomFirstAndConverges) {
  // 3,400 live, 300 of them dropped, 300 new ones added: live + creates is 3,700 > 3,500.
  std::vector<Mapping> live;
  for (const auto& ip : range_ips(0, 3400)) live.push_back({ip, "aws", "us-east-1"});
  api_.seed(kZoneA, live);
  api_.zone_limit = kZoneMappingLimit;
  DesiredZone z;
  z.zone_id = kZoneA;
  for (const auto& ip : range_ips(300, 3700)) z.origins.push_back(origin(ip, "aws", "us-east-1"));
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  ReconcileSettings settings = sync_settings(0.1);
  const auto cycle = run(applier, {{z}}, settings);
  const auto& r = cycle.zones[0];
  EXPECT_EQ(r.outcome, ZoneOutcome::kSuccess) << r.error;
  EXPECT_EQ(api_.limit_refusals, 0);
  EXPECT_EQ(api_.live(kZoneA).size(), 3400u);
  EXPECT_EQ(r.applied.requests, 6u) << "as few requests as ever";
  // 3,400 + 100 fits; the second and third batches of creates each need a delete batch first.
  EXPECT_EQ(api_.calls, (std::vector<std::string>{"list", "regions", "upsert", "delete", "upsert",
                                                  "delete", "upsert", "delete"}));
  EXPECT_EQ(cycle.exit_status(), 0);
}

TEST_F(ReconcilerTest, ADesiredStateLargerThanAZoneCanHoldIsRefusedBeforeAnyRequest) {
  DesiredZone z;
  z.zone_id = kZoneA;
  for (const auto& ip : range_ips(0, 3600)) z.origins.push_back(origin(ip, "aws", "us-east-1"));
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{z}}, sync_settings());
  const auto& r = cycle.zones[0];
  EXPECT_EQ(r.outcome, ZoneOutcome::kFailure);
  EXPECT_NE(r.error.find("names 3600 origins for this zone under policy sync, more than the 3500"),
            std::string::npos)
      << r.error;
  EXPECT_TRUE(api_.calls.empty());
  // Under prune the same file only says what to keep: nothing to refuse.
  ReconcileSettings prune;
  prune.policy = Policy::kPrune;
  EXPECT_EQ(run(applier, {{z}}, prune).zones[0].outcome, ZoneOutcome::kSuccess);
}

TEST_F(ReconcilerTest, TheUpdateGuardBlocksAndForceLiftsIt) {
  api_.seed(kZoneA, range_ips(0, 20));
  DesiredZone z;
  z.zone_id = kZoneA;
  for (const auto& ip : range_ips(0, 20)) z.origins.push_back(origin(ip, "aws", "eu-west-1"));
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto blocked = run(applier, {{z}}, sync_settings());
  EXPECT_EQ(blocked.zones[0].outcome, ZoneOutcome::kBlocked);
  EXPECT_NE(blocked.zones[0].error.find("max_update_fraction"), std::string::npos);
  EXPECT_TRUE(api_.upserts.empty());
  ReconcileSettings forced = sync_settings();
  forced.force = true;
  EXPECT_EQ(run(applier, {{z}}, forced).zones[0].outcome, ZoneOutcome::kSuccess);
  ReconcileSettings loose = sync_settings();
  loose.max_update_fraction = 1.0;
  EXPECT_EQ(run(applier, {{z}}, loose).zones[0].outcome, ZoneOutcome::kSuccess);
}

// 20 live on aws us-east-1, a wrong desired state moving all 20 to gcp.
DesiredZone all_moved_to_gcp(FakeZoneApi& api) {
  api.seed(kZoneA, range_ips(0, 20));
  DesiredZone z;
  z.zone_id = kZoneA;
  for (const auto& ip : range_ips(0, 20)) z.origins.push_back(origin(ip, "gcp", "us-central1"));
  return z;
}

TEST_F(ReconcilerTest, AnEmptyListingIsReadAgainBeforeCreatesArePlanned) {
  const DesiredZone z = all_moved_to_gcp(api_);
  api_.empty_lists = 1;  // one glitch: the second listing is true
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{z}}, sync_settings());
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kBlocked) << cycle.zones[0].error;
  EXPECT_NE(cycle.zones[0].error.find("would update 20 of 20"), std::string::npos);
  EXPECT_EQ(api_.calls, (std::vector<std::string>{"list", "list", "regions"}));
  EXPECT_TRUE(api_.upserts.empty());
}

TEST_F(ReconcilerTest, CreatesReplacingWhatTheLastListingHadCountTowardTheUpdateGuard) {
  const DesiredZone z = all_moved_to_gcp(api_);
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  ListingMemory memory;
  auto cycle = [&](ReconcileSettings settings) {
    Reconciler r(api_, applier, clock_, sleeper_.token(), observer_);
    r.remember_listings(memory);
    return r.run_cycle({{z}}, settings);
  };
  EXPECT_EQ(cycle(sync_settings()).zones[0].outcome, ZoneOutcome::kBlocked);
  // Both listings of the next cycle come back empty: the 20 creates would rewrite the 20
  // mappings the zone had a moment ago.
  api_.empty_lists = 2;
  const auto glitch = cycle(sync_settings());
  EXPECT_EQ(glitch.zones[0].outcome, ZoneOutcome::kBlocked) << glitch.zones[0].error;
  EXPECT_NE(glitch.zones[0].error.find("would update 20 of 20 live mappings"), std::string::npos)
      << glitch.zones[0].error;
  EXPECT_NE(glitch.zones[0].error.find("counted against the last listing, 20 mappings: this "
                                       "one has 0"),
            std::string::npos)
      << glitch.zones[0].error;
  EXPECT_TRUE(api_.upserts.empty());
  // The doubtful listing is not remembered: the next glitch is caught the same way.
  api_.empty_lists = 2;
  EXPECT_EQ(cycle(sync_settings()).zones[0].outcome, ZoneOutcome::kBlocked);
  EXPECT_TRUE(api_.upserts.empty());
  // New origins alone are plain creates, never blocked by what the zone had.
  DesiredZone more = z;
  for (std::size_t i = 0; i < more.origins.size(); ++i) {
    more.origins.set(i, origin(more.origins[i].ip, "aws", "us-east-1"));
  }
  more.origins.push_back(origin("192.0.2.1", "gcp", "us-central1"));
  Reconciler r(api_, applier, clock_, sleeper_.token(), observer_);
  r.remember_listings(memory);
  const auto added = r.run_cycle({{more}}, sync_settings());
  EXPECT_EQ(added.zones[0].outcome, ZoneOutcome::kSuccess) << added.zones[0].error;
  EXPECT_EQ(api_.live(kZoneA).size(), 21u);
  // --force lifts it like the guard it is.
  api_.empty_lists = 2;
  ReconcileSettings forced = sync_settings();
  forced.force = true;
  EXPECT_EQ(cycle(forced).zones[0].outcome, ZoneOutcome::kSuccess);
}

TEST_F(ReconcilerTest, AnEmptyListingOfAPruneZoneThatHadMappingsIsReadAgain) {
  api_.seed(kZoneA, range_ips(0, 20));
  const DesiredZone z = zone_keeping(kZoneA, range_ips(0, 15));
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  ListingMemory memory;
  Reconciler first(api_, applier, clock_, sleeper_.token(), observer_);
  first.remember_listings(memory);
  EXPECT_EQ(first.run_cycle({{z}}, {}).zones[0].outcome, ZoneOutcome::kSuccess);
  api_.calls.clear();
  api_.empty_lists = 1;
  Reconciler second(api_, applier, clock_, sleeper_.token(), observer_);
  second.remember_listings(memory);
  const auto cycle = second.run_cycle({{z}}, {});
  EXPECT_EQ(cycle.zones[0].plan.live, 15u);
  EXPECT_EQ(api_.calls, (std::vector<std::string>{"list", "list"}));
}

TEST_F(ReconcilerTest, AnUpsertAnswerNamingNoneOfTheIpsIsAFailedItemForEach) {
  api_.seed(kZoneA, range_ips(0, 3));
  DesiredZone z = zone_keeping(kZoneA, range_ips(0, 3));
  z.origins.push_back(origin("192.0.2.1", "gcp", "us-central1"));
  z.origins.push_back(origin("192.0.2.2", "gcp", "us-central1"));
  api_.upsert_answers_nothing = true;
  ChangeSetApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{z}}, sync_settings());
  const auto& r = cycle.zones[0];
  EXPECT_EQ(r.outcome, ZoneOutcome::kFailure);
  ASSERT_EQ(r.applied.upsert_failed.size(), 2u);
  EXPECT_EQ(r.applied.upsert_failed[0].ip, "192.0.2.1");
  EXPECT_EQ(r.applied.upsert_failed[0].refusal.message, "the answer does not name it");
  EXPECT_EQ(r.applied.upserted, 0u);
  EXPECT_EQ(cycle.exit_status(), 1);
}

TEST_F(ReconcilerTest, DryRunInSyncSendsNothingButReadsTheRegions) {
  const DesiredZone zone = three_hundred_zone(api_, kZoneA);
  DryRunApplier applier;
  const auto cycle = run(applier, {{zone}}, sync_settings());
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kDryRun);
  EXPECT_EQ(cycle.zones[0].plan.changes.upserts(), 170u);
  EXPECT_EQ(api_.calls, (std::vector<std::string>{"list", "regions"}));
}

TEST_F(ReconcilerTest, AStopBeforeTheDeletesSendsNone) {
  const DesiredZone zone = three_hundred_zone(api_, kZoneA);
  class StoppingApi : public testing::ForwardingZoneApi {
   public:
    StoppingApi(ZoneApi& inner, testing::FakeSleeper& s) : ForwardingZoneApi(inner), s_(s) {}
    Result<BatchResult> batch_upsert(const std::string& z, const std::vector<Mapping>& m) override {
      s_.stop();
      return inner_.batch_upsert(z, m);
    }

   private:
    testing::FakeSleeper& s_;
  } stopping(api_, sleeper_);
  ChangeSetApplier applier(stopping, 100, sleeper_.token());
  Reconciler r(stopping, applier, clock_, sleeper_.token(), observer_);
  const auto report = r.reconcile_zone(zone, sync_settings());
  EXPECT_EQ(report.outcome, ZoneOutcome::kInterrupted) << "a stop is not a failure";
  EXPECT_EQ(report.stopped_by, StopReason::kShutdown);
  ASSERT_TRUE(report.applied.error);
  EXPECT_EQ(report.applied.error->kind, ApiError::Kind::kCancelled);
  EXPECT_EQ(api_.upserts.size(), 1u);
  EXPECT_TRUE(api_.batches.empty());
}

TEST_F(ReconcilerTest, ItemsRefusedBeforeAStopAreStillAFailure) {
  api_.seed(kZoneA, range_ips(0, 300));
  api_.refuse["10.0.0.100"] = "internal error";  // in the first of two batches
  Cancellation cancel;
  StoppedFor stopping(api_, cancel, StopReason::kShutdown, StoppedFor::At::kBatch);
  const auto report = reconcile_zone(stopping, cancel, zone_keeping(kZoneA, range_ips(0, 100)),
                                     {.max_delete_fraction = 1});
  EXPECT_EQ(report.outcome, ZoneOutcome::kFailure);
  EXPECT_EQ(report.stopped_by, StopReason::kShutdown);
  EXPECT_EQ(report.applied.delete_failed.size(), 1u);
  EXPECT_EQ(api_.batches.size(), 1u) << "the second batch is not sent after the stop";
}

// --- A zone a stop cuts short says why -----------------------------------------------------

TEST(Cancellation, TheFirstReasonIsKeptAndTheTokenStops) {
  Cancellation c;
  EXPECT_FALSE(c.stop_requested());
  EXPECT_EQ(c.reason(), StopReason::kShutdown);
  const std::stop_token token = c.get_token();
  EXPECT_TRUE(c.request_stop(StopReason::kNotLeader));
  EXPECT_TRUE(token.stop_requested());
  EXPECT_FALSE(c.request_stop(StopReason::kShutdown));
  EXPECT_EQ(c.reason(), StopReason::kNotLeader);
}

TEST(Cancellation, TheReasonIsSetBeforeTheTokenIsSeenStopped) {
  Cancellation c;
  StopReason seen = StopReason::kShutdown;
  std::stop_callback on_stop(c.get_token(), [&] { seen = c.reason(); });
  c.request_stop(StopReason::kNotLeader);
  EXPECT_EQ(seen, StopReason::kNotLeader);
}

// Zone A reconciled while its listing is given up for a stop of reason `why`.
class CutShortTest : public ReconcilerTest {
 protected:
  ZoneReport listing_stopped_for(StopReason why) {
    api_.seed(kZoneA, range_ips(0, 10));
    Cancellation cancel;
    StoppedFor api(api_, cancel, why, StoppedFor::At::kListing);
    ChangeSetApplier applier(api, 100, cancel);
    Reconciler r(api, applier, clock_, cancel, observer_);
    auto cycle = r.run_cycle({{zone_keeping(kZoneA, range_ips(0, 8))}}, {});
    EXPECT_EQ(cycle.zones.size(), 1u);
    return cycle.zones.at(0);
  }
};

struct CutShortCase {
  const char* name;
  StopReason why;
  std::string error;                // the zone's error
  std::string log_line;             // the one line logged about the zone
  std::vector<std::string> absent;  // words no log line has
};

class CutShortByTest : public CutShortTest, public ::testing::WithParamInterface<CutShortCase> {};

TEST_P(CutShortByTest, IsInterruptedAndSaysWhy) {
  const CutShortCase& c = GetParam();
  const testing::LogCapture log;
  const ZoneReport report = listing_stopped_for(c.why);
  EXPECT_EQ(report.outcome, ZoneOutcome::kInterrupted);
  EXPECT_EQ(report.stopped_by, c.why);
  EXPECT_EQ(report.error, c.error);
  EXPECT_EQ(log.lines_with(kZoneA), std::vector<std::string>{c.log_line});
  for (const auto& word : c.absent) EXPECT_TRUE(log.lines_with(word).empty()) << word;
}

// Lost leadership says so, not shutting down; the shutdown is an interruption, not a failure.
INSTANTIATE_TEST_SUITE_P(
    Stops, CutShortByTest,
    ::testing::Values(
        CutShortCase{"LostLeadershipSaysSoNotShuttingDown",
                     StopReason::kNotLeader,
                     "listing mappings: no answer: this instance is no longer the leader",
                     std::string("warning zone ") + kZoneA +
                         ": abandoned: listing mappings: no answer: this instance is no longer "
                         "the leader: live=0 stale=0 pruned=0; whichever instance leads now "
                         "reconciles it",
                     {"shutting down"}},
        CutShortCase{"TheShutdownIsInterruptedNotFailed",
                     StopReason::kShutdown,
                     "listing mappings: no answer: shutting down",
                     std::string("info zone ") + kZoneA +
                         ": interrupted: listing mappings: no answer: shutting down: live=0 "
                         "stale=0 pruned=0; not a failure, the next start reconciles it",
                     {"leader", "error"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ReconcilerTest, ABatchCutShortByLostLeadershipCarriesTheReason) {
  const DesiredZone zone = three_hundred_zone(api_, kZoneA);
  Cancellation cancel;
  StoppedFor losing(api_, cancel, StopReason::kNotLeader, StoppedFor::At::kBatch);
  const auto report = reconcile_zone(losing, cancel, zone, sync_settings());
  ASSERT_TRUE(report.applied.error);
  EXPECT_EQ(report.applied.error->kind, ApiError::Kind::kCancelled);
  EXPECT_EQ(report.applied.error->message, "this instance is no longer the leader");
  EXPECT_EQ(report.stopped_by, StopReason::kNotLeader);
  EXPECT_EQ(report.error,
            "batch upsert: no answer: this instance is no longer the leader; no deletes sent");
  EXPECT_EQ(api_.upserts.size(), 1u);
  EXPECT_TRUE(api_.batches.empty());
}

TEST_F(ReconcilerTest, AZoneThatFailsOnItsOwnHasNoStopReason) {
  api_.seed(kZoneA, range_ips(0, 10));
  ApiError down;
  down.kind = ApiError::Kind::kRetryable;
  down.message = "Connection refused";
  api_.list_fails[kZoneA] = down;
  Cancellation cancel;
  const auto report = reconcile_zone(api_, cancel, zone_keeping(kZoneA, range_ips(0, 8)), {});
  EXPECT_EQ(report.outcome, ZoneOutcome::kFailure);
  EXPECT_FALSE(report.stopped_by.has_value());
}

TEST(CycleReport, ExitStatusPrecedence) {
  CycleReport c;
  EXPECT_EQ(c.exit_status(), 0);
  ZoneReport blocked;
  blocked.outcome = ZoneOutcome::kBlocked;
  c.zones.push_back(blocked);
  EXPECT_EQ(c.exit_status(), 3);
  ZoneReport interrupted;
  interrupted.outcome = ZoneOutcome::kInterrupted;
  c.zones.push_back(interrupted);
  EXPECT_EQ(c.exit_status(), 3) << "a zone a stop interrupted is not a failure";
  ZoneReport failed;
  failed.outcome = ZoneOutcome::kFailure;
  c.zones.push_back(failed);
  EXPECT_EQ(c.exit_status(), 1);
}

TEST(CycleReport, TheSummaryCountsInterruptedZonesApart) {
  CycleReport c;
  ZoneReport ok;
  ok.outcome = ZoneOutcome::kSuccess;
  c.zones = {ok};
  EXPECT_EQ(c.summary(), "1 zones: 1 ok, 0 failed, 0 blocked, 0 dry-run; 0 stale, 0 pruned");
  ZoneReport cut;
  cut.outcome = ZoneOutcome::kInterrupted;
  c.zones.push_back(cut);
  c.interrupted = true;
  EXPECT_EQ(c.summary(),
            "2 zones: 1 ok, 0 failed, 0 blocked, 0 dry-run, 1 interrupted; 0 stale, 0 pruned "
            "(interrupted)");
}

}  // namespace
}  // namespace orc

namespace orc {
namespace {

// An exception in a zone's work (here from the API layer) is carried out of the cycle like any
// other, whether the zone ran on the calling thread or on a worker: never std::terminate.
class ThrowingApi : public testing::ForwardingZoneApi {
 public:
  using ForwardingZoneApi::ForwardingZoneApi;
  Result<std::vector<Mapping>> list(const std::string& zone) override {
    if (zone == kZoneB) throw std::runtime_error("listing " + zone + " broke");
    return ForwardingZoneApi::list(zone);
  }
};

TEST_F(ReconcilerTest, AnExceptionInAZoneLeavesTheCycleAtAnyConcurrency) {
  for (const int concurrency : {1, 4}) {
    api_.seed(kZoneA, range_ips(0, 10));
    api_.seed(kZoneB, range_ips(0, 10));
    ThrowingApi api(api_);
    ChangeSetApplier applier(api, 100, sleeper_.token());
    Reconciler r(api, applier, clock_, sleeper_.token(), observer_);
    DesiredState desired{
        {zone_keeping(kZoneA, range_ips(0, 8)), zone_keeping(kZoneB, range_ips(0, 8))}};
    ReconcileSettings settings;
    settings.concurrency = concurrency;
    EXPECT_THROW(r.run_cycle(desired, settings), std::runtime_error) << concurrency;
  }
}

}  // namespace
}  // namespace orc
