// The elector and the leadership around it, on an injected clock and an in-memory Lease API
// that keeps resourceVersions like the API server (a stale one is a 409).
#include "kube/elector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>

#include "fakes.h"
#include "log_capture.h"
#include "service/lease_leadership.h"

namespace orc {
namespace {

using testing::FakeClock;
using testing::FakeSleeper;
using ::testing::HasSubstr;
using testing::LogCapture;

// One Lease in memory, shared by every elector made on it (each "replica" gets a view).
class FakeLeaseServer {
 public:
  std::optional<Lease> lease;
  long long version = 100;
  int gets = 0, creates = 0, updates = 0, conflicts = 0;
  // Faults: the next calls fail (no answer) while `unreachable`; `before_update` runs just
  // before an update is applied (to write concurrently).
  bool unreachable = false;
  std::function<void()> before_update;
  // The next update is applied but its answer is lost (a timeout after the write).
  bool lose_next_answer = false;

  Lease store(const LeaseRecord& record) {
    Lease l;
    l.record = record;
    l.resource_version = std::to_string(++version);
    l.object = {
        {"kind", "Lease"},
        {"metadata", {{"name", "origin-reconciler"}, {"resourceVersion", l.resource_version}}},
        {"spec", lease_spec(record)}};
    lease = l;
    return l;
  }
};

class FakeLeaseApi final : public LeaseApi {
 public:
  explicit FakeLeaseApi(FakeLeaseServer& server) : s_(server) {}
  LeaseReply get() override {
    ++s_.gets;
    if (s_.unreachable) return unreachable();
    if (!s_.lease) return refused(KubeError::Kind::kNotFound, "HTTP 404: NotFound");
    return ok(*s_.lease);
  }
  LeaseReply create(const LeaseRecord& record) override {
    ++s_.creates;
    if (s_.unreachable) return unreachable();
    if (s_.lease) return refused(KubeError::Kind::kConflict, "HTTP 409: AlreadyExists");
    return ok(s_.store(record));
  }
  LeaseReply update(const Lease& current, const LeaseRecord& record) override {
    ++s_.updates;
    if (s_.unreachable) return unreachable();
    if (auto f = std::exchange(s_.before_update, nullptr)) f();
    if (!s_.lease || current.resource_version != s_.lease->resource_version) {
      ++s_.conflicts;
      return refused(KubeError::Kind::kConflict,
                     "HTTP 409: Conflict: the object has been modified");
    }
    Lease stored = s_.store(record);
    if (std::exchange(s_.lose_next_answer, false)) return unreachable();
    return ok(std::move(stored));
  }

