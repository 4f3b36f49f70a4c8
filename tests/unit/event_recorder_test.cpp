// The Event recorder on simulated time (its thread, queue, retries, warnings and shutdown), and
// which zone outcomes become which Events.
#include "service/event_recorder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "log_capture.h"
#include "model/plan_file.h"
#include "service/zone_events.h"
#include "simulated_time.h"

namespace orc {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";

EventReply stored(const EventRecord& r) {
  return StoredEvent{r.name, r.count};
}

EventReply refused(int status, bool retryable) {
  return KubeError{status == 404   ? KubeError::Kind::kNotFound
                   : status == 409 ? KubeError::Kind::kConflict
                                   : KubeError::Kind::kFailed,
                   "HTTP " + std::to_string(status) + ": InternalError: injected", retryable};
}

// The events API on simulated time: every request is logged; each takes `latency` (cut at its
// timeout unless `ignores_timeout`, and cut by `abort`), then `answer` decides.
class FakeEventApi final : public EventApi {
 public:
  struct Call {
    std::string method;
    EventRecord record;
    Millis timeout;
    MonoTime at;
  };
  explicit FakeEventApi(testing::SimulatedTime& time) : time_(time) {}

  EventReply create(const EventRecord& r, Millis timeout) override {
    return call("POST", r, timeout);
  }
  EventReply patch(const EventRecord& r, Millis timeout) override {
    return call("PATCH", r, timeout);
  }

  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

  std::function<EventReply(const std::string& method, const EventRecord&)> answer;
  Millis latency{0};
  bool ignores_timeout = false;
  std::stop_source abort;

 private:
  EventReply call(const std::string& method, const EventRecord& r, Millis timeout) {
    {
      std::lock_guard lock(mu_);
      calls_.push_back({method, r, timeout, time_.monotonic()});
    }
    if (latency > 0ms) {
      const Millis wait = ignores_timeout ? latency : std::min(latency, timeout);
      const bool full = time_.sleep_for(wait, abort.get_token());
      if (!full || wait < latency) {
        return KubeError{KubeError::Kind::kFailed,
                         "no answer from the API server: Operation timed out", /*retryable=*/true};
      }
    }
    return answer ? answer(method, r) : stored(r);
  }

  testing::SimulatedTime& time_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
};

EventNote note(const std::string& message, const char* reason = "ZoneFailed") {
  return {EventType::kWarning, reason, message};
}

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorder& recorder(EventRecorderLimits limits = {}) {
    recorder_.emplace(api_, "app-1", time_, time_, limits);
    recorder_->on_close([this] { api_.abort.request_stop(); });
    recorder_->start(time_);
    return *recorder_;
  }
  MonoTime now() const { return time_.monotonic(); }

  testing::LogCapture log_;  // before the thread starts
  testing::SimulatedTime time_;
  FakeEventApi api_{time_};
  std::optional<EventRecorder> recorder_;
};

TEST_F(EventRecorderTest, ANewEventIsCreatedAndARepeatPatchesItsCount) {
  EventRecorder& r = recorder();
  r.record(note("zone a: failed"));
  time_.advance(1s);
  r.record(note("zone a: failed"));
  r.record(note("zone b: failed"));
  time_.advance(1s);
  const auto calls = api_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].method, "POST");
  EXPECT_EQ(calls[1].method, "PATCH");
  EXPECT_EQ(calls[1].record.name, calls[0].record.name);
  EXPECT_EQ(calls[1].record.count, 2);
  EXPECT_EQ(calls[1].record.first_timestamp, calls[0].record.first_timestamp);
  EXPECT_EQ(calls[1].record.last_timestamp, calls[0].record.last_timestamp + 1s);
  EXPECT_EQ(calls[2].method, "POST");
  EXPECT_NE(calls[2].record.name, calls[0].record.name);
  EXPECT_TRUE(calls[0].record.name.starts_with("app-1."));
  EXPECT_EQ(calls[0].timeout, 5000ms);
  EXPECT_EQ(r.counts(), (EventCounts{.created = 2, .patched = 1}));
}

