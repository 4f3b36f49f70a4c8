// --apply-plan's gate and the --once output around plans: the document of a pass, the review
// of a pass against the plan file, what is printed and written, and the exit status.
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "reconcile/reviewed_plan.h"
#include "service/plan_report.h"
#include "temp_dir.h"
#include "zone_ids.h"

namespace orc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Records what reaches it.
class RecordingApplier final : public PlanApplier {
 public:
  ApplyResult apply(const std::string& zone_id, const ZonePlan& plan) override {
    const ChangeSet& changes = plan.changes;
    calls.emplace_back(zone_id, changes);
    ApplyResult r;
    r.pruned = changes.deletes.size();
    r.requests = changes.empty() ? 0 : 1;
    return r;
  }
  std::vector<std::pair<std::string, ChangeSet>> calls;
};

ZoneReport listed(const char* zone, std::vector<std::string> stale,
                  ZoneOutcome outcome = ZoneOutcome::kDryRun) {
  ZoneReport z;
  z.zone_id = zone;
  z.outcome = outcome;
  z.listed = true;
  z.plan.live = 10;
  z.plan.desired = 10 - stale.size();
  z.plan.changes.deletes = std::move(stale);
  if (outcome == ZoneOutcome::kBlocked) z.error = "would delete too much";
  return z;
}

ZoneReport not_listed(const char* zone) {
  ZoneReport z;
  z.zone_id = zone;
  z.outcome = ZoneOutcome::kFailure;
  z.error = "listing mappings: HTTP 503";
  return z;
}

// Zone kA, planned to create one origin, update one and delete one.
ZoneReport creates_updates_and_deletes() {
  ZoneReport z = listed(kA, {"10.0.0.9"});
  z.plan.changes.creates = {{"192.0.2.10", "gcp", "us-central1"}};
  z.plan.changes.updates = {{{"10.0.0.5", "aws", "us-east-1"}, {"10.0.0.5", "aws", "eu-west-1"}}};
  return z;
}

DesiredState zones(std::initializer_list<const char*> ids) {
  DesiredState d;
  for (const char* id : ids) d.zones.push_back({id, {}, {}});
  return d;
}

ChangeSet deletes(std::vector<std::string> ips) {
  ChangeSet c;
  c.deletes = std::move(ips);
  return c;
}

// What the reconciler hands an applier: the zone's plan with these changes.
ZonePlan planned(ChangeSet changes) {
  ZonePlan p;
  p.changes = std::move(changes);
  return p;
}

PlanIdentity identity() {
  return {"origin-reconciler 0.1.0",        "origin-v2", "config.yaml", "desired.yaml",
          "sha256:" + std::string(64, 'b'), false};
}

const WallTime kNow = *parse_utc("2026-12-02T01:00:00Z");

PlanDocument reviewed_of(const CycleReport& cycle) {
  return plan_document(cycle, identity(), kNow);
}

TEST(PlanDocumentOfAPass, ZonesPlannedBlockedAndFailed) {
  CycleReport c;
  c.zones = {listed(kA, {"10.0.0.9", "10.0.0.8"}), listed(kB, {"10.0.1.1"}, ZoneOutcome::kBlocked),
             not_listed(kC)};
  const PlanDocument plan = reviewed_of(c);
  ASSERT_EQ(plan.zones.size(), 3u);
  EXPECT_EQ(plan.zones[0].status, PlanZoneStatus::kPlanned);
  EXPECT_EQ(plan.zones[0].changes.deletes, (std::vector<std::string>{"10.0.0.8", "10.0.0.9"}));
  EXPECT_EQ(plan.zones[0].counts.live, 10u);
  EXPECT_EQ(plan.zones[0].checksum, zone_checksum(kA, plan.zones[0].changes));
  EXPECT_EQ(plan.zones[1].status, PlanZoneStatus::kBlocked);
  EXPECT_EQ(plan.zones[1].reason, "would delete too much");
  EXPECT_EQ(plan.zones[2].status, PlanZoneStatus::kFailed);
  EXPECT_EQ(plan.zones[2].reason, "listing mappings: HTTP 503");
  EXPECT_EQ(plan.checksum, plan_checksum(plan.zones));
  EXPECT_EQ(plan.identity, identity());
  EXPECT_EQ(parse_plan_document(to_json_text(plan), "p.json"), plan);
}