 private:
  static LeaseReply ok(Lease lease) { return lease; }
  static LeaseReply refused(KubeError::Kind kind, std::string error) {
    return KubeError{kind, std::move(error)};
  }
  static LeaseReply unreachable() {
    return KubeError{KubeError::Kind::kFailed, "no answer from the API server: Connection refused",
                     /*retryable=*/true};
  }
  FakeLeaseServer& s_;
};

ElectorSettings settings(const std::string& identity) {
  return {identity, Millis{15000}, Millis{10000}, Millis{2000}};
}

class ElectorTest : public ::testing::Test {
 protected:
  FakeClock clock;
  FakeLeaseServer server;
  FakeLeaseApi api{server};
  Elector a{api, clock, settings("replica-a")};
};

TEST_F(ElectorTest, CreatesAMissingLeaseHoldingIt) {
  const Attempt got = a.try_acquire_or_renew();
  EXPECT_EQ(got.kind, Attempt::Kind::kLeading);
  EXPECT_TRUE(got.acquired);
  EXPECT_EQ(server.creates, 1);
  ASSERT_TRUE(server.lease);
  const LeaseRecord& r = server.lease->record;
  EXPECT_EQ(r.holder_identity, "replica-a");
  EXPECT_EQ(r.lease_duration_seconds, 15);
  EXPECT_EQ(r.acquire_time, format_micro_time(clock.wall()));
  EXPECT_EQ(r.renew_time, r.acquire_time);
  EXPECT_EQ(r.lease_transitions, 0);
  EXPECT_TRUE(a.leading_at(clock.monotonic()));
}

TEST_F(ElectorTest, RenewsKeepingAcquireTimeAndTransitions) {
  a.try_acquire_or_renew();
  const std::string acquired = server.lease->record.acquire_time;
  clock.advance(Millis{2000});
  const Attempt got = a.try_acquire_or_renew();
  EXPECT_EQ(got.kind, Attempt::Kind::kLeading);
  EXPECT_FALSE(got.acquired);
  EXPECT_EQ(server.lease->record.acquire_time, acquired);
  EXPECT_EQ(server.lease->record.renew_time, format_micro_time(clock.wall()));
  EXPECT_EQ(server.lease->record.lease_transitions, 0);
  EXPECT_EQ(server.updates, 1);
}

TEST_F(ElectorTest, LeadsUntilRenewDeadlineAfterTheLastRenewalWasSent) {
  a.try_acquire_or_renew();
  const MonoTime renewed = clock.monotonic();
  server.unreachable = true;
  clock.advance(Millis{9999});
  EXPECT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kFailed);
  EXPECT_TRUE(a.leading_at(renewed + Millis{9999}));
  EXPECT_FALSE(a.leading_at(renewed + Millis{10000}));  // lost on the deadline exactly
  EXPECT_EQ(a.leading_until(), renewed + Millis{10000});
}

TEST_F(ElectorTest, ASlowRenewalCountsFromWhenItWasSent) {
  a.try_acquire_or_renew();
  clock.advance(Millis{2000});
  const MonoTime sent = clock.monotonic();
  server.before_update = [&] { clock.advance(Millis{3000}); };  // answered 3 s later
  EXPECT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  EXPECT_EQ(a.leading_until(), sent + Millis{10000});
}

TEST_F(ElectorTest, RespectsAnUnexpiredForeignLeaseByItsOwnClock) {
  Elector b{api, clock, settings("replica-b")};
  a.try_acquire_or_renew();
  // The other host's timestamps say the lease is ancient: they must not matter.
  LeaseRecord record = server.lease->record;
  record.renew_time = "2001-01-01T00:00:00.000000Z";
  server.store(record);
  const Attempt first = b.try_acquire_or_renew();
  EXPECT_EQ(first.kind, Attempt::Kind::kHeld);
  EXPECT_EQ(first.holder, "replica-a");
  clock.advance(Millis{14999});  // unchanged since b saw it, but not for leaseDurationSeconds
  EXPECT_EQ(b.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
  EXPECT_EQ(server.updates, 0);
  EXPECT_FALSE(b.leading_at(clock.monotonic()));
}

TEST_F(ElectorTest, ARecordThatChangesRestartsTheExpiryClock) {
  Elector b{api, clock, settings("replica-b")};
  a.try_acquire_or_renew();
  b.try_acquire_or_renew();
  clock.advance(Millis{10000});
  a.try_acquire_or_renew();  // a renews: b sees a new record
  EXPECT_EQ(b.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
  clock.advance(Millis{10000});  // 20 s since b first saw a lease, 10 s since it changed
  EXPECT_EQ(b.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
}

TEST_F(ElectorTest, TakesOverAnExpiredLeaseAndCountsTheTransition) {
  Elector b{api, clock, settings("replica-b")};
  a.try_acquire_or_renew();
  EXPECT_EQ(b.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
  clock.advance(Millis{15000});  // a stopped renewing: expired by b's clock
  const Attempt got = b.try_acquire_or_renew();
  EXPECT_EQ(got.kind, Attempt::Kind::kLeading);
  EXPECT_TRUE(got.acquired);
  EXPECT_EQ(server.lease->record.holder_identity, "replica-b");
  EXPECT_EQ(server.lease->record.lease_transitions, 1);
  EXPECT_EQ(server.lease->record.acquire_time, format_micro_time(clock.wall()));
  // a comes back: it sees b, not expired, and steps down.
  EXPECT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
  EXPECT_FALSE(a.leading_at(clock.monotonic()));
}

TEST_F(ElectorTest, ReleaseClearsTheHolderSoAnotherTakesOverAtOnce) {
  Elector b{api, clock, settings("replica-b")};
  a.try_acquire_or_renew();
  EXPECT_EQ(b.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
  const Status released = a.release();
  ASSERT_TRUE(released.ok()) << released.error().message;
  EXPECT_FALSE(a.leading_at(clock.monotonic()));
  EXPECT_EQ(server.lease->record.holder_identity, "");
  EXPECT_EQ(server.lease->record.lease_duration_seconds, 1);
  EXPECT_EQ(server.lease->record.lease_transitions, 0);
  const Attempt got = b.try_acquire_or_renew();  // no waiting for expiry
  EXPECT_EQ(got.kind, Attempt::Kind::kLeading);
  EXPECT_EQ(server.lease->record.lease_transitions, 1);
}

TEST_F(ElectorTest, ReleaseOfALeaseNotOursSendsNothing) {
  Elector b{api, clock, settings("replica-b")};
  a.try_acquire_or_renew();
  b.try_acquire_or_renew();
  EXPECT_TRUE(b.release().ok());
  EXPECT_EQ(server.updates, 0);
  EXPECT_EQ(server.lease->record.holder_identity, "replica-a");
}

TEST_F(ElectorTest, AReleaseTheApiServerDoesNotTakeSaysWhyAndStopsLeadingAnyway) {
  a.try_acquire_or_renew();
  server.unreachable = true;
  const Status released = a.release();
  ASSERT_FALSE(released.ok());
  EXPECT_EQ(released.error().message, "no answer from the API server: Connection refused");
  EXPECT_FALSE(a.leading_at(clock.monotonic()));
  EXPECT_EQ(server.lease->record.holder_identity, "replica-a");  // it expires on its own
}

TEST_F(ElectorTest, AConcurrentWriterWinsTheRaceAndTheLoserDoesNotLead) {
  Elector b{api, clock, settings("replica-b")};
  server.store(LeaseRecord{"", 1, "", "", 3});  // released
  // Between b's GET and its PUT, a takes the Lease: b's resourceVersion is stale.
  server.before_update = [&] {
    FakeLeaseApi other(server);
    ASSERT_TRUE(other.get().ok());
    LeaseRecord mine{"replica-a", 15, "t", "t", 4};
    server.store(mine);
  };
  const Attempt got = b.try_acquire_or_renew();
  EXPECT_EQ(got.kind, Attempt::Kind::kConflict);
  EXPECT_THAT(got.error, HasSubstr("409"));
  EXPECT_FALSE(b.leading_at(clock.monotonic()));
  EXPECT_EQ(server.conflicts, 1);
  EXPECT_EQ(b.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
}

TEST_F(ElectorTest, TwoCreatorsOneWins) {
  Elector b{api, clock, settings("replica-b")};
  EXPECT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  server.lease.reset();
  LeaseRecord other{"replica-a", 15, "t", "t", 0};
  // b saw no Lease, but a created one before b's POST arrived.
  class RaceApi final : public LeaseApi {
   public:
    RaceApi(FakeLeaseServer& s, LeaseRecord r) : inner_(s), s_(s), r_(std::move(r)) {}
    LeaseReply get() override { return inner_.get(); }
    LeaseReply create(const LeaseRecord& record) override {
      s_.store(r_);
      return inner_.create(record);
    }
    LeaseReply update(const Lease& c, const LeaseRecord& r) override { return inner_.update(c, r); }

   private:
    FakeLeaseApi inner_;
    FakeLeaseServer& s_;
    LeaseRecord r_;
  } race(server, other);
  Elector b2{race, clock, settings("replica-b")};
  EXPECT_EQ(b2.try_acquire_or_renew().kind, Attempt::Kind::kConflict);
  EXPECT_EQ(server.lease->record.holder_identity, "replica-a");
}

// Two processes configured with one identity: the one that did not write the Lease treats it
// as another holder's, never renews it as its own.
TEST_F(ElectorTest, ASecondProcessWithTheSameIdentityDoesNotLead) {
  Elector twin{api, clock, settings("replica-a")};
  ASSERT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  Attempt seen = twin.try_acquire_or_renew();
  EXPECT_EQ(seen.kind, Attempt::Kind::kHeld);
  EXPECT_EQ(seen.holder, "replica-a");
  EXPECT_FALSE(seen.duplicate_identity);  // not renewed under our eyes yet
  for (int i = 0; i < 20; ++i) {          // 40 s: well past lease_duration, renewed all along
    clock.advance(Millis{2000});
    ASSERT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
    seen = twin.try_acquire_or_renew();
    EXPECT_EQ(seen.kind, Attempt::Kind::kHeld);
    EXPECT_TRUE(seen.duplicate_identity);
    EXPECT_FALSE(twin.leading_at(clock.monotonic()));
  }
  EXPECT_EQ(server.lease->record.lease_transitions, 0);
  // A release by the one that does not hold it sends nothing.
  const int updates = server.updates;
  EXPECT_TRUE(twin.release().ok());
  EXPECT_EQ(server.updates, updates);
  EXPECT_EQ(server.lease->record.holder_identity, "replica-a");
  // Once the holder is gone, the twin takes over after lease_duration like anyone else.
  const int gets = server.gets;
  clock.advance(Millis{14999});
  EXPECT_EQ(twin.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
  clock.advance(Millis{1});
  const Attempt taken = twin.try_acquire_or_renew();
  EXPECT_EQ(taken.kind, Attempt::Kind::kLeading);
  EXPECT_TRUE(taken.acquired);
  EXPECT_EQ(server.lease->record.lease_transitions, 1);
  EXPECT_EQ(server.gets, gets + 2);
  // ... and the first one, back, sees its name written by someone else.
  clock.advance(Millis{2000});
  ASSERT_EQ(twin.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  const Attempt back = a.try_acquire_or_renew();
  EXPECT_EQ(back.kind, Attempt::Kind::kHeld);
  EXPECT_TRUE(back.duplicate_identity);
  EXPECT_FALSE(a.leading_at(clock.monotonic()));
}

TEST_F(ElectorTest, AHugeLeaseDurationNeverExpiresIntoTheHoldersHands) {
  const auto parsed = parse_lease(
      R"({"kind":"Lease","metadata":{"resourceVersion":"5"},"spec":{"holderIdentity":"b",)"
      R"("leaseDurationSeconds":10000000000,"renewTime":"2026-12-02T00:40:00.000001Z"}})");
  ASSERT_TRUE(parsed.ok());
  server.store(parsed->record);
  EXPECT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
  clock.advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kHeld);
}

TEST_F(ElectorTest, ARecordLeftByAnEarlierRunIsTakenOnceExpiredNotCalledADuplicate) {
  server.store(LeaseRecord{"replica-a", 15, "t", "t", 4});
  Attempt seen = a.try_acquire_or_renew();
  EXPECT_EQ(seen.kind, Attempt::Kind::kHeld);
  EXPECT_FALSE(seen.duplicate_identity);
  clock.advance(Millis{14999});
  seen = a.try_acquire_or_renew();
  EXPECT_EQ(seen.kind, Attempt::Kind::kHeld);
  EXPECT_FALSE(seen.duplicate_identity);
  clock.advance(Millis{1});
  const Attempt taken = a.try_acquire_or_renew();
  EXPECT_EQ(taken.kind, Attempt::Kind::kLeading);
  EXPECT_TRUE(taken.acquired);
  EXPECT_EQ(server.lease->record.lease_transitions, 5);
}

TEST_F(ElectorTest, ARenewalWhoseAnswerWasLostIsStillOurs) {
  ASSERT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  clock.advance(Millis{2000});
  server.lose_next_answer = true;
  EXPECT_EQ(a.try_acquire_or_renew().kind, Attempt::Kind::kFailed);
  clock.advance(Millis{2000});
  const Attempt next = a.try_acquire_or_renew();
  EXPECT_EQ(next.kind, Attempt::Kind::kLeading);
  EXPECT_FALSE(next.acquired);
  EXPECT_EQ(server.lease->record.lease_transitions, 0);
}

// ---------------------------------------------------------------------------------------------
// LeaseLeadership: the elector's consequences, step by step.

class LeadershipTest : public ::testing::Test {
 protected:
  FakeClock clock;
  FakeSleeper waits{clock};
  FakeLeaseServer server;
  FakeLeaseApi api{server};
  LeaseLeadership lead{api, settings("replica-a"), "apps/origin-reconciler", clock, waits};
};

TEST_F(LeadershipTest, BecomesLeaderAndRenewsEveryRetryPeriod) {
  EXPECT_FALSE(lead.leading());
  EXPECT_EQ(lead.step(), Millis{2000});
  EXPECT_TRUE(lead.leading());
  EXPECT_EQ(lead.transitions(), 1u);
  EXPECT_EQ(lead.describe(), "leader");
  EXPECT_FALSE(lead.cycle_token().stop_requested());
  clock.advance(Millis{2000});
  lead.step();
  EXPECT_EQ(server.updates, 1);
  EXPECT_EQ(lead.transitions(), 1u);
}

TEST_F(LeadershipTest, LeadingIsJudgedByTheClockNotByTheThread) {
  lead.step();
  const auto token = lead.cycle_token();
  server.unreachable = true;
  clock.advance(Millis{9999});
  EXPECT_TRUE(lead.leading());
  clock.advance(Millis{1});  // no step has run: leading() alone says no
  EXPECT_FALSE(lead.leading());
  // The next step notices, ends the term and stops the cycle.
  EXPECT_FALSE(token.stop_requested());
  lead.step();
  EXPECT_TRUE(token.stop_requested());
  EXPECT_EQ(lead.describe().rfind("standby: ", 0), 0u) << lead.describe();
}

TEST_F(LeadershipTest, WaitsNoLongerThanTheLeadLeftWhenRenewalsFail) {
  lead.step();
  server.unreachable = true;
  clock.advance(Millis{9000});
  EXPECT_EQ(lead.step(), Millis{1000});  // look again when the lead would end
  EXPECT_TRUE(lead.leading());
}

TEST_F(LeadershipTest, StandsByWhileAnotherHoldsTheLease) {
  server.store(LeaseRecord{"replica-b", 15, "t", "t", 2});
  EXPECT_EQ(lead.step(), Millis{2000});
  EXPECT_FALSE(lead.leading());
  EXPECT_EQ(lead.describe(), "standby: lease held by replica-b");
  EXPECT_TRUE(lead.cycle_token().stop_requested());
  EXPECT_EQ(lead.transitions(), 0u);
}

TEST_F(LeadershipTest, StepsDownAtOnceWhenAnotherHolderIsSeen) {
  lead.step();
  server.store(LeaseRecord{"replica-b", 15, "t", "t", 1});  // written over us
  clock.advance(Millis{2000});
  lead.step();
  EXPECT_FALSE(lead.leading());
  EXPECT_EQ(lead.describe(), "standby: lease held by replica-b");
}

TEST_F(LeadershipTest, ADuplicateIdentityIsAnErrorInTheLogAndAFlag) {
  LogCapture logs;
  Elector twin{api, clock, settings("replica-a")};
  ASSERT_EQ(twin.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  lead.step();
  EXPECT_FALSE(lead.leading());
  EXPECT_FALSE(lead.duplicate_identity());
  clock.advance(Millis{2000});
  ASSERT_EQ(twin.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  lead.step();
  EXPECT_FALSE(lead.leading());
  EXPECT_TRUE(lead.duplicate_identity());
  EXPECT_EQ(lead.describe(),
            "standby: lease held by replica-a (another process with this identity renews it)");
  EXPECT_THAT(logs.text(), HasSubstr("error duplicate identity: another process keeps "
                                     "renewing lease apps/origin-reconciler as 'replica-a'"));
  // Said once, not every retry_period.
  clock.advance(Millis{2000});
  ASSERT_EQ(twin.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  lead.step();
  EXPECT_EQ(logs.count("duplicate identity"), 1);
  // The twin releases: the flag goes, this one leads.
  ASSERT_TRUE(twin.release().ok());
  clock.advance(Millis{2000});
  lead.step();
  EXPECT_TRUE(lead.leading());
  EXPECT_FALSE(lead.duplicate_identity());
}

TEST_F(LeadershipTest, ReleaseGivesTheLeaseUpAndStopsTheCycle) {
  lead.step();
  const auto token = lead.cycle_token();
  lead.release();
  EXPECT_FALSE(lead.leading());
  EXPECT_TRUE(token.stop_requested());
  EXPECT_EQ(server.lease->record.holder_identity, "");
  lead.release();  // once only
  EXPECT_EQ(server.updates, 1);
}

TEST_F(LeadershipTest, AwaitLeadingReturnsOnAStopRequest) {
  waits.stop();  // await_leading starts the elector's thread: here it ends at once
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(lead.await_leading(stop.get_token()));
  lead.step();
  EXPECT_TRUE(lead.await_leading(std::stop_source().get_token()));
}

TEST(LeaseLeadershipThread, AwaitLeadingStartsTheElectorAndReleaseStopsIt) {
  FakeClock clock;
  SystemSleeper waits;  // the first attempt is at once; release() ends the wait for the next
  FakeLeaseServer server;
  FakeLeaseApi api(server);
  LeaseLeadership lead(api, settings("replica-a"), "apps/origin-reconciler", clock, waits);
  EXPECT_TRUE(lead.await_leading(std::stop_source().get_token()));
  lead.release();
  EXPECT_FALSE(lead.leading());
  EXPECT_EQ(server.lease->record.holder_identity, "");
  lead.start();  // nothing starts after a release
  EXPECT_EQ(server.creates, 1);
}

// Standing by is healthy for as long as it lasts: only the API server's silence counts, not
// how long another replica has held the Lease.
TEST_F(LeadershipTest, AStandbyThatReadsTheLeaseStaysHealthy) {
  Elector other{api, clock, settings("replica-b")};
  ASSERT_EQ(other.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  for (int i = 0; i < 50; ++i) {  // 100 s, beyond lease_duration x 4 (60 s)
    EXPECT_EQ(lead.step(), Millis{2000});
    EXPECT_FALSE(lead.leading());
    EXPECT_TRUE(lead.healthy(clock.monotonic())) << "after " << 2 * i << " s";
    clock.advance(Millis{2000});
    ASSERT_EQ(other.try_acquire_or_renew().kind, Attempt::Kind::kLeading);
  }
  EXPECT_EQ(lead.describe(), "standby: lease held by replica-b");
  EXPECT_EQ(lead.transitions(), 0u);
}

TEST_F(LeadershipTest, ApiHealthFollowsTheLastUsefulAnswer) {
  server.store(LeaseRecord{"replica-b", 15, "t", "t", 2});
  lead.step();
  server.unreachable = true;
  clock.advance(Millis{60000});
  lead.step();
  EXPECT_TRUE(lead.healthy(clock.monotonic()));  // exactly lease_duration x 4
  clock.advance(Millis{1});
  lead.step();
  EXPECT_FALSE(lead.healthy(clock.monotonic()));
  server.unreachable = false;
  lead.step();
  EXPECT_TRUE(lead.healthy(clock.monotonic()));
}

}  // namespace
}  // namespace orc
