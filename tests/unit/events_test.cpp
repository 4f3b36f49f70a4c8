// Kubernetes Events: their JSON, the events API client, client-go's correlation (aggregation,
// deduplication, spam filter) on simulated times, and the settings taken from the pod.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/redact.h"
#include "fakes.h"
#include "kube/event.h"
#include "kube/event_client.h"
#include "kube/event_correlator.h"
#include "kube/lease_settings.h"
#include "kube_reply.h"
#include "model/plan_file.h"
#include "temp_dir.h"

namespace orc {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const WallTime kWall = *parse_utc("2026-12-02T01:30:00Z");
const MonoTime kMono{std::chrono::hours(1000)};

EventSource pod() {
  return {"apps", "app-7d9f-x2k4q", "5b1c0d2e-0000-4000-8000-000000000001", "origin-reconciler"};
}

EventNote warning(std::string reason, std::string message) {
  return {EventType::kWarning, std::move(reason), std::move(message)};
}

// A Warning Event first seen at kWall, `count` times until `last`.
EventRecord warning_since_kwall(std::string name, std::string reason, std::string message,
                                long long count, WallTime last) {
  EventRecord r;
  r.name = std::move(name);
  r.note = warning(std::move(reason), std::move(message));
  r.count = count;
  r.first_timestamp = kWall;
  r.last_timestamp = last;
  return r;
}

// ---------------------------------------------------------------------------------------------
// The Event's JSON

TEST(EventName, IsThePodAndTheNanosecondsInHexWithinASubdomainsLength) {
  EXPECT_EQ(event_name("app-7d9f-x2k4q", 0x1879d8a2b3c4d5e6ULL), "app-7d9f-x2k4q.1879d8a2b3c4d5e6");
  const std::string long_pod(250, 'a');
  const std::string name = event_name(long_pod, 0x1879d8a2b3c4d5e6ULL);
  EXPECT_EQ(name.size(), 253u);
  EXPECT_TRUE(name.ends_with(".1879d8a2b3c4d5e6"));
  // A cut that would leave a '-' or '.' before the suffix drops it: labels end alphanumeric.
  const std::string dashed = std::string(235, 'a') + "-b";
  EXPECT_EQ(event_name(dashed, 0x1879d8a2b3c4d5e6ULL), std::string(235, 'a') + ".1879d8a2b3c4d5e6");
}

TEST(EventBodies, ANewEventIsAboutThePodWithCountsAndTimestamps) {
  const EventRecord r =
      warning_since_kwall("app-7d9f-x2k4q.1", "ZoneBlocked", "zone 023e…: blocked", 1, kWall + 61s);
  const json doc = json::parse(new_event_body(pod(), r));
  EXPECT_EQ(doc["apiVersion"], "v1");
  EXPECT_EQ(doc["kind"], "Event");
  EXPECT_EQ(doc["metadata"], json({{"name", "app-7d9f-x2k4q.1"}, {"namespace", "apps"}}));
  EXPECT_EQ(doc["involvedObject"], json({{"apiVersion", "v1"},
                                         {"kind", "Pod"},
                                         {"namespace", "apps"},
                                         {"name", "app-7d9f-x2k4q"},
                                         {"uid", "5b1c0d2e-0000-4000-8000-000000000001"}}));
  EXPECT_EQ(doc["type"], "Warning");
  EXPECT_EQ(doc["reason"], "ZoneBlocked");
  EXPECT_EQ(doc["message"], "zone 023e…: blocked");
  EXPECT_EQ(doc["source"], json({{"component", "origin-reconciler"}}));
  EXPECT_EQ(doc["reportingComponent"], "origin-reconciler");
  EXPECT_EQ(doc["reportingInstance"], "app-7d9f-x2k4q");
  EXPECT_EQ(doc["count"], 1);
  EXPECT_EQ(doc["firstTimestamp"], "2026-12-02T01:30:00Z");
  EXPECT_EQ(doc["lastTimestamp"], "2026-12-02T01:31:01Z");
  EXPECT_FALSE(doc["metadata"].contains("resourceVersion"));

  EventSource no_uid = pod();
  no_uid.pod_uid.clear();
  EXPECT_FALSE(json::parse(new_event_body(no_uid, r))["involvedObject"].contains("uid"));
}

TEST(EventBodies, ARepeatPatchesCountLastTimestampAndMessageOnly) {
  const EventRecord r = warning_since_kwall("app.1", "ZoneFailed", "zone x: failed", 7, kWall + 1h);
  EXPECT_EQ(json::parse(event_patch_body(r)), json({{"count", 7},
                                                    {"lastTimestamp", "2026-12-02T02:30:00Z"},
                                                    {"message", "zone x: failed"}}));
  EXPECT_STREQ(kEventPatchType, "application/strategic-merge-patch+json");
}

TEST(InterpretEventAnswer, ClassifiesEveryKindOfAnswer) {
  HttpResponse r;
  r.status = 201;
  r.body = R"({"kind":"Event","metadata":{"name":"app.1","resourceVersion":"9"},"count":2})";
  EventReply reply = interpret_event_answer(r);
  ASSERT_EQ(testing::kind_of(reply), "ok");
  EXPECT_EQ(reply->name, "app.1");
  EXPECT_EQ(reply->count, 2);

  const std::pair<int, std::string> statuses[] = {
      {404, "not found"}, {409, "conflict"}, {403, "failed"}, {422, "failed"},
      {429, "failed"},    {500, "failed"},   {503, "failed"}};
  for (const auto& [status, kind] : statuses) {
    r = {};
    r.status = status;
    r.body = R"({"kind":"Status","reason":"X","message":"m"})";
    reply = interpret_event_answer(r);
    EXPECT_EQ(testing::kind_of(reply), kind) << status;
    EXPECT_EQ(testing::retryable(reply), status == 429 || status >= 500) << status;
    EXPECT_EQ(testing::message_of(reply), "HTTP " + std::to_string(status) + ": X: m");
  }
  r = {};
  r.transport_error = "Connection refused";
  reply = interpret_event_answer(r);
  EXPECT_EQ(testing::kind_of(reply), "failed");
  EXPECT_TRUE(testing::retryable(reply));
  EXPECT_EQ(testing::message_of(reply), "no answer from the API server: Connection refused");
  r.too_large = true;
  EXPECT_FALSE(testing::retryable(interpret_event_answer(r))) << "the same answer would come back";

  for (const char* body : {"not json", R"({"kind":"Lease","metadata":{"name":"a"}})",
                           R"({"kind":"Event","metadata":{}})", "[]"}) {
    r = {};
    r.status = 200;
    r.body = body;
    reply = interpret_event_answer(r);
    EXPECT_EQ(testing::kind_of(reply), "failed") << body;
    EXPECT_EQ(testing::message_of(reply), "HTTP 200: the answer is not an Event") << body;
  }
}

// ---------------------------------------------------------------------------------------------
// The client

class EventClientTest : public testing::TempDirTest {
 protected:
  EventEndpoint endpoint() { return {"https://127.0.0.1:6443", write("token", "tok-1\n")}; }
  testing::ScriptedHttp http;
};

TEST_F(EventClientTest, PostsNewEventsAndPatchesRepeatsWithTheToken) {
  EventClient client(http, endpoint(), pod());
  const std::string stored = R"({"kind":"Event","metadata":{"name":"app-7d9f-x2k4q.1"},"count":1})";
  http.push(201, stored);
  http.push(200, stored);
  EventRecord r;
  r.name = "app-7d9f-x2k4q.1";
  r.note = warning("ZoneFailed", "zone x: failed");
  r.first_timestamp = r.last_timestamp = kWall;
  EXPECT_EQ(testing::kind_of(client.create(r, 2000ms)), "ok");
  r.count = 2;
  EXPECT_EQ(testing::kind_of(client.patch(r, 2000ms)), "ok");
  const auto& sent = http.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url, "https://127.0.0.1:6443/api/v1/namespaces/apps/events");
  EXPECT_THAT(sent[0].headers, ::testing::Contains(std::pair<std::string, std::string>(
                                   "Content-Type", "application/json")));
  EXPECT_EQ(json::parse(sent[0].body)["reason"], "ZoneFailed");
  EXPECT_EQ(sent[1].method, "PATCH");
  EXPECT_EQ(sent[1].url, "https://127.0.0.1:6443/api/v1/namespaces/apps/events/app-7d9f-x2k4q.1");
  EXPECT_THAT(sent[1].headers, ::testing::Contains(std::pair<std::string, std::string>(
                                   "Content-Type", "application/strategic-merge-patch+json")));
  EXPECT_EQ(json::parse(sent[1].body)["count"], 2);
  for (const auto& request : sent) {
    EXPECT_THAT(request.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                     "Authorization", "Bearer tok-1")));
  }
}