TEST(ReviewedPlanApplier, PassesOnlyTheReviewedChanges) {
  CycleReport c;
  c.zones = {listed(kA, {"10.0.0.8", "10.0.0.9"}), not_listed(kB)};
  const PlanDocument reviewed = reviewed_of(c);
  RecordingApplier inner;
  ReviewedPlanApplier gate(inner, reviewed);

  // Same changes, another order: applied.
  EXPECT_FALSE(gate.apply(kA, planned(deletes({"10.0.0.9", "10.0.0.8"}))).not_reviewed);
  ASSERT_EQ(inner.calls.size(), 1u);
  EXPECT_EQ(inner.calls[0].second.deletes, (std::vector<std::string>{"10.0.0.9", "10.0.0.8"}));

  // One more delete: nothing reaches the inner applier.
  const ApplyResult more = gate.apply(kA, planned(deletes({"10.0.0.8", "10.0.0.9", "10.0.0.7"})));
  ASSERT_TRUE(more.not_reviewed);
  EXPECT_FALSE(more.error);  // not an API error: its own kind
  EXPECT_EQ(*more.not_reviewed,
            "the plan now differs from the plan file: deletes: 10.0.0.7 is in the "
            "plan now but not in the plan file");
  EXPECT_EQ(more.requests, 0u);
  // A zone the file could not plan, and one it does not know: refused too, even with nothing
  // to do.
  EXPECT_TRUE(gate.apply(kB, planned({})).not_reviewed);
  EXPECT_TRUE(gate.apply(kC, planned({})).not_reviewed);
  EXPECT_EQ(inner.calls.size(), 1u);
}

TEST(ReviewedPlanApplier, ComparesCreatesAndUpdatesToo) {
  CycleReport c;
  ZoneReport z = creates_updates_and_deletes();
  c.zones = {z};
  const PlanDocument reviewed = reviewed_of(c);
  RecordingApplier inner;
  ReviewedPlanApplier gate(inner, reviewed);
  EXPECT_FALSE(gate.apply(kA, planned(z.plan.changes)).not_reviewed);

  ChangeSet moved = z.plan.changes;
  moved.updates[0].from.region = "us-west-2";  // the live mapping moved since the review
  const ApplyResult r = gate.apply(kA, planned(moved));
  ASSERT_TRUE(r.not_reviewed);
  EXPECT_EQ(*r.not_reviewed,
            "the plan now differs from the plan file: updates: the plan file has "
            "10.0.0.5 aws/us-east-1 -> aws/eu-west-1, the plan now 10.0.0.5 aws/us-west-2 -> "
            "aws/eu-west-1");
  // What a partial application left: applied, just that.
  ChangeSet fewer = z.plan.changes;
  fewer.creates.clear();
  EXPECT_FALSE(gate.apply(kA, planned(fewer)).not_reviewed);
  ASSERT_EQ(inner.calls.size(), 2u);
  EXPECT_EQ(inner.calls[1].second, fewer);
  // A create the review did not see: refused, even beside a part of the plan.
  fewer.creates = {{"192.0.2.11", "gcp", "us-central1"}};
  EXPECT_TRUE(gate.apply(kA, planned(fewer)).not_reviewed);
  EXPECT_EQ(inner.calls.size(), 2u);
}

TEST(ReviewedPlan, ApprovesTheZonesItShowsBlocked) {
  CycleReport c;
  c.zones = {listed(kA, {"10.0.0.9"}), listed(kB, {"10.0.1.1"}, ZoneOutcome::kBlocked),
             not_listed(kC)};
  PlanDocument plan = reviewed_of(c);
  EXPECT_EQ(approved_zones(plan), (std::vector<std::string>{kB}));
  plan.identity.force = true;  // made with --force: every planned zone was reviewed as such
  EXPECT_EQ(approved_zones(plan), (std::vector<std::string>{kA, kB}));
}

TEST(FormatPlanReport, DryRunShowsCreatesUpdatesAndDeletes) {
  CycleReport c;
  ZoneReport z = creates_updates_and_deletes();
  c.zones = {z};
  const std::string report = format_plan_report(c, true);
  EXPECT_THAT(report, HasSubstr("  would create 192.0.2.10 gcp/us-central1\n"
                                "  would update 10.0.0.5 aws/us-east-1 -> aws/eu-west-1\n"
                                "  would delete 10.0.0.9\n"));
  z.outcome = ZoneOutcome::kBlocked;
  c.zones = {z};
  EXPECT_THAT(format_plan_report(c, false),
              HasSubstr("  blocked create 192.0.2.10 gcp/us-central1\n"
                        "  blocked update 10.0.0.5"));
}

