#include "service/desired_watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/sha256.h"
#include "temp_dir.h"
#include "thrown_message.h"

namespace orc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Step = DesiredWatch::Step;
using Verdict = DesiredWatch::Verdict;
using std::chrono::milliseconds;

constexpr milliseconds kSettle{2000};
constexpr milliseconds kConfirm{600000};
constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kZone2 = "0123456789abcdef0123456789abcdef";

MonoTime at(long long ms) {
  return MonoTime(milliseconds(ms));
}

// A version of the file: `n` tells versions apart (as a write would: new size, new mtime).
FileVersion version(int n, std::uint64_t hash) {
  FileVersion v;
  v.stamp = FileStamp{1, 42, 100 + n, 1000LL * n};
  v.hash = hash;
  return v;
}

const FileVersion kInForce = version(0, 0xA);

// Observes `v` at 0 and again at 2 s, when it has settled, and judges it with `expected` as the
// verdict: the common start of a change the watch holds (or rejects).
void settle_and_judge(DesiredWatch& w, const FileVersion& v, bool valid, bool removes_too_much,
                      Verdict expected) {
  w.observe(v, at(0));
  ASSERT_EQ(w.observe(v, at(2000)), Step::kJudge);
  ASSERT_EQ(w.judged(valid, removes_too_much, at(2000)), expected);
}

TEST(DesiredWatch, AnUnchangedFileIsNotReadAgain) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  EXPECT_FALSE(w.worth_reading(kInForce.stamp, at(0)));
  EXPECT_FALSE(w.worth_reading(kInForce.stamp, at(3'600'000)));
  EXPECT_TRUE(w.worth_reading(version(1, 0xB).stamp, at(0)));
  EXPECT_EQ(w.observe(kInForce, at(5)), Step::kNothing);
  EXPECT_FALSE(w.due());
}

TEST(DesiredWatch, AChangeIsUsedOnlyOnceStableForTheSettlePeriod) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  const FileVersion v1 = version(1, 0xB);
  EXPECT_EQ(w.observe(v1, at(1000)), Step::kSettling);
  ASSERT_TRUE(w.due());
  EXPECT_EQ(*w.due(), at(3000));
  // Not yet due: a poll with the same stamp does not even read it.
  EXPECT_FALSE(w.worth_reading(v1.stamp, at(2999)));
  EXPECT_EQ(w.observe(v1, at(2999)), Step::kSettling);
  EXPECT_TRUE(w.worth_reading(v1.stamp, at(3000)));
  EXPECT_EQ(w.observe(v1, at(3000)), Step::kJudge);
  EXPECT_EQ(w.judged(true, false, at(3000)), Verdict::kUse);
  EXPECT_FALSE(w.due());
  EXPECT_FALSE(w.worth_reading(v1.stamp, at(4000)));
  EXPECT_EQ(w.observe(v1, at(4000)), Step::kNothing);
}

TEST(DesiredWatch, AFileStillBeingWrittenNeverSettles) {
  // A writer appending a chunk every 500 ms for 3 s: every look sees a new version, so the
  // settle period starts over each time and no prefix is ever judged.
  DesiredWatch w(kSettle, kConfirm, kInForce);
  for (int i = 1; i <= 6; ++i) {
    const FileVersion v = version(i, 0x100 + static_cast<unsigned>(i));
    EXPECT_EQ(w.observe(v, at(500 * i)), Step::kSettling) << i;
    EXPECT_EQ(*w.due(), at(500 * i + 2000));
  }
  // The finished file, stable for the settle period, is judged.
  EXPECT_EQ(w.observe(version(6, 0x106), at(4999)), Step::kSettling);
  EXPECT_EQ(w.observe(version(6, 0x106), at(5000)), Step::kJudge);
}

TEST(DesiredWatch, SameStampButNewContentStartsOver) {
  // Coarse mtimes: an in-place rewrite of the same length within the same tick.
  DesiredWatch w(kSettle, kConfirm, kInForce);
  FileVersion v = version(1, 0xB);
  EXPECT_EQ(w.observe(v, at(0)), Step::kSettling);
  v.hash = 0xC;
  EXPECT_EQ(w.observe(v, at(2000)), Step::kSettling);
  EXPECT_EQ(*w.due(), at(4000));
  EXPECT_EQ(w.observe(v, at(4000)), Step::kJudge);
}