TEST_F(EventRecorderTest, RecordNeverWaitsForTheApiAndAFullQueueDropsCounted) {
  api_.latency = 1h;  // an API server that does not answer
  api_.ignores_timeout = true;
  EventRecorderLimits limits;
  limits.queue_capacity = 3;
  EventRecorder& r = recorder(limits);
  r.record(note("zone 0: failed"));
  time_.advance(1ms);  // the thread takes it and waits on the API
  ASSERT_EQ(api_.calls().size(), 1u);
  const MonoTime before = now();
  for (int i = 1; i <= 5; ++i) r.record(note("zone " + std::to_string(i) + ": failed"));
  EXPECT_EQ(now(), before) << "record() did not wait";
  EXPECT_EQ(r.counts().queue_full, 2u);
  EXPECT_EQ(api_.calls().size(), 1u);
}

TEST_F(EventRecorderTest, APatchOfAnExpiredEventCreatesItAgainWithItsCount) {
  EventRecorder& r = recorder();
  r.record(note("zone a: failed"));
  time_.advance(1s);
  api_.answer = [](const std::string& method, const EventRecord& rec) {
    return method == "PATCH" ? refused(404, false) : stored(rec);
  };
  r.record(note("zone a: failed"));
  time_.advance(1s);
  const auto calls = api_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].method, "PATCH");
  EXPECT_EQ(calls[2].method, "POST");
  EXPECT_EQ(calls[2].record.count, 2);
  EXPECT_EQ(calls[2].record.name, calls[0].record.name);
  EXPECT_EQ(r.counts(), (EventCounts{.created = 2}));
  // Stored again: the next repeat patches.
  api_.answer = nullptr;
  r.record(note("zone a: failed"));
  time_.advance(1s);
  EXPECT_EQ(api_.calls().back().method, "PATCH");
  EXPECT_EQ(api_.calls().back().record.count, 3);
}

TEST_F(EventRecorderTest, ACreateOfAnEventThatExistsPatchesIt) {
  api_.answer = [](const std::string& method, const EventRecord& rec) {
    return method == "POST" ? refused(409, false) : stored(rec);
  };
  EventRecorder& r = recorder();
  r.record(note("zone a: failed"));
  time_.advance(1s);
  const auto calls = api_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].method, "POST");
  EXPECT_EQ(calls[1].method, "PATCH");
  EXPECT_EQ(r.counts(), (EventCounts{.patched = 1}));
}

TEST_F(EventRecorderTest, NoAnswerIsTriedThreeTimesWithGrowingWaitsThenGivenUpAndWarnedOnce) {
  api_.answer = [](const std::string&, const EventRecord&) { return refused(500, true); };
  EventRecorder& r = recorder();
  const MonoTime start = now();
  r.record(note("zone a: failed"));
  time_.advance(10s);
  auto calls = api_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].at, start);
  EXPECT_EQ(calls[1].at, start + 1s);
  EXPECT_EQ(calls[2].at, start + 3s);
  EXPECT_EQ(r.counts(), (EventCounts{.failed = 1}));
  const auto warnings = log_.lines_with("not recorded");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("warning kubernetes event ZoneFailed app-1."));
  EXPECT_THAT(warnings[0], HasSubstr("not recorded: HTTP 500: InternalError: injected; "
                                     "reconciling is not affected"));

  // More failures within the minute are counted, not logged; the next warning says how many.
  r.record(note("zone b: failed"));
  r.record(note("zone c: failed"));
  time_.advance(20s);
  EXPECT_EQ(r.counts().failed, 3u);
  EXPECT_EQ(log_.lines_with("not recorded").size(), 1u);
  time_.advance(60s);
  r.record(note("zone d: failed"));
  time_.advance(10s);
  const auto later = log_.lines_with("not recorded");
  ASSERT_EQ(later.size(), 2u);
  EXPECT_THAT(later[1], HasSubstr("(and 2 more events not recorded since the last such warning)"));
}