TEST(ReviewCycle, NamesEveryZoneNotAppliedAsReviewed) {
  CycleReport planned;
  planned.zones = {listed(kA, {"10.0.0.8"}), listed(kB, {"10.0.1.1"}), listed(kC, {})};
  const PlanDocument reviewed = reviewed_of(planned);

  CycleReport now;
  now.zones = {listed(kA, {"10.0.0.8"}, ZoneOutcome::kSuccess),
               listed(kB, {"10.0.1.1", "10.0.1.2"}, ZoneOutcome::kBlocked)};
  const auto verdicts = review_cycle(now, reviewed, zones({kA, kB}));
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].zone_id, kB) << "blocked by the guard, but also not the reviewed plan";
  EXPECT_THAT(verdicts[0].why, HasSubstr("deletes: 10.0.1.2 is in the plan now"));
  EXPECT_EQ(verdicts[1],
            (NotApplied{kC, "the zone is in the plan file but not in the desired state"}));

  // A --zone run leaves the plan's other zones alone.
  now.zones = {listed(kA, {"10.0.0.8"}, ZoneOutcome::kSuccess)};
  EXPECT_EQ(review_cycle(now, reviewed, zones({kA})).size(), 2u);
  EXPECT_TRUE(review_cycle(now, reviewed, zones({kA}), /*limited=*/true).empty());

  // A zone whose listing failed now is reported as failed, not as a difference.
  now.zones = {not_listed(kA), listed(kB, {"10.0.1.1"}), listed(kC, {})};
  EXPECT_TRUE(review_cycle(now, reviewed, zones({kA, kB, kC})).empty());
}

TEST(RenderOnce, DryRunTextEndsWithTheChecksumAndWritesTheDocument) {
  CycleReport c;
  c.zones = {listed(kA, {"10.0.0.8"})};
  OnceOutput out;
  out.identity = identity();
  out.plan_out = "plan.json";
  const OnceResult r = render_once(c, true, out, zones({kA}), false, kNow);
  const PlanDocument plan = reviewed_of(c);
  EXPECT_THAT(r.out, HasSubstr("  would delete 10.0.0.8\n"));
  EXPECT_THAT(r.out, HasSubstr("plan checksum " + plan.checksum + "\n"));
  EXPECT_EQ(r.plan_file, to_json_text(plan));
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.note.empty());
}

TEST(RenderOnce, JsonIsTheDocumentAlone) {
  CycleReport c;
  c.zones = {listed(kA, {"10.0.0.8"}), listed(kB, {}, ZoneOutcome::kBlocked)};
  OnceOutput out;
  out.format = OutputFormat::kJson;
  out.identity = identity();
  const OnceResult r = render_once(c, true, out, zones({kA, kB}), false, kNow);
  EXPECT_EQ(r.out, to_json_text(reviewed_of(c)));
  EXPECT_TRUE(r.plan_file.empty());
  EXPECT_EQ(r.status, 3) << "the guard's block keeps its exit status";
}

TEST(RenderOnce, AStoppedPassWritesNoPlanFile) {
  CycleReport c;
  c.zones = {listed(kA, {"10.0.0.8"})};
  OnceOutput out;
  out.plan_out = "plan.json";
  const OnceResult r = render_once(c, true, out, zones({kA, kB}), true, kNow);
  EXPECT_TRUE(r.plan_file.empty());
  EXPECT_EQ(r.note,
            "plan file plan.json not written: the pass was stopped before every zone was planned");
}

TEST(RenderOnce, ApplyPlanReportsZonesNotAppliedAndExitsOne) {
  CycleReport planned;
  planned.zones = {listed(kA, {"10.0.0.8"}), listed(kB, {"10.0.1.1"})};
  OnceOutput out;
  out.reviewed = std::make_shared<const PlanDocument>(reviewed_of(planned));
  out.reviewed_file = "plan.json";

  CycleReport now;
  now.zones = {listed(kA, {"10.0.0.8"}, ZoneOutcome::kSuccess),
               listed(kB, {"10.0.1.2"}, ZoneOutcome::kSuccess)};
  OnceResult r = render_once(now, false, out, zones({kA, kB}), false, kNow);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("plan file plan.json: made 2026-12-02T01:00:00Z by "
                               "origin-reconciler 0.1.0, checksum " +
                               out.reviewed->checksum + "\n"));
  EXPECT_THAT(r.out, HasSubstr(std::string("zone ") + kA + ": success"));
  EXPECT_THAT(r.out, HasSubstr(std::string("zone ") + kB +
                               ": not applied live=10 desired=9 stale=1 pruned=0"));
  EXPECT_THAT(r.out, HasSubstr("(the plan now differs from the plan file: deletes: 10.0.1.2 is "
                               "in the plan now but not in the plan file)\n"));
  EXPECT_THAT(r.out, HasSubstr("reviewed plan: 1 zones not applied"));
  EXPECT_THAT(r.out, Not(HasSubstr("plan checksum")));

  now.zones[1] = listed(kB, {"10.0.1.1"}, ZoneOutcome::kSuccess);
  r = render_once(now, false, out, zones({kA, kB}), false, kNow);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, Not(HasSubstr("not applied")));
  EXPECT_THAT(r.out, Not(HasSubstr("already applied")));
}