TEST(DesiredWatch, SameContentUnderANewStampStartsOver) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  EXPECT_EQ(w.observe(version(1, 0xB), at(0)), Step::kSettling);
  EXPECT_EQ(w.observe(version(2, 0xB), at(2000)), Step::kSettling);
  EXPECT_EQ(w.observe(version(2, 0xB), at(4000)), Step::kJudge);
}

TEST(DesiredWatch, AnInvalidVersionIsReportedOnceAndNotReread) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  const FileVersion bad = version(1, 0xB);
  ASSERT_NO_FATAL_FAILURE(settle_and_judge(w, bad, false, false, Verdict::kReject));
  EXPECT_FALSE(w.worth_reading(bad.stamp, at(9000)));
  EXPECT_EQ(w.observe(bad, at(9000)), Step::kNothing);
  EXPECT_FALSE(w.due());
  // A fix settles and is judged like any change.
  EXPECT_EQ(w.observe(version(2, 0xC), at(10000)), Step::kSettling);
  EXPECT_EQ(w.observe(version(2, 0xC), at(12000)), Step::kJudge);
}

TEST(DesiredWatch, BackToTheVersionInForceNeedsNoReload) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  w.observe(version(1, 0xB), at(0));
  // Undone before it settled (same content as in force, new stamp: a rewrite).
  FileVersion again = kInForce;
  again.stamp.mtime_ns += 7;
  EXPECT_EQ(w.observe(again, at(500)), Step::kBackInForce);
  EXPECT_FALSE(w.due());
  EXPECT_EQ(w.observe(again, at(3000)), Step::kNothing);
  // A touch (new mtime, same content) is no change either.
  FileVersion touched = again;
  touched.stamp.mtime_ns += 1;
  EXPECT_EQ(w.observe(touched, at(4000)), Step::kNothing);
}

TEST(DesiredWatch, ARemovalBeyondTheFractionIsHeldThenConfirmedWhenUnchanged) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  const FileVersion shrunk = version(1, 0xB);
  ASSERT_NO_FATAL_FAILURE(settle_and_judge(w, shrunk, true, true, Verdict::kHold));
  EXPECT_TRUE(w.held());
  ASSERT_TRUE(w.held_until());
  EXPECT_EQ(*w.held_until(), at(602000));
  EXPECT_EQ(*w.due(), at(602000));
  EXPECT_FALSE(w.worth_reading(shrunk.stamp, at(601999)));
  EXPECT_EQ(w.observe(shrunk, at(601999)), Step::kStillHeld);
  EXPECT_TRUE(w.worth_reading(shrunk.stamp, at(602000)));
  EXPECT_EQ(w.observe(shrunk, at(602000)), Step::kConfirmed);
  EXPECT_FALSE(w.held());
  EXPECT_EQ(w.observe(shrunk, at(700000)), Step::kNothing);
}

TEST(DesiredWatch, AHeldChangeEditedAgainStartsOver) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  ASSERT_NO_FATAL_FAILURE(settle_and_judge(w, version(1, 0xB), true, true, Verdict::kHold));
  // The writer resumes (it had only paused): the held prefix is dropped.
  EXPECT_EQ(w.observe(version(2, 0xC), at(300000)), Step::kHeldReplaced);
  EXPECT_FALSE(w.held());
  EXPECT_EQ(*w.due(), at(302000));
  EXPECT_EQ(w.observe(version(2, 0xC), at(302000)), Step::kJudge);
  EXPECT_EQ(w.judged(true, false, at(302000)), Verdict::kUse);
}

TEST(DesiredWatch, AHeldChangeUndoneIsDropped) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  ASSERT_NO_FATAL_FAILURE(settle_and_judge(w, version(1, 0xB), true, true, Verdict::kHold));
  EXPECT_EQ(w.observe(kInForce, at(5000)), Step::kBackInForce);
  EXPECT_FALSE(w.held());
  EXPECT_FALSE(w.due());
}

TEST(DesiredWatch, SighupTakesTheFileAsCompleteAndDropsWhatWasPending) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  ASSERT_NO_FATAL_FAILURE(settle_and_judge(w, version(1, 0xB), true, true, Verdict::kHold));
  w.confirmed_by_operator(version(1, 0xB), true);
  EXPECT_FALSE(w.held());
  EXPECT_FALSE(w.due());
  EXPECT_FALSE(w.worth_reading(version(1, 0xB).stamp, at(3000)));
  EXPECT_EQ(w.observe(version(1, 0xB), at(3000)), Step::kNothing);

  // An invalid file on SIGHUP is rejected and not reported again by the poll.
  w.observe(version(2, 0xC), at(4000));
  w.confirmed_by_operator(version(2, 0xC), false);
  EXPECT_FALSE(w.due());
  EXPECT_EQ(w.observe(version(2, 0xC), at(9000)), Step::kNothing);
  // Going back to the version in force (0xB now) is recognised.
  EXPECT_EQ(w.observe(version(3, 0xB), at(9500)), Step::kBackInForce);
}

