#include "core/reconciler.h"

#include <gtest/gtest.h>

#include "fakes.h"

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
  for (const auto& ip : ips) z.origins.push_back({ip, {}, {}});
  return z;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() : sleeper_(clock_) {}

  CycleReport run(PlanApplier& applier, const DesiredState& desired,
                  ReconcileSettings settings = {}) {
    Reconciler r(api_, applier, clock_, sleeper_.token(), observer_);
    return r.run_cycle(desired, settings);
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
  BatchDeleteApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, keep)}});

  ASSERT_EQ(cycle.zones.size(), 1u);
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  EXPECT_EQ(z.plan.stale.size(), 250u);
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
  BatchDeleteApplier applier(api_, 3, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 7))}});
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kSuccess);
  ASSERT_EQ(api_.batches.size(), 1u);  // 3 stale: one batch of 3
  EXPECT_EQ(api_.batches[0].second.size(), 3u);
}

TEST_F(ReconcilerTest, ItemsAlreadyGoneAreNotFailures) {
  api_.seed(kZoneA, range_ips(0, 10));
  api_.not_found_text = "something unexpected";  // the text alone does not say so...
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
  BatchDeleteApplier racing_applier(racing, 100, sleeper_.token());
  Reconciler r(racing, racing_applier, clock_, sleeper_.token(), observer_);
  const auto cycle = r.run_cycle({{zone_keeping(kZoneA, range_ips(0, 7))}}, {});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  EXPECT_EQ(z.applied.pruned, 2u);
  EXPECT_EQ(z.applied.already_gone, 1u);
  EXPECT_EQ(api_.gets, std::vector<std::string>{"10.0.0.9"});
}

TEST_F(ReconcilerTest, NotFoundTextNeedsNoFollowUp) {
  api_.seed(kZoneA, range_ips(0, 3));
  class GoneApi : public testing::ForwardingZoneApi {
   public:
    using ForwardingZoneApi::ForwardingZoneApi;
    Result<BatchDeleteResult> batch_delete(const std::string&,
                                           const std::vector<std::string>& ips) override {
      BatchDeleteResult r;
      for (const auto& ip : ips) r.failed.push_back({ip, "origin IP not found"});
      return r;
    }
  } gone(api_);
  BatchDeleteApplier applier(gone, 100, sleeper_.token());
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
  BatchDeleteApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 7))}});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kFailure);
  EXPECT_EQ(z.applied.pruned, 2u);
  ASSERT_EQ(z.applied.failed.size(), 1u);
  EXPECT_EQ(z.applied.failed[0].ip, "10.0.0.8");
  EXPECT_EQ(z.applied.failed[0].error, "internal error");
  EXPECT_EQ(api_.gets, std::vector<std::string>{"10.0.0.8"});  // checked, still there
  EXPECT_EQ(cycle.exit_status(), 1);
}

TEST_F(ReconcilerTest, OneZoneFailingDoesNotStopTheOthers) {
  api_.seed(kZoneA, range_ips(0, 10));
  api_.seed(kZoneB, range_ips(0, 10));
  ApiError down;
  down.kind = ApiError::Kind::kRetryable;
  down.http_status = 503;
  down.message = "down";
  api_.list_fails[kZoneA] = down;
  BatchDeleteApplier applier(api_, 100, sleeper_.token());
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
  BatchDeleteApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 100))}},
                         {.max_delete_fraction = 1.0, .force = false, .concurrency = 1});
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kFailure);
  EXPECT_EQ(cycle.zones[0].applied.requests, 1u);
  EXPECT_EQ(api_.batches.size(), 1u);
}

TEST_F(ReconcilerTest, SafetyGuardBlocksAndForceLiftsIt) {
  api_.seed(kZoneA, range_ips(0, 20));
  BatchDeleteApplier applier(api_, 100, sleeper_.token());
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

TEST_F(ReconcilerTest, DryRunSendsNothing) {
  api_.seed(kZoneA, range_ips(0, 10));
  DryRunApplier applier;
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 8))}});
  EXPECT_EQ(cycle.zones[0].outcome, ZoneOutcome::kDryRun);
  EXPECT_EQ(cycle.zones[0].plan.stale, (std::vector<std::string>{"10.0.0.8", "10.0.0.9"}));
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
  BatchDeleteApplier applier(api_, 100, sleeper_.token());
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
  BatchDeleteApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, {})}});
  EXPECT_TRUE(cycle.interrupted);
  EXPECT_TRUE(cycle.zones.empty());
  EXPECT_EQ(api_.list_calls, 0);
}