TEST_F(EventClientTest, TheTokenIsRedactedWhereverAnAnswerQuotesItAndNeverSentWhenUnreadable) {
  set_redacted_secrets({});
  EventEndpoint e = endpoint();
  write("token", "eyJhbGciOiJSUzI1NiJ9.events-token\n");
  EventClient client(http, e, pod());
  http.push(500, R"({"kind":"Status","reason":"InternalError","message":"request with )"
                 R"('Bearer eyJhbGciOiJSUzI1NiJ9.events-token' failed"})");
  EventRecord r;
  r.name = "a.1";
  const EventReply reply = client.create(r, 1000ms);
  EXPECT_EQ(testing::message_of(reply),
            "HTTP 500: InternalError: request with 'Bearer [redacted]' failed");
  EXPECT_TRUE(testing::retryable(reply));
  std::filesystem::remove(e.token_file);
  EXPECT_THAT(testing::message_of(client.patch(r, 1000ms)),
              HasSubstr("cannot read the token file"));
  EXPECT_EQ(http.requests().size(), 1u) << "nothing sent without a token";
  set_redacted_secrets({});
}

// ---------------------------------------------------------------------------------------------
// client-go's correlation, on simulated times

TEST(TokenBucket, StartsFullAndRefillsAtItsRate) {
  TokenBucket bucket(25, 1.0 / 300);
  for (int i = 0; i < 25; ++i) EXPECT_TRUE(bucket.try_take(kMono)) << i;
  EXPECT_FALSE(bucket.try_take(kMono));
  EXPECT_FALSE(bucket.try_take(kMono + 299s));
  EXPECT_TRUE(bucket.try_take(kMono + 300s)) << "one token every 5 minutes";
  EXPECT_FALSE(bucket.try_take(kMono + 301s));
  // Idle for a day: full again, never more than the burst.
  for (int i = 0; i < 25; ++i) EXPECT_TRUE(bucket.try_take(kMono + 24h)) << i;
  EXPECT_FALSE(bucket.try_take(kMono + 24h));
  // A clock that seems to go back refills nothing.
  EXPECT_FALSE(bucket.try_take(kMono));
}