TEST(DesiredWatch, ALostFileDropsPendingChangesAndIsJudgedAfreshWhenBack) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  ASSERT_NO_FATAL_FAILURE(settle_and_judge(w, version(1, 0xB), true, true, Verdict::kHold));
  w.lost();
  EXPECT_FALSE(w.held());
  EXPECT_FALSE(w.due());
  EXPECT_TRUE(w.worth_reading(kInForce.stamp, at(3000)));
  // Back unchanged.
  EXPECT_EQ(w.observe(kInForce, at(3000)), Step::kBackInForce);
  // Lost again, back with something else: settles first.
  w.lost();
  EXPECT_EQ(w.observe(version(4, 0xD), at(4000)), Step::kSettling);
}

TEST(DesiredWatch, ARejectedVersionIsReportedAgainAfterTheFileWasLost) {
  DesiredWatch w(kSettle, kConfirm, kInForce);
  const FileVersion bad = version(1, 0xB);
  ASSERT_NO_FATAL_FAILURE(settle_and_judge(w, bad, false, false, Verdict::kReject));
  w.lost();
  EXPECT_EQ(w.observe(bad, at(3000)), Step::kSettling);
  EXPECT_EQ(w.observe(bad, at(5000)), Step::kJudge);
}

// ---------------------------------------------------------------------------------------------
// removals_beyond

DesiredZone zone(const std::string& id, int from, int count, std::vector<std::string> cidrs = {}) {
  DesiredZone z;
  z.zone_id = id;
  for (int i = from; i < from + count; ++i) {
    z.origins.push_back(
        {*parse_origin_key("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)),
         {},
         {}});
  }
  for (const auto& c : cidrs) z.manage_cidrs.push_back(*parse_cidr(c));
  return z;
}

TEST(RemovalsBeyond, CountsOriginsTheNewStateDropsPerZone) {
  const DesiredState before{{zone(kZone, 0, 10), zone(kZone2, 0, 100)}};
  // kZone loses 3 of 10 (30%: not more than 0.3), kZone2 loses 31 of 100 (and gains some).
  const DesiredState after{{zone(kZone, 3, 7), zone(kZone2, 31, 80)}};
  const auto s = removals_beyond(before, after, 0.3);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].zone_id, kZone2);
  EXPECT_EQ(s[0].before, 100u);
  EXPECT_EQ(s[0].removed, 31u);
  EXPECT_TRUE(s[0].removes_too_much);
  EXPECT_FALSE(s[0].scope_widened);
  EXPECT_EQ(describe(s),
            std::string("zone ") + kZone2 + ": 31 of 100 desired origins removed (31.0%)");
}

TEST(RemovalsBeyond, FractionBoundaries) {
  const DesiredState before{{zone(kZone, 0, 4)}};
  EXPECT_TRUE(removals_beyond(before, DesiredState{{zone(kZone, 0, 4)}}, 0).empty());
  EXPECT_EQ(removals_beyond(before, DesiredState{{zone(kZone, 0, 3)}}, 0).size(), 1u);
  EXPECT_TRUE(removals_beyond(before, DesiredState{{zone(kZone, 0, 3)}}, 0.25).empty());
  EXPECT_EQ(removals_beyond(before, DesiredState{{zone(kZone, 0, 2)}}, 0.25).size(), 1u);
  // All of them gone, even at the most permissive fraction: not more than 1.
  EXPECT_TRUE(removals_beyond(before, DesiredState{{zone(kZone, 0, 0)}}, 1).empty());
  EXPECT_EQ(removals_beyond(before, DesiredState{{zone(kZone, 0, 0)}}, 0.99).size(), 1u);
  // A zone that wanted nothing cannot lose anything.
  EXPECT_TRUE(
      removals_beyond(DesiredState{{zone(kZone, 0, 0)}}, DesiredState{{zone(kZone, 0, 0)}}, 0)
          .empty());
}