TEST(RenderOnce, ApplyPlanResumesAPartAndSaysWhenAllIsApplied) {
  CycleReport planned;
  planned.zones = {listed(kA, {"10.0.0.8", "10.0.0.9"}), listed(kB, {"10.0.1.1"})};
  OnceOutput out;
  out.reviewed = std::make_shared<const PlanDocument>(reviewed_of(planned));
  out.reviewed_file = "plan.json";

  // A first application stopped half way: kA has one delete left, kB is done.
  CycleReport now;
  now.zones = {listed(kA, {"10.0.0.9"}, ZoneOutcome::kSuccess),
               listed(kB, {}, ZoneOutcome::kSuccess)};
  OnceResult r = render_once(now, false, out, zones({kA, kB}), false, kNow);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("(resumed: 1 of the 2 reviewed changes left, the others are in "
                               "place)\n"));
  EXPECT_THAT(r.out, HasSubstr(std::string("zone ") + kB +
                               ": success live=10 desired=10 stale=0 pruned=0 already_gone=0 "
                               "not_deleted=0 requests=0 (already applied: the 1 changes of the "
                               "reviewed plan are in place)\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("reviewed plan: already applied")));

  now.zones[0] = listed(kA, {}, ZoneOutcome::kSuccess);
  r = render_once(now, false, out, zones({kA, kB}), false, kNow);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("reviewed plan: already applied, nothing was left to send\n"));
}

TEST(RenderOnce, DetailedExitcodeIsFourWhenChangesArePending) {
  OnceOutput out;
  out.detailed_exitcode = true;
  CycleReport c;
  c.zones = {listed(kA, {}), listed(kB, {})};
  EXPECT_EQ(render_once(c, true, out, zones({kA, kB}), false, kNow).status, 0) << "no drift";
  EXPECT_FALSE(c.changes_pending());

  c.zones[1] = listed(kB, {"10.0.1.1"});
  EXPECT_TRUE(c.changes_pending());
  EXPECT_EQ(render_once(c, true, out, zones({kA, kB}), false, kNow).status, kExitChangesPending);
  ZoneReport creates_only = listed(kB, {});
  creates_only.plan.changes.creates = {{"192.0.2.10", "gcp", "us-central1"}};
  c.zones[1] = creates_only;
  EXPECT_EQ(render_once(c, true, out, zones({kA, kB}), false, kNow).status, kExitChangesPending);

  // Without the option a dry run exits 0 as before; a block (3) and a failure (1) win over 4.
  OnceOutput plain;
  EXPECT_EQ(render_once(c, true, plain, zones({kA, kB}), false, kNow).status, 0);
  c.zones[0] = listed(kA, {"10.0.0.8"}, ZoneOutcome::kBlocked);
  EXPECT_EQ(render_once(c, true, out, zones({kA, kB}), false, kNow).status, 3);
  c.zones[0] = not_listed(kA);
  EXPECT_EQ(render_once(c, true, out, zones({kA, kB}), false, kNow).status, 1);
  // Not a dry run: the option does not apply.
  c.zones = {listed(kA, {"10.0.0.8"}, ZoneOutcome::kSuccess)};
  EXPECT_EQ(render_once(c, false, out, zones({kA}), false, kNow).status, 0);
}

class WriteWhole : public testing::TempDirTest {};

TEST_F(WriteWhole, ReplacesTheFileAndLeavesNoTemporary) {
  const std::filesystem::path file = write("plan.json", "old");
  const Status written = write_whole(file, "new");
  ASSERT_TRUE(written.ok()) << written.error().message;
  std::ifstream in(file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "new");
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "plan.json") << "left behind: " << entry.path();
  }
}

// The temporary file is this process's own name, created new: a link planted there is never
// followed, and its target is left as it was.
TEST_F(WriteWhole, NeverWritesThroughALinkPlantedAtItsTemporaryName) {
  const std::filesystem::path target = write("target", "precious");
  const std::filesystem::path file = dir_ / "plan.json";
  const std::filesystem::path planted = file.string() + "." + std::to_string(::getpid()) + ".tmp";
  std::filesystem::create_symlink(target, planted);
  const Status written = write_whole(file, "new");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().message, "File exists");
  std::ifstream in(target);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "precious");
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_TRUE(std::filesystem::is_symlink(planted));
  // The old fixed name is not used at all.
  std::filesystem::remove(planted);
  std::filesystem::create_symlink(target, file.string() + ".tmp");
  ASSERT_TRUE(write_whole(file, "new").ok());
  std::ifstream again(target);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(again), {}), "precious");
}

TEST_F(WriteWhole, AFolderThatIsMissingIsAnErrorWithTheReason) {
  const std::filesystem::path file = dir_ / "missing" / "plan.json";
  const Status written = write_whole(file, "new");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().message, "No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(file.parent_path()));
}

}  // namespace
}  // namespace orc