TEST(EventCorrelator, ARepeatIsTheSameEventWithCountAndLastTimestamp) {
  EventCorrelator c("app");
  const EventNote n = warning("ZoneBlocked", "zone a: blocked");
  const Correlated first = c.correlate(n, kMono, kWall);
  EXPECT_FALSE(first.skip);
  EXPECT_FALSE(first.patch) << "a new Event is created";
  EXPECT_EQ(first.record.count, 1);
  EXPECT_EQ(first.record.first_timestamp, kWall);
  EXPECT_EQ(first.record.last_timestamp, kWall);
  EXPECT_TRUE(first.record.name.starts_with("app."));
  c.stored(first.key, first.record.name);

  const Correlated second = c.correlate(n, kMono + 60s, kWall + 60s);
  EXPECT_TRUE(second.patch) << "the stored Event is patched";
  EXPECT_EQ(second.record.name, first.record.name);
  EXPECT_EQ(second.record.count, 2);
  EXPECT_EQ(second.record.first_timestamp, kWall);
  EXPECT_EQ(second.record.last_timestamp, kWall + 60s);
  EXPECT_EQ(second.key, first.key);
}

TEST(EventCorrelator, DistinctOutcomesAreDistinctEventsWithUniqueNames) {
  EventCorrelator c("app");
  // The same wall time (a clock that did not move): names stay unique.
  const Correlated a = c.correlate(warning("ZoneBlocked", "zone a: blocked"), kMono, kWall);
  const Correlated b = c.correlate(warning("ZoneBlocked", "zone b: blocked"), kMono, kWall);
  const Correlated f = c.correlate(warning("ZoneFailed", "zone a: blocked"), kMono, kWall);
  const Correlated n =
      c.correlate({EventType::kNormal, "ZoneBlocked", "zone a: blocked"}, kMono, kWall);
  for (const Correlated* x : {&a, &b, &f, &n}) {
    EXPECT_FALSE(x->patch);
    EXPECT_EQ(x->record.count, 1);
  }
  EXPECT_NE(a.record.name, b.record.name);
  EXPECT_NE(a.record.name, f.record.name);
  EXPECT_NE(a.record.name, n.record.name);
  EXPECT_NE(f.record.name, n.record.name);
  EXPECT_NE(a.key, b.key);
  EXPECT_NE(a.key, f.key) << "the reason is part of the key";
  EXPECT_NE(a.key, n.key) << "the type is part of the key";
}

