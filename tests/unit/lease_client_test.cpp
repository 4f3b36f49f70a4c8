// The Lease's JSON and MicroTime, the Lease API client's requests and answers, and the
// settings taken from the pod.
#include "kube/lease_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/redact.h"
#include "fakes.h"
#include "kube/lease_settings.h"
#include "kube_reply.h"
#include "temp_dir.h"

namespace orc {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kLease = R"({
  "kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
  "metadata": {"name": "origin-reconciler", "namespace": "apps", "resourceVersion": "4711",
               "uid": "u-1", "labels": {"team": "edge"}},
  "spec": {"holderIdentity": "replica-a", "leaseDurationSeconds": 15,
           "acquireTime": "2026-12-02T00:32:29.123456Z", "renewTime": "2026-12-02T00:40:00.000001Z",
           "leaseTransitions": 3}})";

TEST(MicroTime, FormatsUtcWithSixFractionalDigits) {
  const WallTime t =
      WallTime(std::chrono::seconds(1'796'171'549)) + std::chrono::microseconds(123456);
  EXPECT_EQ(format_micro_time(t), "2026-12-02T00:32:29.123456Z");
  EXPECT_EQ(format_micro_time(WallTime(std::chrono::seconds(0))), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_micro_time(WallTime(std::chrono::nanoseconds(1'999))),
            "1970-01-01T00:00:00.000001Z");
}

TEST(MicroTime, ReadsWhatItWritesAndOffsets) {
  const WallTime t = WallTime(std::chrono::seconds(1'796'171'549)) + std::chrono::microseconds(7);
  EXPECT_EQ(parse_micro_time(format_micro_time(t)), t);
  EXPECT_EQ(parse_micro_time("2026-12-02T02:32:29.000007+02:00"), t);
  EXPECT_EQ(parse_micro_time("2024-02-29T00:00:00.000000Z").has_value(), true);
  // Beyond the clock's range (its nanoseconds overflow past 2262): not a time.
  EXPECT_EQ(parse_micro_time("8570-01-01T00:00:00.000001Z"), std::nullopt);
  EXPECT_EQ(parse_micro_time("1969-12-31T23:59:59.000000Z"), std::nullopt);
}

TEST(MicroTime, RefusesWhatTheApiServerRefuses) {
  for (const char* bad :
       {"2026-12-02T00:32:29Z", "2026-12-02T00:32:29.123Z", "2026-12-02T00:32:29.1234567Z",
        "2026-12-02 00:32:29.123456Z", "2026-13-02T00:32:29.123456Z", "2025-02-29T00:00:00.000000Z",
        "2026-12-02T24:00:00.000000Z", "2026-12-02T00:32:29.123456",
        "2026-12-02T00:32:29.123456+0200", ""}) {
    EXPECT_FALSE(parse_micro_time(bad)) << bad;
  }
}

TEST(ParseLease, ReadsTheRecordAndTheResourceVersion) {
  const auto lease = parse_lease(kLease);
  ASSERT_TRUE(lease.ok()) << lease.error().message;
  EXPECT_EQ(lease->resource_version, "4711");
  EXPECT_EQ(lease->record, (LeaseRecord{"replica-a", 15, "2026-12-02T00:32:29.123456Z",
                                        "2026-12-02T00:40:00.000001Z", 3}));
}

// The API declares leaseDurationSeconds int32; a larger value from a server that does not
// enforce it is taken as the largest int32, never wrapped into the past.
TEST(ParseLease, ALeaseDurationBeyondInt32IsClamped) {
  auto with = [](const std::string& seconds) {
    return parse_lease(R"({"kind":"Lease","metadata":{"resourceVersion":"1"},)"
                       R"("spec":{"holderIdentity":"b","leaseDurationSeconds":)" +
                       seconds + "}}");
  };
  EXPECT_EQ(with("10000000000")->record.lease_duration_seconds, 2147483647);
  EXPECT_EQ(with("9223372036854775807")->record.lease_duration_seconds, 2147483647);
  EXPECT_EQ(with("-10000000000")->record.lease_duration_seconds, -2147483648LL);
  EXPECT_EQ(with("15")->record.lease_duration_seconds, 15);
}

TEST(ParseLease, AnEmptySpecIsAnUnheldLease) {
  const auto lease =
      parse_lease(R"({"kind":"Lease","metadata":{"name":"x","resourceVersion":"1"},"spec":{}})");
  ASSERT_TRUE(lease.ok()) << lease.error().message;
  EXPECT_EQ(lease->record, LeaseRecord{});
}

TEST(ParseLease, RefusesWhatIsNotALeaseSayingWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "the answer is not a JSON object"},
      {"[]", "the answer is not a JSON object"},
      {"null", "the answer is not a JSON object"},
      {R"({"kind":"Status"})", "the answer is not a Lease"},
      {R"({"kind":7,"metadata":{}})", "the answer is not a Lease"},
      {R"({"kind":"Lease"})", "the Lease has no metadata"},
      {R"({"kind":"Lease","metadata":{}})", "the Lease has no metadata.resourceVersion"},
      {R"({"kind":"Lease","metadata":{"resourceVersion":5}})",
       "the Lease has no metadata.resourceVersion"},
      {R"({"kind":"Lease","metadata":{"resourceVersion":"1"},"spec":[]})",
       "the Lease's spec is not an object"},
      {R"({"kind":"Lease","metadata":{"resourceVersion":"1"},"spec":{"holderIdentity":1}})",
       "spec.holderIdentity is not a string"},
      {R"({"kind":"Lease","metadata":{"resourceVersion":"1"},"spec":{"leaseDurationSeconds":"15"}})",
       "spec.leaseDurationSeconds is not a whole number"},
      {R"({"kind":"Lease","metadata":{"resourceVersion":"1"},"spec":{"acquireTime":3}})",
       "spec.acquireTime is not a string"},
      {R"({"kind":"Lease","metadata":{"resourceVersion":"1"},"spec":{"renewTime":"yesterday"}})",
       "spec.renewTime is not a MicroTime ('yesterday')"},
      {R"({"kind":"Lease","metadata":{"resourceVersion":"1"},"spec":{"leaseTransitions":1.5}})",
       "spec.leaseTransitions is not a whole number"},
  };
  for (const auto& [bad, why] : cases) {
    const auto lease = parse_lease(bad);
    ASSERT_FALSE(lease.ok()) << bad;
    EXPECT_EQ(lease.error().message, why) << bad;
  }
}

TEST(LeaseBodies, AnUpdateKeepsTheObjectAndItsVersionAndReplacesTheSpec) {
  const auto lease = parse_lease(kLease);
  ASSERT_TRUE(lease.ok());
  const LeaseRecord mine{"replica-b", 15, "2026-12-02T01:00:00.000000Z",
                         "2026-12-02T01:00:00.000000Z", 4};
  const json body = json::parse(updated_lease_body(*lease, mine));
  EXPECT_EQ(body["metadata"]["resourceVersion"], "4711");
  EXPECT_EQ(body["metadata"]["labels"]["team"], "edge");
  EXPECT_EQ(body["metadata"]["uid"], "u-1");
  EXPECT_EQ(body["spec"], json::parse(R"({"holderIdentity":"replica-b","leaseDurationSeconds":15,
      "acquireTime":"2026-12-02T01:00:00.000000Z","renewTime":"2026-12-02T01:00:00.000000Z",
      "leaseTransitions":4})"));
}

TEST(LeaseBodies, ACreationNamesTheLeaseAndNoVersion) {
  const json body = json::parse(new_lease_body("apps", "origin-reconciler", {"a", 15, "", "", 0}));
  EXPECT_EQ(body["kind"], "Lease");
  EXPECT_EQ(body["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(body["metadata"], json::parse(R"({"name":"origin-reconciler","namespace":"apps"})"));
  EXPECT_FALSE(body["spec"].contains("acquireTime"));  // absent, never ""
  EXPECT_EQ(body["spec"]["holderIdentity"], "a");
}

class LeaseClientTest : public testing::TempDirTest {
 protected:
  LeaseEndpoint endpoint() {
    return {"https://127.0.0.1:6443", "apps", "origin-reconciler", write("token", "tok-1\n")};
  }
  testing::ScriptedHttp http;
};

TEST_F(LeaseClientTest, SendsTheRequestsOfTheLeaseApiWithTheToken) {
  LeaseClient client(http, endpoint(), Millis{2000});
  http.push(404, R"({"kind":"Status","reason":"NotFound","message":"leases \"x\" not found"})");
  http.push(201, kLease);
  http.push(409,
            R"({"kind":"Status","reason":"Conflict","message":"the object has been modified"})");
  EXPECT_EQ(testing::kind_of(client.get()), "not found");
  const LeaseReply created = client.create({"replica-a", 15, "", "", 0});
  EXPECT_EQ(testing::kind_of(created), "ok");
  const LeaseReply conflict = client.update(created.value(), {"replica-a", 15, "", "", 0});
  EXPECT_EQ(testing::kind_of(conflict), "conflict");
  EXPECT_EQ(testing::message_of(conflict), "HTTP 409: Conflict: the object has been modified");

  const auto& sent = http.requests();
  ASSERT_EQ(sent.size(), 3u);
  const std::string one =
      "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/apps/leases/origin-reconciler";
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[0].url, one);
  EXPECT_EQ(sent[1].method, "POST");
  EXPECT_EQ(sent[1].url,
            "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/apps/leases");
  EXPECT_EQ(sent[2].method, "PUT");
  EXPECT_EQ(sent[2].url, one);
  EXPECT_EQ(json::parse(sent[2].body)["metadata"]["resourceVersion"], "4711");
  for (const auto& r : sent) {
    EXPECT_THAT(r.headers, ::testing::Contains(std::pair<std::string, std::string>(
                               "Authorization", "Bearer tok-1")));
  }
}

TEST_F(LeaseClientTest, ReadsTheTokenAgainOnEveryRequest) {
  LeaseClient client(http, endpoint(), Millis{2000});
  http.push(200, kLease);
  http.push(200, kLease);
  EXPECT_TRUE(client.get().ok());
  write("token", "tok-2");  // rotated
  EXPECT_TRUE(client.get().ok());
  EXPECT_THAT(http.requests()[1].headers, ::testing::Contains(std::pair<std::string, std::string>(
                                              "Authorization", "Bearer tok-2")));
}

TEST_F(LeaseClientTest, AnAnswerQuotingTheTokenIsRedactedEverywhere) {
  set_redacted_secrets({});
  LeaseEndpoint e = endpoint();
  write("token", "eyJhbGciOiJSUzI1NiJ9.sa-token-payload\n");
  LeaseClient client(http, e, Millis{2000});
  http.push(401, R"({"kind":"Status","reason":"Unauthorized","message":"token )"
                 R"('eyJhbGciOiJSUzI1NiJ9.sa-token-payload' is not valid"})");
  http.push(500, "upstream said: Bearer eyJhbGciOiJSUzI1NiJ9.sa-token-payload");
  http.push_transport_error("proxy: eyJhbGciOiJSUzI1NiJ9.sa-token-payload rejected");
  EXPECT_EQ(testing::message_of(client.get()),
            "HTTP 401: Unauthorized: token '[redacted]' is not valid");
  EXPECT_EQ(testing::message_of(client.get()), "HTTP 500: upstream said: Bearer [redacted]");
  EXPECT_EQ(testing::message_of(client.get()),
            "no answer from the API server: proxy: [redacted] rejected");
  // And anything else that logs it later (the log formatter, /healthz) goes through redact().
  EXPECT_EQ(redact("x eyJhbGciOiJSUzI1NiJ9.sa-token-payload y"), "x [redacted] y");
  set_redacted_secrets({});
}

TEST_F(LeaseClientTest, AMissingOrEmptyTokenSendsNothingAndIsNeverShown) {
  LeaseEndpoint e = endpoint();
  LeaseClient client(http, e, Millis{2000});
  write("token", " \n");
  EXPECT_THAT(testing::message_of(client.get()), HasSubstr("is empty"));
  write("token", "secret\x01value");
  EXPECT_THAT(testing::message_of(client.get()),
              ::testing::AllOf(HasSubstr("control characters"), Not(HasSubstr("secret"))));
  std::filesystem::remove(e.token_file);
  EXPECT_THAT(testing::message_of(client.get()), HasSubstr("cannot read the token file"));
  EXPECT_TRUE(http.requests().empty());
}

TEST(InterpretLeaseAnswer, ClassifiesEveryKindOfAnswer) {
  HttpResponse r;
  r.transport_error = "SSL certificate problem: unable to get local issuer certificate";
  EXPECT_EQ(testing::kind_of(interpret_lease_answer(r)), "failed");
  EXPECT_THAT(testing::message_of(interpret_lease_answer(r)),
              HasSubstr("no answer from the API server: SSL"));
  r = {};
  r.status = 500;
  r.body = R"({"kind":"Status","reason":"InternalError","message":"etcd\nleader changed"})";
  EXPECT_EQ(testing::kind_of(interpret_lease_answer(r)), "failed");
  EXPECT_EQ(testing::message_of(interpret_lease_answer(r)),
            "HTTP 500: InternalError: etcd\\x0aleader changed");
  r.status = 200;
  r.body = "not json";
  EXPECT_EQ(testing::kind_of(interpret_lease_answer(r)), "failed");
  r.status = 401;
  r.body = "Unauthorized";
  EXPECT_EQ(testing::message_of(interpret_lease_answer(r)), "HTTP 401: Unauthorized");
}

// ---------------------------------------------------------------------------------------------
// Settings from the pod.

const char* no_env(const char*) {
  return nullptr;
}
const char* pod_env(const char* name) {
  const std::string n = name;
  if (n == "POD_NAME") return "app-7d9f-x2k4q";
  if (n == "KUBERNETES_SERVICE_HOST") return "10.96.0.1";
  if (n == "KUBERNETES_SERVICE_PORT") return "443";
  return nullptr;
}

class LeaseSettingsTest : public testing::TempDirTest {};

TEST_F(LeaseSettingsTest, FillsEmptyValuesFromThePod) {
  Config c;
  c.path = "/etc/origin-reconciler/config.yaml";
  const auto ns_file = write("namespace", "apps\n");
  const LeaseSettings s = resolve_lease_settings(c, &pod_env, "host-1", ns_file);
  EXPECT_EQ(s.endpoint.ns, "apps");
  EXPECT_EQ(s.elector.identity, "app-7d9f-x2k4q");
  EXPECT_EQ(s.endpoint.api_server, "https://10.96.0.1:443");
  EXPECT_EQ(s.endpoint.name, "origin-reconciler");
  EXPECT_EQ(s.endpoint.token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
  EXPECT_EQ(s.ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  EXPECT_EQ(s.elector.lease_duration, Millis{15000});
}

TEST_F(LeaseSettingsTest, TheHostNameWhenThereIsNoPodName) {
  Config c;
  c.leader_election.ns = "apps";
  c.leader_election.api_server = "https://127.0.0.1:6443";
  EXPECT_EQ(resolve_lease_settings(c, &no_env, "host-1").elector.identity, "host-1");
}

TEST_F(LeaseSettingsTest, WhatCannotBeFoundOrIsInvalidIsAnError) {
  Config c;
  c.path = "/etc/origin-reconciler/config.yaml";
  const auto message = [&](const std::filesystem::path& ns_file, const char* host,
                           GetEnv env = &pod_env) {
    try {
      resolve_lease_settings(c, env, host, ns_file);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_THAT(message(dir_ / "none", "h"),
              HasSubstr("config.yaml: leader_election.namespace: not set, and the pod's "
                        "namespace cannot be read from"));
  EXPECT_THAT(message(write("ns", "Apps_1"), "h"), HasSubstr("(got 'Apps_1')"));
  c.leader_election.ns = "apps";
  EXPECT_THAT(message({}, "bad host", &no_env),
              HasSubstr("leader_election.identity: not set, and the host name"));
  c.leader_election.identity = "me";
  EXPECT_THAT(message({}, "h", &no_env),
              HasSubstr("leader_election.api_server: not set, and $KUBERNETES_SERVICE_HOST"));
}

}  // namespace
}  // namespace orc