TEST_F(EventRecorderTest, ARefusalIsGivenUpAtOnceAndAFailedCreateIsCreatedNextTime) {
  api_.answer = [](const std::string&, const EventRecord&) { return refused(422, false); };
  EventRecorder& r = recorder();
  r.record(note("zone a: failed"));
  time_.advance(10s);
  EXPECT_EQ(api_.calls().size(), 1u);
  EXPECT_EQ(r.counts(), (EventCounts{.failed = 1}));
  api_.answer = nullptr;
  r.record(note("zone a: failed"));
  time_.advance(1s);
  ASSERT_EQ(api_.calls().size(), 2u);
  EXPECT_EQ(api_.calls()[1].method, "POST") << "nothing was stored to patch";
  EXPECT_EQ(api_.calls()[1].record.count, 2);
}

TEST_F(EventRecorderTest, TheSpamFilterHoldsBackWhatIsOverItsBudget) {
  EventRecorderLimits limits;
  limits.correlator.spam_burst = 2;
  EventRecorder& r = recorder(limits);
  for (const char* zone : {"a", "b", "c", "d"}) r.record(note(std::string("zone ") + zone));
  time_.advance(1s);
  EXPECT_EQ(api_.calls().size(), 2u);
  EXPECT_EQ(r.counts(), (EventCounts{.created = 2, .rate_limited = 2}));
}

TEST_F(EventRecorderTest, CloseSendsWhatIsQueuedWithinTheGraceThenDropsTheRest) {
  api_.latency = 400ms;
  EventRecorder& r = recorder();
  for (int i = 0; i < 5; ++i) r.record(note("zone " + std::to_string(i) + ": failed"));
  const MonoTime start = now();
  r.close();
  EXPECT_LE(now() - start, 1000ms) << "close_grace";
  const auto calls = api_.calls();
  // 0 ms, 400 ms, 800 ms (its timeout the 200 ms left): two sent, the third cut short.
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].timeout, 200ms);
  EXPECT_EQ(r.counts(), (EventCounts{.created = 2}));
  EXPECT_EQ(log_.count("shutdown: 3 kubernetes events not recorded"), 1) << log_.text();
  EXPECT_EQ(log_.count("warning"), 0) << "no warning about what the shutdown cut short";
  r.record(note("after"));
  EXPECT_EQ(api_.calls().size(), 3u) << "nothing is taken after close";
}

TEST_F(EventRecorderTest, CloseAbortsARequestThatIgnoresItsTimeout) {
  api_.latency = 1h;
  api_.ignores_timeout = true;
  EventRecorder& r = recorder();
  r.record(note("zone a: failed"));
  time_.advance(1ms);
  const MonoTime start = now();
  r.close();
  EXPECT_EQ(now() - start, 1000ms) << "aborted at the end of the grace";
  EXPECT_TRUE(api_.abort.stop_requested());
  EXPECT_EQ(log_.count("shutdown: 1 kubernetes events not recorded"), 1) << log_.text();
}

TEST_F(EventRecorderTest, CloseCutsARetrysWaitShort) {
  api_.answer = [](const std::string&, const EventRecord&) { return refused(503, true); };
  EventRecorder& r = recorder();
  r.record(note("zone a: failed"));
  time_.advance(100ms);  // the first try failed; the thread waits 1 s to try again
  const MonoTime start = now();
  r.close();
  EXPECT_EQ(now(), start) << "no wait left at shutdown";
  EXPECT_EQ(api_.calls().size(), 1u);
  EXPECT_EQ(r.counts().failed, 0u);
  EXPECT_EQ(log_.count("shutdown: 1 kubernetes events not recorded"), 1) << log_.text();
}