TEST(EventCorrelator, AnEventNotStoredIsCreatedWithItsCountSoFar) {
  EventCorrelator c("app");
  const EventNote n = warning("ZoneFailed", "zone a: failed");
  const Correlated first = c.correlate(n, kMono, kWall);
  c.not_stored(first.key);  // the create failed
  const Correlated second = c.correlate(n, kMono + 60s, kWall + 60s);
  EXPECT_FALSE(second.patch) << "nothing on the server to patch";
  EXPECT_EQ(second.record.count, 2);
  EXPECT_EQ(second.record.name, first.record.name);
  EXPECT_EQ(second.record.first_timestamp, kWall);
  c.stored(second.key, second.record.name);
  EXPECT_TRUE(c.correlate(n, kMono + 120s, kWall + 120s).patch);
}

TEST(EventCorrelator, TenDistinctMessagesOfOneReasonWithinTenMinutesAreCombined) {
  EventCorrelator c("app");
  std::vector<Correlated> out;
  for (int i = 0; i < 12; ++i) {
    out.push_back(c.correlate(warning("ZoneFailed", "zone " + std::to_string(i) + ": failed"),
                              kMono + std::chrono::seconds(i), kWall + std::chrono::seconds(i)));
    c.stored(out.back().key, out.back().record.name);
  }
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(out[i].record.note.message, "zone " + std::to_string(i) + ": failed");
    EXPECT_FALSE(out[i].patch);
  }
  // The tenth distinct message starts the combined Event; the next ones patch it with their
  // message and the count of combined occurrences.
  EXPECT_EQ(out[9].record.note.message, "(combined from similar events): zone 9: failed");
  EXPECT_FALSE(out[9].patch);
  EXPECT_EQ(out[10].record.note.message, "(combined from similar events): zone 10: failed");
  EXPECT_TRUE(out[10].patch);
  EXPECT_EQ(out[10].record.name, out[9].record.name);
  EXPECT_EQ(out[11].record.count, 3);
  // Another reason is counted apart.
  EXPECT_EQ(c.correlate(warning("ZoneBlocked", "zone 0: blocked"), kMono + 20s, kWall + 20s)
                .record.note.message,
            "zone 0: blocked");
}