// --- Batch answers are matched against the request ---------------------------------------

struct MatchCase {
  const char* name;
  std::vector<std::string> requested;
  BatchDeleteResult answer;
  std::vector<std::string> succeeded;
  std::vector<std::string> failed;  // ip=error
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
  EXPECT_EQ(m.succeeded, c.succeeded);
  std::vector<std::string> failed;
  for (const auto& f : m.failed) failed.push_back(f.ip + "=" + f.error);
  EXPECT_EQ(failed, c.failed);
  EXPECT_EQ(m.unrequested, c.unrequested);
  EXPECT_EQ(m.unanswered, c.unanswered);
}

BatchDeleteResult answer(std::vector<std::string> succeeded,
                         std::vector<BatchItemFailure> failed = {}) {
  return {std::move(succeeded), std::move(failed)};
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
        MatchCase{"empty_answer", {"192.0.2.1"}, answer({}), {}, {}, {}, 1}),
    [](const ::testing::TestParamInfo<MatchCase>& info) { return std::string(info.param.name); });

// Answers every batch delete with a fixed, crafted answer; records the follow-up checks.
class CraftedAnswerApi : public testing::ForwardingZoneApi {
 public:
  CraftedAnswerApi(ZoneApi& inner, BatchDeleteResult crafted)
      : ForwardingZoneApi(inner), crafted_(std::move(crafted)) {}
  Result<BatchDeleteResult> batch_delete(const std::string& z,
                                         const std::vector<std::string>& ips) override {
    sent.push_back(ips);
    (void)inner_.batch_delete(z, ips);  // the deletes happen; the answer is another story
    return crafted_;
  }
  std::vector<std::vector<std::string>> sent;

 private:
  BatchDeleteResult crafted_;
};

TEST_F(ReconcilerTest, UnrequestedIpsInAnAnswerAreNeitherCountedNorChecked) {
  api_.seed(kZoneA, range_ips(0, 10));
  CraftedAnswerApi crafted(
      api_, answer({"10.0.0.8", "10.0.0.9", "10.0.0.200", "10.0.0.201", "10.0.0.202"},
                   {{"../../user/tokens/verify", "internal error"},
                    {"10.0.0.0/../../../accounts", "internal error"},
                    {"10.0.0.250", "internal error"}}));
  BatchDeleteApplier applier(crafted, 100, sleeper_.token());
  Reconciler r(crafted, applier, clock_, sleeper_.token(), observer_);
  const auto cycle = r.run_cycle({{zone_keeping(kZoneA, range_ips(0, 8))}}, {});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  EXPECT_EQ(z.applied.pruned, 2u);  // not 5
  EXPECT_EQ(z.applied.unrequested, 6u);
  EXPECT_TRUE(z.applied.failed.empty());
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
  BatchDeleteApplier applier(crafted, 100, sleeper_.token());
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
  BatchDeleteApplier applier(api_, 100, sleeper_.token());
  const auto cycle = run(applier, {{zone_keeping(kZoneA, range_ips(0, 10))}});
  const auto& z = cycle.zones[0];
  EXPECT_EQ(z.outcome, ZoneOutcome::kSuccess) << z.error;
  ASSERT_EQ(api_.batches.size(), 1u);
  EXPECT_EQ(api_.batches[0].second, std::vector<std::string>{"::ffff:10.0.0.50"});
  EXPECT_EQ(z.applied.pruned, 1u);
  EXPECT_TRUE(api_.live(kZoneA).contains("::ffff:10.0.0.1"));
  EXPECT_EQ(api_.live(kZoneA).size(), 12u);
}

TEST(CycleReport, ExitStatusPrecedence) {
  CycleReport c;
  EXPECT_EQ(c.exit_status(), 0);
  ZoneReport blocked;
  blocked.outcome = ZoneOutcome::kBlocked;
  c.zones.push_back(blocked);
  EXPECT_EQ(c.exit_status(), 3);
  ZoneReport failed;
  failed.outcome = ZoneOutcome::kFailure;
  c.zones.push_back(failed);
  EXPECT_EQ(c.exit_status(), 1);
}

}  // namespace
}  // namespace orc