TEST_F(EventRecorderTest, AfterTheStopDeadlineNothingIsSentWhateverTheShutdownDoes) {
  api_.latency = 3s;  // slower than the time left
  EventRecorder& r = recorder();
  const MonoTime stop = now();
  r.stop_by(stop + 2s);  // the stop request: 2 s left of the daemon's shutdown grace
  r.stop_by(stop + 4s);  // a later deadline does not extend it
  r.record(note("zone a: failed"));
  time_.advance(2500ms);
  auto calls = api_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].timeout, 2000ms) << "the request ends by the deadline";
  EXPECT_EQ(r.counts().failed, 1u) << "no time left to try again";
  r.record(note("zone b: failed"));  // the last cycle's outcome, after the deadline
  time_.advance(1s);
  EXPECT_EQ(api_.calls().size(), 1u);
  const MonoTime closing = now();
  r.close();
  EXPECT_EQ(now(), closing) << "the grace is over already";
  EXPECT_EQ(log_.count("shutdown: 1 kubernetes events not recorded"), 1) << log_.text();
}

TEST_F(EventRecorderTest, CloseWhileIdleReturnsAtOnce) {
  EventRecorder& r = recorder();
  const MonoTime start = now();
  r.close();
  r.close();
  EXPECT_EQ(now(), start);
  EXPECT_TRUE(api_.calls().empty());
}

// ---------------------------------------------------------------------------------------------
// Which outcomes become which Events

ZoneReport report(ZoneOutcome outcome) {
  ZoneReport r;
  r.zone_id = kZone;
  r.zone_name = "example.com";
  r.outcome = outcome;
  r.listed = true;
  return r;
}

Mapping mapping(const char* ip) {
  return {ip, "aws", "us-east-1"};
}

TEST(ZoneEvent, AppliedChangesWithTheirCounts) {
  ZoneReport r = report(ZoneOutcome::kSuccess);
  EXPECT_EQ(zone_event(r), std::nullopt) << "in line, nothing to do";
  r.plan.changes.creates = {mapping("10.0.0.1"), mapping("10.0.0.2")};
  r.plan.changes.updates = {{mapping("10.0.0.3"), mapping("10.0.0.3")}};
  r.applied.upserted = 3;
  r.applied.pruned = 4;
  r.applied.already_gone = 1;
  const auto e = zone_event(r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kNormal);
  EXPECT_EQ(e->reason, "ZoneApplied");
  EXPECT_EQ(e->message, std::string("zone ") + kZone +
                            " (example.com): applied: 2 created, 1 updated, 4 deleted (1 "
                            "already gone)");
  r.applied.upserted = 2;  // not every create and update went through as planned
  EXPECT_EQ(zone_event(r)->message, std::string("zone ") + kZone +
                                        " (example.com): applied: 2 created or updated, 4 "
                                        "deleted (1 already gone)");
}

TEST(ZoneEvent, BlockedFailedAndSuspendedAreTold) {
  ZoneReport b = report(ZoneOutcome::kBlocked);
  b.error = "would delete 15 of 20 (75.0%), above max_delete_fraction 30.0%";
  auto e = zone_event(b);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kWarning);
  EXPECT_EQ(e->reason, "ZoneBlocked");
  EXPECT_EQ(e->message, std::string("zone ") + kZone +
                            " (example.com): safety guard blocked the prune: would delete 15 of "
                            "20 (75.0%), above max_delete_fraction 30.0%; nothing changed");

  ZoneReport f = report(ZoneOutcome::kFailure);
  f.error = "listing mappings: HTTP 503: overloaded";
  e = zone_event(f);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kWarning);
  EXPECT_EQ(e->reason, "ZoneFailed");
  EXPECT_EQ(e->message, std::string("zone ") + kZone +
                            " (example.com): reconcile failed: listing mappings: HTTP 503: "
                            "overloaded; retried next cycle");
  f.applied.pruned = 100;
  f.error = "batch delete: HTTP 500";
  EXPECT_THAT(zone_event(f)->message,
              HasSubstr("reconcile failed: batch delete: HTTP 500; sent before that: 100 "
                        "deleted; retried next cycle"));

  ZoneReport s = report(ZoneOutcome::kSuspended);
  s.error = "reason: incident 4711, until 2026-12-24T00:00:00Z";
  s.plan.changes.deletes = {"10.0.0.9", "10.0.0.8"};
  e = zone_event(s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kNormal);
  EXPECT_EQ(e->reason, "ZoneSuspended");
  EXPECT_EQ(e->message, std::string("zone ") + kZone +
                            " (example.com): suspended (reason: incident 4711, until "
                            "2026-12-24T00:00:00Z): nothing sent; pending: 0 creates, 0 updates, "
                            "2 deletes");
  s.plan.changes.deletes.clear();
  EXPECT_THAT(zone_event(s)->message, HasSubstr("nothing sent; pending: none"));
}