TEST(EventCorrelator, SimilarEventsFurtherApartThanTheIntervalAreNotCombined) {
  EventCorrelator c("app");
  for (int i = 0; i < 30; ++i) {
    // Each one more than 10 minutes after the last similar one: a fresh count every time.
    const auto at = std::chrono::seconds(601 * i);
    const Correlated x = c.correlate(
        warning("ZoneFailed", "zone " + std::to_string(i) + ": failed"), kMono + at, kWall + at);
    EXPECT_EQ(x.record.note.message, "zone " + std::to_string(i) + ": failed") << i;
  }
}

TEST(EventCorrelator, TheSpamFilterAllowsABurstThenOneEventEveryFiveMinutes) {
  EventCorrelator c("app");
  const EventNote n = warning("ZoneFailed", "zone a: failed");
  for (int i = 0; i < 25; ++i) {
    const Correlated x = c.correlate(n, kMono + std::chrono::seconds(i), kWall);
    EXPECT_FALSE(x.skip) << i;
    c.stored(x.key, x.record.name);
  }
  const Correlated held = c.correlate(n, kMono + 30s, kWall + 30s);
  EXPECT_TRUE(held.skip);
  EXPECT_EQ(held.record.count, 26);
  // The next one sent carries every occurrence, the held-back ones included.
  const Correlated later = c.correlate(n, kMono + 30s + 300s, kWall + 330s);
  EXPECT_FALSE(later.skip);
  EXPECT_TRUE(later.patch);
  EXPECT_EQ(later.record.count, 27);
  // One bucket for every Event of the pod: another reason is held back too.
  EXPECT_TRUE(c.correlate(warning("ZoneBlocked", "b"), kMono + 331s, kWall).skip);
}

TEST(EventCorrelator, TheCachesKeepTheirLimit) {
  CorrelatorLimits limits;
  limits.cache_entries = 3;
  limits.spam_burst = 1000;
  EventCorrelator c("app", limits);
  const EventNote first = {EventType::kNormal, "ZoneApplied", "zone 0: applied"};
  const Correlated a = c.correlate(first, kMono, kWall);
  c.stored(a.key, a.record.name);
  for (int i = 1; i <= 3; ++i) {
    c.correlate({EventType::kNormal, "R" + std::to_string(i), "m"}, kMono, kWall);
  }
  // The oldest entry was evicted: the same note is a new Event again.
  const Correlated again = c.correlate(first, kMono + 1s, kWall + 1s);
  EXPECT_FALSE(again.patch);
  EXPECT_EQ(again.record.count, 1);
  EXPECT_NE(again.record.name, a.record.name);
}

