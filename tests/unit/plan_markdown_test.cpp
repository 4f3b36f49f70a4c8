// The plan as Markdown for a merge-request comment: summary lines, tables collapsed past a
// size and cut at a maximum, text from outside escaped, the checksum at the end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "model/plan_markdown.h"
#include "zone_ids.h"

namespace orc {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

const WallTime kNow = *parse_utc("2026-12-02T01:00:00Z");

PlanIdentity identity() {
  return {"origin-reconciler 0.1.0",        "origin-v2", "config.yaml", "desired.yaml",
          "sha256:" + std::string(64, 'b'), false};
}

ChangeSet deletes(std::size_t n) {
  ChangeSet c;
  for (std::size_t i = 0; i < n; ++i)
    c.deletes.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  return c;
}

TEST(PlanMarkdown, SummaryTableAndChecksum) {
  ChangeSet c;
  c.creates = {{"192.0.2.10", "gcp", "us-central1"}};
  c.updates = {{{"10.0.0.5", "aws", "us-east-1"}, {"10.0.0.5", "aws", "eu-west-1"}}};
  c.deletes = {"10.0.0.1", "10.0.0.2"};
  PlanZone a = make_plan_zone(kA, PlanZoneStatus::kPlanned, "", {12, 11, 0, 0}, c);
  a.policy = Policy::kSync;
  const PlanZone b = make_plan_zone(kB, PlanZoneStatus::kPlanned, "", {10, 10, 0, 0}, {});
  const PlanZone f =
      make_plan_zone(kC, PlanZoneStatus::kFailed, "listing mappings: HTTP 503", {}, {});
  const PlanDocument plan = make_plan_document(kNow, identity(), {a, b, f});
  const std::string md = to_markdown(plan);
  EXPECT_THAT(md, HasSubstr("**3 zones: 1 to change, 1 in line, 0 blocked, 1 failed; 1 create, "
                            "1 update, 2 deletes**\n"));
  EXPECT_THAT(md, HasSubstr("Made 2026-12-02T01:00:00Z by origin-reconciler 0.1.0 (origin-v2)"));
  EXPECT_THAT(md, HasSubstr(std::string("#### Zone `") + kA +
                            "`: 1 create, 1 update, 2 deletes (sync; 12 live, 11 desired)\n\n"
                            "| change | IP | now | desired |\n| --- | --- | --- | --- |\n"
                            "| create | 192.0.2.10 |  | gcp / us-central1 |\n"
                            "| update | 10.0.0.5 | aws / us-east-1 | aws / eu-west-1 |\n"
                            "| delete | 10.0.0.1 |  |  |\n"
                            "| delete | 10.0.0.2 |  |  |\n"));
  EXPECT_THAT(md, HasSubstr(std::string("#### Zone `") + kB +
                            "`: in line, nothing to do (prune; 10 live, 10 desired)\n"));
  EXPECT_THAT(md, HasSubstr(std::string("#### Zone `") + kC +
                            "`: **failed**, no plan\n\nlisting mappings: HTTP 503\n"));
  EXPECT_THAT(md, Not(HasSubstr("<details>")));
  EXPECT_THAT(md, EndsWith("Plan checksum: `" + plan.checksum + "`\n"));
  EXPECT_EQ(to_markdown(plan), md) << "the same document, the same text";
}

TEST(PlanMarkdown, LargeTablesAreCollapsedAndCut) {
  const auto at = [](std::size_t n) {
    return to_markdown(make_plan_document(
        kNow, identity(),
        {make_plan_zone(kA, PlanZoneStatus::kPlanned, "", {n, 0, 0, 0}, deletes(n))}));
  };
  EXPECT_THAT(at(kMarkdownOpenRows), Not(HasSubstr("<details>")));
  const std::string more = at(kMarkdownOpenRows + 1);
  EXPECT_THAT(more, HasSubstr("<details><summary>11 changes</summary>\n\n| change |"));
  EXPECT_THAT(more, HasSubstr("|\n\n</details>\n"));
  EXPECT_THAT(more, Not(HasSubstr("more changes, not shown")));

  const std::string huge = at(kMarkdownMaxRows + 5);
  EXPECT_THAT(huge, HasSubstr("… and 5 more changes, not shown here"));
  // Rows in canonical (byte) order: the first 100 of them.
  EXPECT_THAT(huge, HasSubstr("| delete | 10.0.0.94 |"));
  EXPECT_THAT(huge, Not(HasSubstr("| delete | 10.0.0.95 |")));
}

TEST(PlanMarkdown, BlockedZoneShowsWhyAndItsChanges) {
  const PlanZone z = make_plan_zone(kA, PlanZoneStatus::kBlocked, "would delete 50% > 30%",
                                    {20, 10, 0, 0}, deletes(10));
  const std::string md = to_markdown(make_plan_document(kNow, identity(), {z}));
  EXPECT_THAT(md, HasSubstr("`: **blocked**, 0 creates, 0 updates, 10 deletes (prune; 20 live"));
  EXPECT_THAT(md, HasSubstr("> would delete 50% \\> 30%\n"));
  EXPECT_THAT(md, HasSubstr("| delete | 10.0.0.9 |"));
}

TEST(PlanMarkdown, TextFromOutsideCannotBreakTheTableOrAddMarkup) {
  EXPECT_EQ(markdown_text("us|east"), "us\\|east");
  EXPECT_EQ(markdown_text("<img src=x>"), "\\<img src=x\\>");
  EXPECT_EQ(markdown_text("`code` *b* [l](u)"), "\\`code\\` \\*b\\* \\[l\\](u)");
  // redact() writes the new line as \x0a; its backslash is escaped so it shows as written.
  EXPECT_EQ(markdown_text("a\nb"), "a\\\\x0ab") << "no new line, no new row";
  ChangeSet c;
  c.creates = {{"192.0.2.1", "aws", "eu|west\n| x | y |"}};
  const std::string md = to_markdown(make_plan_document(
      kNow, identity(), {make_plan_zone(kA, PlanZoneStatus::kPlanned, "", {1, 1, 0, 0}, c)}));
  EXPECT_THAT(md, HasSubstr("| create | 192.0.2.1 |  | aws / eu\\|west\\\\x0a\\| x \\| y \\| |\n"));
}

}  // namespace
}  // namespace orc