TEST(ZoneEvent, InterruptedRecordsOnlyWhatItSentAndDryRunsNothing) {
  ZoneReport i = report(ZoneOutcome::kInterrupted);
  i.stopped_by = StopReason::kNotLeader;
  EXPECT_EQ(zone_event(i), std::nullopt) << "nothing happened: the next leader reconciles it";
  i.applied.pruned = 100;
  const auto e = zone_event(i);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->reason, "ZoneApplied");
  EXPECT_EQ(e->message, std::string("zone ") + kZone +
                            " (example.com): applied in part before it was cut short (this "
                            "instance is no longer the leader): 100 deleted; the rest is "
                            "reconciled next");
  ZoneReport d = report(ZoneOutcome::kDryRun);
  d.plan.changes.deletes = {"10.0.0.9"};
  EXPECT_EQ(zone_event(d), std::nullopt);
}

TEST(ZoneEvent, MessagesArePrintableAndWithinTheLimit) {
  ZoneReport f = report(ZoneOutcome::kFailure);
  f.error = "line one\nline two " + std::string(5000, 'x');
  const auto e = zone_event(f);
  ASSERT_TRUE(e);
  EXPECT_LE(e->message.size(), kEventMessageMax);
  EXPECT_THAT(e->message, HasSubstr("line one\\x0aline two"));
}

TEST(HeldEvents, OnePerZoneTheChangeWouldShrink) {
  std::vector<ZoneShrink> shrinks(2);
  shrinks[0].zone_id = kZone;
  shrinks[0].zone_name = "example.com";
  shrinks[0].before = 500;
  shrinks[0].removed = 200;
  shrinks[0].removes_too_much = true;
  shrinks[1].zone_id = "1111111111111111111111111111111a";
  shrinks[1].scope_widened = true;
  const auto events = held_events(shrinks, 10min);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::kWarning);
  EXPECT_EQ(events[0].reason, "DesiredStateHeld");
  EXPECT_EQ(events[0].message,
            std::string("zone ") + kZone +
                " (example.com): desired-state change held: 200 of its 500 desired origins "
                "removed (40.0%); the desired state in force stays until the file has been "
                "unchanged for 10m (or SIGHUP confirms it)");
  EXPECT_EQ(events[1].message,
            "zone 1111111111111111111111111111111a: desired-state change held: manage_cidrs "
            "widened to addresses it did not cover; the desired state in force stays until the "
            "file has been unchanged for 10m (or SIGHUP confirms it)");
}

TEST_F(EventRecorderTest, TheSinkRecordsOutcomesAndHeldChangesOnlyWhileLeading) {
  EventRecorder& r = recorder();
  bool leading = false;
  ZoneEvents sink(r, [&leading] { return leading; });
  ZoneReport b = report(ZoneOutcome::kBlocked);
  b.error = "blocked";
  sink.on_zone_done(b);
  sink.on_zone_done(report(ZoneOutcome::kSuccess));  // in line: nothing
  std::vector<ZoneShrink> shrinks(1);
  shrinks[0].zone_id = kZone;
  shrinks[0].scope_widened = true;
  sink.on_change_held(shrinks, 10min);  // a standby: not its to tell
  time_.advance(1s);
  ASSERT_EQ(api_.calls().size(), 1u);
  EXPECT_EQ(api_.calls()[0].record.note.reason, "ZoneBlocked");
  leading = true;
  sink.on_change_held(shrinks, 10min);
  time_.advance(1s);
  ASSERT_EQ(api_.calls().size(), 2u);
  EXPECT_EQ(api_.calls()[1].record.note.reason, "DesiredStateHeld");
  EXPECT_EQ(sink.event_counts().created, 2u);
}

}  // namespace
}  // namespace orc