TEST(LruMap, EvictsTheLeastRecentlyUsed) {
  LruMap<int> m(2);
  m.put("a", 1);
  m.put("b", 2);
  ASSERT_NE(m.get("a"), nullptr);  // a is now the most recently used
  m.put("c", 3);
  EXPECT_EQ(m.get("b"), nullptr);
  EXPECT_EQ(*m.get("a"), 1);
  EXPECT_EQ(*m.get("c"), 3);
  m.put("a", 10);
  EXPECT_EQ(*m.get("a"), 10);
  EXPECT_EQ(m.size(), 2u);
  m.erase("a");
  EXPECT_EQ(m.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Settings from the pod

const char* pod_env(const char* name) {
  const std::string n = name;
  if (n == "POD_NAME") return "app-7d9f-x2k4q";
  if (n == "POD_NAMESPACE") return "shop";
  if (n == "POD_UID") return "5b1c0d2e-0000-4000-8000-000000000001";
  if (n == "KUBERNETES_SERVICE_HOST") return "10.96.0.1";
  if (n == "KUBERNETES_SERVICE_PORT") return "443";
  return nullptr;
}
const char* host_env(const char* name) {
  const std::string n = name;
  if (n == "KUBERNETES_SERVICE_HOST") return "10.96.0.1";
  if (n == "KUBERNETES_SERVICE_PORT") return "443";
  return nullptr;
}
const char* no_env(const char*) {
  return nullptr;
}

class EventSettingsTest : public testing::TempDirTest {
 protected:
  std::string message(const Config& c, GetEnv env, const char* host,
                      const std::filesystem::path& ns_file) {
    try {
      resolve_event_settings(c, env, host, ns_file);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(EventSettingsTest, ThePodFromTheDownwardApiAndTheApiServerOfLeaderElection) {
  Config c;
  c.path = "/etc/origin-reconciler/config.yaml";
  c.leader_election.ns = "leases-live-elsewhere";
  const EventSettings s = resolve_event_settings(c, &pod_env, "host-1", write("ns", "apps\n"));
  EXPECT_EQ(s.source.ns, "shop") << "$POD_NAMESPACE first; never the Lease's namespace";
  EXPECT_EQ(s.source.pod, "app-7d9f-x2k4q");
  EXPECT_EQ(s.source.pod_uid, "5b1c0d2e-0000-4000-8000-000000000001");
  EXPECT_EQ(s.source.component, "origin-reconciler");
  EXPECT_EQ(s.endpoint.api_server, "https://10.96.0.1:443");
  EXPECT_EQ(s.endpoint.token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
  EXPECT_EQ(s.ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");

  // Without the variables: the namespace file and the host name; no uid.
  const EventSettings t = resolve_event_settings(c, &host_env, "host-1", write("ns", "apps\n"));
  EXPECT_EQ(t.source.ns, "apps");
  EXPECT_EQ(t.source.pod, "host-1");
  EXPECT_EQ(t.source.pod_uid, "");
  c.leader_election.api_server = "https://127.0.0.1:6443";
  EXPECT_EQ(resolve_event_settings(c, &host_env, "h", write("ns", "apps")).endpoint.api_server,
            "https://127.0.0.1:6443");
}

TEST_F(EventSettingsTest, WhatCannotBeFoundOrIsInvalidIsAnErrorSayingWhyEventsAreOn) {
  Config c;
  c.path = "/etc/origin-reconciler/config.yaml";
  c.leader_election.enabled = true;
  EXPECT_EQ(message(c, &no_env, "h", dir_ / "none"),
            "/etc/origin-reconciler/config.yaml: events are on with leader_election.enabled (set "
            "events.enabled: false to turn them off), but $POD_NAMESPACE is not set and the pod's "
            "namespace cannot be read from " +
                (dir_ / "none").string() + ": No such file or directory");
  c.events.enabled = true;
  EXPECT_THAT(message(c, &no_env, "h", write("ns", "Apps_1")),
              HasSubstr("config.yaml: events.enabled is true, but $POD_NAMESPACE is not set and "));
  EXPECT_THAT(message(c, &no_env, "h", write("ns", "Apps_1")), HasSubstr("(got 'Apps_1')"));
  const auto ns = write("ns", "apps");
  EXPECT_EQ(message(c, &no_env, "Bad_Host", ns),
            "/etc/origin-reconciler/config.yaml: events.enabled is true, but $POD_NAME is not set "
            "and the host name, the Pod's name, must be lower-case letters, digits, '-' and '.' "
            "(a DNS-1123 subdomain) (got 'Bad_Host')");
  EXPECT_EQ(message(c, &no_env, "host-1", ns),
            "/etc/origin-reconciler/config.yaml: leader_election.api_server (where Events are "
            "sent): not set, and $KUBERNETES_SERVICE_HOST/$KUBERNETES_SERVICE_PORT are not "
            "(outside a pod, set leader_election.api_server)");
  const auto bad_uid = [](const char* name) -> const char* {
    return std::string(name) == "POD_UID" ? "two words" : host_env(name);
  };
  EXPECT_THAT(message(c, bad_uid, "host-1", ns),
              HasSubstr("$POD_UID must be the Pod's uid, at most 128 printable characters "
                        "without spaces (got 'two words')"));
}

}  // namespace
}  // namespace orc