TEST(RemovalsBeyond, ZonesLeftOutOrNewAreNotRemovals) {
  // A zone no longer listed is no longer managed: nothing is deleted in it.
  const DesiredState before{{zone(kZone, 0, 10), zone(kZone2, 0, 10)}};
  EXPECT_TRUE(removals_beyond(before, DesiredState{{zone(kZone, 0, 10)}}, 0).empty());
  EXPECT_TRUE(removals_beyond(DesiredState{}, before, 0).empty());
}

TEST(RemovalsBeyond, AWiderScopeCountsToo) {
  // A file cut before its manage_cidrs line manages every address of the zone.
  const DesiredState before{{zone(kZone, 0, 10, {"10.0.0.0/24", "192.0.2.0/25"})}};
  auto check = [&](std::vector<std::string> cidrs, bool widened) {
    const DesiredState after{{zone(kZone, 0, 10, cidrs)}};
    const auto s = removals_beyond(before, after, 0.3);
    EXPECT_EQ(!s.empty() && s[0].scope_widened, widened) << ::testing::PrintToString(cidrs);
  };
  check({}, true);
  check({"10.0.0.0/24", "192.0.2.0/25"}, false);
  check({"10.0.0.0/25"}, false);
  check({"10.0.0.128/25", "192.0.2.64/26"}, false);
  check({"10.0.0.0/23"}, true);
  check({"192.0.2.0/24"}, true);
  check({"10.0.0.0/24", "198.51.100.0/24"}, true);
  check({"2001:db8::/32"}, true);
  // No scope before (every address): nothing can widen it.
  const DesiredState all{{zone(kZone, 0, 10)}};
  EXPECT_TRUE(removals_beyond(all, DesiredState{{zone(kZone, 0, 10, {"10.0.0.0/8"})}}, 0).empty());

  const auto s = removals_beyond(before, DesiredState{{zone(kZone, 0, 5)}}, 0.3);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(describe(s), std::string("zone ") + kZone +
                             ": 5 of 10 desired origins removed (50.0%), and manage_cidrs "
                             "widened to addresses it did not cover");
}

TEST(RemovalsBeyond, DescribeNamesTheFirstZonesThenCounts) {
  std::vector<ZoneShrink> s;
  for (int i = 0; i < 7; ++i) s.push_back({"z" + std::to_string(i), 10, 5, true, false});
  const std::string text = describe(s, 2);
  EXPECT_EQ(text,
            "zone z0: 5 of 10 desired origins removed (50.0%); zone z1: 5 of 10 desired origins "
            "removed (50.0%); and 5 more zones");
}

// ---------------------------------------------------------------------------------------------
// Reading the file

using DesiredFileTest = testing::TempDirTest;

TEST_F(DesiredFileTest, ReadsStateStampAndHash) {
  const std::string text =
      std::string("zones:\n  - zone_id: ") + kZone + "\n    origins: [192.0.2.1]\n";
  const fs::path p = write("desired.yaml", text);
  const DesiredFile f = read_desired_file(p);
  ASSERT_EQ(f.state.zones.size(), 1u);
  EXPECT_EQ(f.version.hash, content_hash(text));
  const auto st = stat_file(p);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(f.version.stamp, *st);
  EXPECT_EQ(f.version.stamp.size, static_cast<std::int64_t>(text.size()));
  EXPECT_NE(content_hash(text), content_hash(text + " "));
  EXPECT_EQ(f.sha256, "sha256:" + sha256_hex(text));
}

TEST_F(DesiredFileTest, ASyntaxErrorReadsAsInTheWholeText) {
  // Parsed as it streams, the file is read again to quote a syntax error: the message is the
  // one the whole text gives.
  const std::string text =
      std::string("zones:\n  - zone_id: ") + kZone + "\n    origins: [192.0.2.1,, 10.0.0.1]\n";
  const fs::path p = write("desired.yaml", text);
  const std::string whole =
      testing::thrown_message<DesiredStateError>([&] { return parse_desired_state(text, p); });
  EXPECT_THAT(whole, HasSubstr("desired.yaml:3: column"));
  EXPECT_EQ(testing::thrown_message<DesiredStateError>([&] { return read_desired_file(p); }),
            whole);
}

TEST_F(DesiredFileTest, AFifoIsAnErrorNamingTheFileNotAHang) {
  const fs::path p = make_fifo("desired.yaml");
  EXPECT_EQ(testing::thrown_message<DesiredStateError>([&] { return read_desired_file(p); }),
            p.string() + ": cannot read: is a FIFO, not a regular file");
}

}  // namespace
}  // namespace orc
