// CycleFactory on its own: which applier a run uses (apply, dry run, reviewed plan), and that a
// run asks the leadership before every request. The API is scripted HTTP (generation 2), so
// what each mode sends is seen request by request; the loop as a whole is service_loop_test.cpp.
#include "service/cycle_factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.h"
#include "log_capture.h"
#include "model/plan_file.h"

namespace orc {
namespace {

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";

class NullObserver final : public ReconcileObserver {
 public:
  void on_zone_done(const ZoneReport&) override {}
};

// One page listing 192.0.2.1 and 192.0.2.2; the desired state keeps 192.0.2.1.
const std::string kPage = R"({"success":true,"errors":[],"messages":[],"result":[)"
                          R"({"origin_ip":"192.0.2.1","vendor":"aws","region":"us-east-1"},)"
                          R"({"origin_ip":"192.0.2.2","vendor":"aws","region":"us-east-1"}],)"
                          R"("result_info":{"page":1,"per_page":100,"total_pages":1,"count":2}})";
const std::string kDeleted =
    R"({"success":true,"errors":[],"messages":[],"result":{"succeeded":[{"origin_ip":"192.0.2.2"}],"failed":[]}})";

class CycleFactoryTest : public ::testing::Test {
 protected:
  CycleFactoryTest() {
    config_.cloudflare.api_base = "http://127.0.0.1:9/client/v4";
    config_.reconcile.max_delete_fraction = 1.0;
    credentials_.token = "t";
    DesiredZone zone;
    zone.zone_id = kZone;
    zone.origins.push_back({*parse_origin_key("192.0.2.1"), {}, {}});
    desired_.zones.push_back(zone);
  }

  CycleFactory factory(bool dry_run) {
    return CycleFactory(config_, credentials_, dry_run, output_, {}, false,
                        {http_, limiter_, sleeper_, random_, clock_, api_observer_, observer_,
                         listings_, leadership_});
  }

  CycleReport run(const CycleFactory& f) {
    Cancellation cycle;
    ZoneQueue queue(desired_);
    return f.run(cycle, queue);
  }

  std::vector<std::string> methods() const {
    std::vector<std::string> out;
    for (const auto& r : http_.requests()) out.push_back(r.method);
    return out;
  }

  Config config_;
  Credentials credentials_;
  OnceOutput output_;
  DesiredState desired_;
  testing::ScriptedHttp http_;
  testing::FakeClock clock_;
  testing::FakeSleeper sleeper_{clock_};
  RateLimiter limiter_{1000, clock_, sleeper_};
  testing::FixedRandom random_{0.5};
  testing::RecordingObserver api_observer_;
  NullObserver observer_;
  ListingMemory listings_;
  testing::FakeLeadership leadership_;
};

TEST_F(CycleFactoryTest, ApplyModeListsThenDeletesTheStaleMapping) {
  const CycleFactory f = factory(false);
  EXPECT_EQ(f.mode(), CycleMode::kApply);
  http_.push(200, kPage);
  http_.push(200, kDeleted);
  const CycleReport report = run(f);
  ASSERT_EQ(report.zones.size(), 1u);
  EXPECT_EQ(report.zones[0].outcome, ZoneOutcome::kSuccess);
  EXPECT_EQ(report.zones[0].applied.pruned, 1u);
  EXPECT_THAT(methods(), ::testing::ElementsAre("GET", "DELETE"));
  EXPECT_THAT(http_.requests()[1].url, ::testing::HasSubstr(kZone));
}

// An applied zone's report keeps the number of its deletes; their IPs only where the pass
// writes a plan document, which lists them.
TEST_F(CycleFactoryTest, AppliedDeletesAreListedOnlyForAPlanDocument) {
  http_.push(200, kPage);
  http_.push(200, kDeleted);
  const CycleReport counted = run(factory(false));
  ASSERT_EQ(counted.zones.size(), 1u);
  EXPECT_TRUE(counted.zones[0].plan.changes.deletes.empty());
  EXPECT_EQ(counted.zones[0].plan.changes.delete_count(), 1u);
  EXPECT_EQ(counted.summary(), "1 zones: 1 ok, 0 failed, 0 blocked, 0 dry-run; 1 stale, 1 pruned");

  for (const auto format : {OutputFormat::kJson, OutputFormat::kMarkdown}) {
    output_.format = format;
    http_.push(200, kPage);
    http_.push(200, kDeleted);
    const CycleReport listed = run(factory(false));
    ASSERT_EQ(listed.zones.size(), 1u);
    EXPECT_EQ(listed.zones[0].plan.changes.deletes, std::vector<std::string>{"192.0.2.2"});
  }
  output_.format = OutputFormat::kText;
  output_.plan_out = "plan.json";
  http_.push(200, kPage);
  http_.push(200, kDeleted);
  EXPECT_EQ(run(factory(false)).zones[0].plan.changes.deletes,
            std::vector<std::string>{"192.0.2.2"});
}

TEST_F(CycleFactoryTest, DryRunModeOnlyReads) {
  const CycleFactory f = factory(true);
  EXPECT_EQ(f.mode(), CycleMode::kDryRun);
  http_.push(200, kPage);
  const CycleReport report = run(f);
  ASSERT_EQ(report.zones.size(), 1u);
  EXPECT_EQ(report.zones[0].outcome, ZoneOutcome::kDryRun);
  EXPECT_EQ(report.zones[0].plan.changes.deletes, std::vector<std::string>{"192.0.2.2"});
  EXPECT_THAT(methods(), ::testing::ElementsAre("GET"));
}

TEST_F(CycleFactoryTest, AReviewedPlanMakesTheReviewedMode) {
  output_.reviewed = std::make_shared<const PlanDocument>();
  EXPECT_EQ(factory(false).mode(), CycleMode::kReviewed);
  EXPECT_EQ(factory(true).mode(), CycleMode::kDryRun) << "a dry run sends nothing, plan or not";
}

TEST_F(CycleFactoryTest, AnInstanceThatNoLongerLeadsSendsNothingAndSaysSoOnce) {
  testing::LogCapture log;
  leadership_.lapse();  // the renew deadline passed
  http_.push(200, kPage);
  const CycleReport report = run(factory(false));
  EXPECT_TRUE(http_.requests().empty());
  ASSERT_EQ(report.zones.size(), 1u);
  EXPECT_EQ(report.zones[0].outcome, ZoneOutcome::kInterrupted);
  // Said once for the cycle, then the zone it cut short (which whoever leads reconciles).
  EXPECT_THAT(log.lines(),
              ::testing::ElementsAre(
                  ::testing::HasSubstr("no longer the leader: abandoning this cycle"),
                  ::testing::AllOf(::testing::HasSubstr(kZone),
                                   ::testing::HasSubstr("whichever instance leads now"))));
}

}  // namespace
}  // namespace orc
