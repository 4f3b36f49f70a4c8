// The stand-in end to end without sockets: HttpCall in, HttpAnswer out, with a fake clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <sstream>

#include "fakes.h"
#include "seed.h"
#include "service.h"

namespace standin {
namespace {

using nlohmann::json;

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kToken = "s3cret-token";

class StandinService : public ::testing::Test {
 protected:
  explicit StandinService(std::optional<int> rate_limit = std::nullopt, Quirks quirks = {})
      : service_(seed(), FaultPlan{}, {{kToken, "a@example.com", "k3y"}, rate_limit, quirks},
                 clock_, sleeper_, log_) {}

  Store seed() {
    return *parse_seed(json::parse(R"({"zones": {"023e105f4ecef8ad9ca31a8372d0c353": [
        {"ip": "192.0.2.1", "vendor": "aws", "region": "us-east-1"},
        {"ip": "2001:DB8::1", "vendor": "gcp", "region": "us-central1"}]}})"),
                       clock_.wall())
                .value;
  }

  HttpAnswer call(const std::string& method, const std::string& target,
                  const std::string& body = "", std::string auth = "") {
    if (auth.empty()) auth = std::string("Bearer ") + kToken;
    return service_.handle({method, target, {auth, "", ""}, body});
  }

  static std::string v1(const std::string& rest = "") {
    return std::string("/zones/") + kZone + "/cache/origin_cloud_regions" + rest;
  }
  static std::string v2(const std::string& rest = "") {
    return std::string("/client/v4/zones/") + kZone + "/origin/cloud_regions" + rest;
  }
  static json body_of(const HttpAnswer& a) { return json::parse(a.body); }
  static int error_code(const HttpAnswer& a) { return body_of(a)["errors"][0]["code"]; }

  json log_entries() { return json::parse(call("GET", "/__admin/requests").body); }
  void set_faults(const char* rules) {
    ASSERT_EQ(call("PUT", "/__admin/faults", rules).status, 200);
  }

  orc::testing::FakeClock clock_;
  orc::testing::FakeSleeper sleeper_{clock_};
  std::ostringstream log_file_;
  RequestLog log_{&log_file_};
  StandIn service_;
};

TEST_F(StandinService, ListsBothGenerations) {
  const auto gen1 = body_of(call("GET", v1()));
  EXPECT_EQ(gen1["result"]["id"], "origin_public_cloud_region");
  EXPECT_EQ(gen1["result"]["value"][1]["origin-ip"], "2001:db8::1");

  const auto gen2 = body_of(call("GET", v2("?per_page=1&page=2")));
  EXPECT_EQ(gen2["result"].size(), 1u);
  EXPECT_EQ(gen2["result"][0]["origin_ip"], "2001:db8::1");
  EXPECT_EQ(gen2["result_info"],
            json::parse(R"({"page": 2, "per_page": 1, "count": 1, "total_count": 2,
                            "total_pages": 2})"));
}

// The schema: an empty zone lists as 200 with "value": [] and "modified_on": null.
TEST_F(StandinService, EmptiedZoneListsAsAnEmptyValueInGenerationOne) {
  const auto deleted = call("DELETE", v1("/batch"), R"(["192.0.2.1", "2001:DB8:0:0::1"])");
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(body_of(deleted)["result"]["value"]["succeeded"].size(), 2u);

  const auto list = call("GET", v1());
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(body_of(list)["result"], json::parse(R"({"id": "origin_public_cloud_region",
      "editable": true, "modified_on": null, "value": []})"));
  const auto gen2 = call("GET", v2());
  EXPECT_EQ(gen2.status, 200);
  EXPECT_EQ(body_of(gen2)["result"], json::array());
  EXPECT_EQ(body_of(gen2)["result_info"]["total_pages"], 0);
  // Get and delete of a zone without mappings: "the zone setting does not exist".
  EXPECT_EQ(call("GET", v1("/192.0.2.1")).status, 404);
  EXPECT_EQ(error_code(call("GET", v1("/192.0.2.1"))), 1142);
  EXPECT_EQ(error_code(call("DELETE", v1("/192.0.2.1"))), 1142);
}

class StandinSeedDocumentQuirk : public StandinService {
 protected:
  StandinSeedDocumentQuirk() : StandinService(std::nullopt, Quirks{true}) {}
};

TEST_F(StandinSeedDocumentQuirk, EmptiedZoneAnswers1142InGenerationOne) {
  EXPECT_EQ(call("GET", v1()).status, 200);  // only an empty zone answers differently
  ASSERT_EQ(call("DELETE", v1("/batch"), R"(["192.0.2.1", "2001:db8::1"])").status, 200);
  const auto list = call("GET", v1());
  EXPECT_EQ(list.status, 404);
  EXPECT_EQ(error_code(list), 1142);
  EXPECT_EQ(body_of(list)["result"], nullptr);
  EXPECT_EQ(call("GET", v2()).status, 200);  // generation 2 is not affected
}

// "No mapping for that IP", answer by answer (the schema's examples use 1142; generation 1's
// delete description names 1163).
TEST_F(StandinService, AbsentIpsAnswer404WithTheSchemasCodes) {
  struct Case {
    const char* method;
    std::string target;
    int code;
  };
  const std::vector<Case> cases = {{"GET", v1("/192.0.2.99"), 1142},
                                   {"DELETE", v1("/192.0.2.99"), 1163},
                                   {"GET", v2("/192.0.2.99"), 1142},
                                   {"DELETE", v2("/192.0.2.99"), 1142},
                                   {"GET", v2("/2001:DB8:0:0::99"), 1142}};
  for (const auto& c : cases) {
    const auto a = call(c.method, c.target);
    EXPECT_EQ(a.status, 404) << c.method << " " << c.target;
    EXPECT_EQ(error_code(a), c.code) << c.method << " " << c.target;
    EXPECT_EQ(body_of(a)["success"], false);
    EXPECT_EQ(body_of(a)["result"], nullptr);
  }
}

TEST_F(StandinService, GetAndDeleteOneAnswerTheSchemasShapes) {
  const auto v1_get = body_of(call("GET", v1("/2001:DB8:0:0::1")))["result"];
  EXPECT_EQ(v1_get["id"], "origin_public_cloud_region");
  EXPECT_EQ(v1_get["value"]["origin-ip"], "2001:db8::1");
  EXPECT_EQ(v1_get["value"]["vendor"], "gcp");
  const auto v2_get = body_of(call("GET", v2("/2001:db8::1")))["result"];
  EXPECT_EQ(v2_get["origin_ip"], "2001:db8::1");
  EXPECT_EQ(v2_get["region"], "us-central1");
  EXPECT_TRUE(v2_get.contains("modified_on"));

  const auto v2_delete = call("DELETE", v2("/2001:0db8::1"));
  EXPECT_EQ(v2_delete.status, 200);
  EXPECT_EQ(body_of(v2_delete)["result"], json::parse(R"({"origin_ip": "2001:db8::1"})"));
  const auto v1_delete = body_of(call("DELETE", v1("/192.0.2.1")))["result"];
  EXPECT_EQ(v1_delete["value"]["origin-ip"], "192.0.2.1");
  EXPECT_EQ(v1_delete["value"]["region"], "us-east-1");
}

TEST_F(StandinService, SupportedRegionsAreFlatInBothGenerations) {
  for (const auto& target : {v1("/supported_regions"), v2("/supported_regions")}) {
    const auto a = call("GET", target);
    ASSERT_EQ(a.status, 200) << target;
    const auto result = body_of(a)["result"];
    EXPECT_EQ(result.size(), 2u) << result;  // exactly obtained_codes and vendors
    EXPECT_EQ(result["obtained_codes"], true);
    EXPECT_EQ(result["vendors"]["aws"][0]["name"], "us-east-1");
    EXPECT_TRUE(result["vendors"]["oci"][0]["upper_tier_colos"].is_array());
  }
}

TEST_F(StandinService, GenerationOneCreateRefusesAnExistingIp) {
  const auto created =
      call("POST", v1(), R"({"ip": "2001:DB8::2", "vendor": "azure", "region": "westeurope"})");
  ASSERT_EQ(created.status, 200) << created.body;
  const auto result = body_of(created)["result"];
  EXPECT_EQ(result["id"], "origin_public_cloud_region");
  EXPECT_EQ(result["value"]["origin-ip"], "2001:db8::2");
  EXPECT_EQ(result["value"]["vendor"], "azure");

  const auto again =
      call("POST", v1(), R"({"ip": "2001:db8:0::2", "vendor": "aws", "region": "us-east-1"})");
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(error_code(again), 1145);
  EXPECT_EQ(body_of(call("GET", v2("/2001:db8::2")))["result"]["vendor"], "azure");  // unchanged
}

TEST_F(StandinService, SingleWritesRefuseWithTheSchemasCodes) {
  struct Case {
    const char* method;
    std::string target;
    const char* body;
    int status;
    int code;
  };
  const std::vector<Case> cases = {
      {"POST", v1(), R"({"ip": "192.0.2.5", "vendor": "ibm", "region": "us-east-1"})", 400, 1157},
      {"POST", v1(), R"({"ip": "192.0.2.5", "vendor": "aws", "region": "mars-1"})", 400, 1157},
      {"POST", v1(), R"({"ip": "192.0.2.500", "vendor": "aws", "region": "us-east-1"})", 400, 1146},
      {"PATCH", v1(), R"({"ip": "192.0.2.5", "vendor": "gcp", "region": "us-east-1"})", 400, 1157},
      {"PUT", v2("/192.0.2.5"), R"({"origin_ip": "192.0.2.6", "vendor": "aws",
                                   "region": "us-east-1"})",
       400, 1146},
      {"PUT", v2("/192.0.2.5"), R"({"origin_ip": "192.0.2.5", "vendor": "oci",
                                   "region": "eastus"})",
       400, 1157},
      {"PUT", v2("/192.0.2.5"), R"({"vendor": "aws"})", 400, 1004},
      // origin_ip is required in the body of a generation-2 single upsert (the schema).
      {"PUT", v2("/192.0.2.5"), R"({"vendor": "aws", "region": "us-east-1"})", 400, 1146},
  };
  for (const auto& c : cases) {
    const auto a = call(c.method, c.target, c.body);
    EXPECT_EQ(a.status, c.status) << c.method << " " << c.body;
    EXPECT_EQ(error_code(a), c.code) << c.method << " " << c.body << ": " << a.body;
  }
  EXPECT_EQ(body_of(call("GET", v2()))["result"].size(), 2u);  // nothing was written
}

TEST_F(StandinService, SingleUpsertsAnswerTheSchemasShapes) {
  const auto v2_put = call("PUT", v2("/2001:DB8::1"),
                           R"({"origin_ip": "2001:db8:0::1", "vendor": "oci",
                               "region": "us-ashburn-1"})");
  ASSERT_EQ(v2_put.status, 200) << v2_put.body;
  EXPECT_EQ(body_of(v2_put)["result"]["origin_ip"], "2001:db8::1");
  EXPECT_EQ(body_of(v2_put)["result"]["vendor"], "oci");

  const auto v1_patch =
      call("PATCH", v1(), R"({"ip": "192.0.2.3", "vendor": "gcp", "region": "us-east1"})");
  ASSERT_EQ(v1_patch.status, 200) << v1_patch.body;
  const auto all = body_of(v1_patch)["result"]["value"];  // every mapping of the zone
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1]["origin-ip"], "192.0.2.3");
  EXPECT_EQ(all[2]["vendor"], "oci");
}

TEST_F(StandinService, ZoneLimitIs403OnSingleWritesAnd400OnBatches) {
  ASSERT_EQ(call("PUT", "/__admin/state", R"({"zones": {"023e105f4ecef8ad9ca31a8372d0c353":
      {"generate": {"count": 3500, "start": "10.0.0.1", "vendor": "aws",
                    "region": "us-east-1"}}}})")
                .status,
            200);
  struct Case {
    const char* method;
    std::string target;
    const char* body;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", v1(), R"({"ip": "192.0.2.5", "vendor": "aws", "region": "us-east-1"})", 403},
      {"PATCH", v1(), R"({"ip": "192.0.2.5", "vendor": "aws", "region": "us-east-1"})", 403},
      {"PUT", v2("/192.0.2.5"), R"({"origin_ip": "192.0.2.5", "vendor": "aws",
                                   "region": "us-east-1"})",
       403},
      {"PATCH", v1("/batch"), R"([{"ip": "192.0.2.5", "vendor": "aws", "region": "us-east-1"}])",
       400},
      {"PUT", v2("/batch"),
       R"([{"origin_ip": "192.0.2.5", "vendor": "aws", "region": "us-east-1"}])", 400},
  };
  for (const auto& c : cases) {
    const auto a = call(c.method, c.target, c.body);
    EXPECT_EQ(a.status, c.status) << c.method << " " << c.target;
    EXPECT_EQ(error_code(a), 1164) << c.method << " " << c.target;
  }
  // An existing IP can still be changed.
  EXPECT_EQ(call("PUT", v2("/10.0.0.1"),
                 R"({"origin_ip": "10.0.0.1", "vendor": "gcp", "region": "us-central1"})")
                .status,
            200);
}

TEST_F(StandinService, BatchUpsertJudgesRegionsItemByItem) {
  const auto a = call("PUT", v2("/batch"),
                      R"([{"origin_ip": "192.0.2.7", "vendor": "aws", "region": "eu-west-1"},
                          {"origin_ip": "192.0.2.8", "vendor": "aws", "region": "nowhere-1"}])");
  ASSERT_EQ(a.status, 200) << a.body;
  const auto result = body_of(a)["result"];
  ASSERT_EQ(result["succeeded"].size(), 1u);
  EXPECT_EQ(result["succeeded"][0], json::parse(R"({"origin_ip": "192.0.2.7", "vendor": "aws",
                                                     "region": "eu-west-1"})"));
  ASSERT_EQ(result["failed"].size(), 1u);
  EXPECT_EQ(result["failed"][0]["origin_ip"], "192.0.2.8");
  EXPECT_NE(result["failed"][0]["error"].get<std::string>().find("nowhere-1"), std::string::npos);
}

TEST_F(StandinService, RefusesBadRequestsWithCloudflareCodes) {
  EXPECT_EQ(call("GET", v1(), "", "Bearer wrong").status, 403);
  EXPECT_EQ(error_code(call("GET", v1(), "", "Bearer wrong")), 10000);
  EXPECT_EQ(error_code(call("GET", "/zones/XYZ/cache/origin_cloud_regions")), 7003);
  EXPECT_EQ(error_code(call("GET", "/zones/" + std::string(kZone) + "/dns_records")), 7000);
  EXPECT_EQ(call("POST", v2()).status, 405);
  EXPECT_EQ(error_code(call("POST", v2())), 10405);
  EXPECT_EQ(error_code(call("GET", v2("/not-an-ip"))), 1146);
  EXPECT_EQ(error_code(call("DELETE", v1("/192.0.2.99"))), 1163);
  const auto too_many =
      call("DELETE", v1("/batch"), json(std::vector<std::string>(101, "192.0.2.1")).dump());
  EXPECT_EQ(too_many.status, 400);
  EXPECT_EQ(error_code(too_many), 1004);
  EXPECT_EQ(call("GET", v1()).status, 200);  // nothing changed
  EXPECT_EQ(body_of(call("GET", v1()))["result"]["value"].size(), 2u);
}

TEST_F(StandinService, AcceptsTheGlobalKeyPair) {
  const auto a = service_.handle({"GET", v1(), {"", "a@example.com", "k3y"}, ""});
  EXPECT_EQ(a.status, 200);
  const auto b = service_.handle({"GET", v1(), {"", "a@example.com", "wrong"}, ""});
  EXPECT_EQ(b.status, 403);
  EXPECT_EQ(log_entries()[0]["auth"], "global_key");
}

TEST_F(StandinService, StatusFaultChangesNothing) {
  set_faults(R"({"rules": [{"operation": "batch_delete", "status": 429, "retry_after": 2}]})");
  const auto refused = call("DELETE", v1("/batch"), R"(["192.0.2.1"])");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(error_code(refused), 971);
  EXPECT_NE(std::find(refused.headers.begin(), refused.headers.end(),
                      std::pair<std::string, std::string>("Retry-After", "2")),
            refused.headers.end());
  EXPECT_EQ(body_of(call("GET", v1()))["result"]["value"].size(), 2u);
  EXPECT_EQ(call("DELETE", v1("/batch"), R"(["192.0.2.1"])").status, 200);  // spent
}

TEST_F(StandinService, TruncateRunsTheHandler) {
  set_faults(R"({"rules": [{"operation": "delete", "truncate": true}]})");
  const auto cut = call("DELETE", v2("/192.0.2.1"));
  EXPECT_EQ(cut.status, 200);
  EXPECT_TRUE(json::parse(cut.body, nullptr, false).is_discarded());
  EXPECT_EQ(body_of(call("GET", v2()))["result"].size(), 1u);
}

TEST_F(StandinService, LatencyIsWaitedOutBeforeTheOperation) {
  set_faults(R"({"rules": [{"operation": "delete", "latency_ms": 2000}]})");
  const auto deleted = call("DELETE", v1("/192.0.2.1"));
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(sleeper_.sleeps(), std::vector<orc::Millis>{orc::Millis(2000)});
  // The operation ran after the wait (the fake clock starts at 2023-11-14T22:13:20Z); the log
  // entry keeps the arrival.
  EXPECT_EQ(body_of(deleted)["result"]["modified_on"], "2023-11-14T22:13:22Z");
  EXPECT_EQ(log_entries()[0]["mono_ms"], 0);
  EXPECT_EQ(call("DELETE", v1("/192.0.2.1")).status, 404);  // spent: no second wait
  EXPECT_EQ(sleeper_.sleeps().size(), 1u);
}

// Waits nothing: runs `during` where a latency fault holds the request, so a test sees what
// another client of the stand-in sees meanwhile.
class LookingSleeper final : public orc::Sleeper {
 public:
  std::function<void()> during;
  bool sleep_for(orc::Millis, std::stop_token stop) override {
    if (during) during();
    return !stop.stop_requested();
  }
};

TEST_F(StandinService, LogsTheArrivalOfAHeldRequestBeforeItsAnswer) {
  LookingSleeper sleeper;
  std::ostringstream file;
  RequestLog log(&file);
  ServiceOptions options;
  options.credentials.token = kToken;
  StandIn held(seed(), FaultPlan{}, options, clock_, sleeper, log);
  auto admin = [&](const std::string& target) {
    const auto answer = held.handle({"GET", target, {}, ""});
    EXPECT_EQ(answer.status, 200) << answer.body;
    return json::parse(answer.body);
  };
  ASSERT_EQ(held.handle({"PUT",
                         "/__admin/faults",
                         {},
                         R"({"rules": [{"operation": "batch_delete", "latency_ms": 1500}]})"})
                .status,
            200);
  json received_meanwhile, answered_meanwhile;
  sleeper.during = [&] {
    received_meanwhile = admin("/__admin/requests?event=received");
    answered_meanwhile = admin("/__admin/requests");
  };
  clock_.advance(std::chrono::milliseconds(700));
  const auto deleted = held.handle(
      {"DELETE", v1("/batch"), {std::string("Bearer ") + kToken, "", ""}, R"(["192.0.2.1"])"});
  ASSERT_EQ(deleted.status, 200);

  // While held: the arrival only, with what is known before the operation runs.
  EXPECT_EQ(answered_meanwhile, json::array());
  ASSERT_EQ(received_meanwhile.size(), 1u);
  const auto& r = received_meanwhile[0];
  EXPECT_EQ(r["event"], "received");
  EXPECT_EQ(r["mono_ms"], 700);
  EXPECT_EQ(r["method"], "DELETE");
  EXPECT_EQ(r["operation"], "batch_delete");
  EXPECT_EQ(r["zone"], kZone);
  EXPECT_EQ(r["fault"], "latency");
  EXPECT_EQ(r["ips"], json::array({"192.0.2.1"}));
  EXPECT_EQ(r["auth"], "token");
  EXPECT_FALSE(r.contains("status"));
  EXPECT_FALSE(r.contains("succeeded"));

  // Answered: the entry as before (no "event"), the arrival still listed apart, and only the
  // answered entry in the file.
  const json answered = admin("/__admin/requests");
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_FALSE(answered[0].contains("event"));
  EXPECT_EQ(answered[0]["seq"], 1);
  EXPECT_EQ(answered[0]["status"], 200);
  EXPECT_EQ(answered[0]["succeeded"], 1);
  EXPECT_EQ(admin("/__admin/requests?event=answered"), answered);
  EXPECT_EQ(admin("/__admin/requests?event=received").size(), 1u);
  const std::string lines = file.str();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 1);
  EXPECT_EQ(lines.find("received"), std::string::npos);

  EXPECT_EQ(held.handle({"GET", "/__admin/requests?event=sent", {}, ""}).status, 400);
  EXPECT_EQ(held.handle({"DELETE", "/__admin/requests", {}, ""}).status, 200);
  EXPECT_EQ(admin("/__admin/requests?event=received"), json::array());
}

TEST_F(StandinService, SuccessFalseAndRawBody) {
  set_faults(R"({"rules": [{"operation": "list", "success_false": true},
                           {"operation": "list", "body": "not json", "status": 502}]})");
  const auto a = call("GET", v1());
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(body_of(a)["success"], false);
  EXPECT_EQ(error_code(a), 1141);
  const auto b = call("GET", v1());
  EXPECT_EQ(b.status, 502);
  EXPECT_EQ(b.body, "not json");
}

TEST_F(StandinService, InjectedFailuresCarryTheSchemasCodes) {
  set_faults(R"({"rules": [{"operation": "batch_upsert", "status": 500},
                           {"operation": "batch_upsert", "status": 502, "code": 1156},
                           {"operation": "batch_delete", "status": 503},
                           {"operation": "batch_upsert", "success_false": true},
                           {"operation": "list", "status": 500}]})");
  const std::string item = R"([{"ip": "192.0.2.9", "vendor": "aws", "region": "us-east-1"}])";
  const auto upsert = call("PATCH", v1("/batch"), item);
  EXPECT_EQ(upsert.status, 500);
  EXPECT_EQ(error_code(upsert), 1140);
  EXPECT_EQ(body_of(upsert)["errors"][0]["message"],
            "Unable to update origin_public_cloud_region setting value. Internal error.");
  const auto region = call("PATCH", v1("/batch"), item);
  EXPECT_EQ(error_code(region), 1156);
  EXPECT_EQ(body_of(region)["errors"][0]["message"],
            "Failed to validate region against cloud vendor");
  EXPECT_EQ(error_code(call("DELETE", v1("/batch"), R"(["192.0.2.1"])")), 1141);
  const auto soft = call("PATCH", v1("/batch"), item);
  EXPECT_EQ(soft.status, 200);
  EXPECT_EQ(body_of(soft)["success"], false);
  EXPECT_EQ(error_code(soft), 1140);
  EXPECT_EQ(error_code(call("GET", v1())), 1141);
}

TEST_F(StandinService, LogsEachApiRequestWithoutSecrets) {
  set_faults(R"({"rules": [{"operation": "batch_delete",
                            "fail_ips": {"192.0.2.1": "internal error"}}]})");
  clock_.advance(std::chrono::milliseconds(1500));
  call("DELETE", v1("/batch?x=1"), R"(["192.0.2.1", "2001:db8::1", "192.0.2.7"])");
  call("GET", v1(), "", "Bearer nope");

  const auto entries = log_entries();
  ASSERT_EQ(entries.size(), 2u);
  const auto& e = entries[0];
  EXPECT_EQ(e["seq"], 1);
  EXPECT_EQ(e["mono_ms"], 1500);
  EXPECT_EQ(e["method"], "DELETE");
  EXPECT_EQ(e["path"], v1("/batch"));
  EXPECT_EQ(e["query"], "x=1");
  EXPECT_EQ(e["flavor"], "cache-v1");
  EXPECT_EQ(e["operation"], "batch_delete");
  EXPECT_EQ(e["zone"], kZone);
  EXPECT_EQ(e["status"], 200);
  EXPECT_EQ(e["fault"], "fail_ips");
  EXPECT_EQ(e["ips"], json::parse(R"(["192.0.2.1", "2001:db8::1", "192.0.2.7"])"));
  EXPECT_EQ(e["succeeded"], 1);
  EXPECT_EQ(e["failed"], 2);
  EXPECT_EQ(e["auth"], "token");
  EXPECT_EQ(entries[1]["status"], 403);
  EXPECT_EQ(entries[1]["fault"], nullptr);

  const std::string file = log_file_.str();
  EXPECT_EQ(file.find(kToken), std::string::npos);
  EXPECT_EQ(std::count(file.begin(), file.end(), '\n'), 2);
  EXPECT_EQ(call("DELETE", "/__admin/requests").status, 200);
  EXPECT_TRUE(log_entries().empty());
}

TEST_F(StandinService, AdminStateReplacesTheStore) {
  EXPECT_EQ(call("PUT", "/__admin/state", R"({"zones": {"x": []}})").status, 400);
  EXPECT_EQ(call("PUT", "/__admin/state", R"({"zones": {}})").status, 200);
  EXPECT_EQ(body_of(call("GET", "/__admin/state")), json::parse(R"({"zones": {}})"));
  EXPECT_EQ(call("GET", "/__admin/healthz").body, "ok\n");
}

TEST_F(StandinService, SendsRateLimitHeaders) {
  const auto a = call("GET", v1());
  EXPECT_NE(std::find(a.headers.begin(), a.headers.end(),
                      std::pair<std::string, std::string>("Ratelimit", "\"default\";r=1199;t=300")),
            a.headers.end());
  EXPECT_NE(std::find(a.headers.begin(), a.headers.end(),
                      std::pair<std::string, std::string>("Ratelimit-Policy",
                                                          "\"default\";q=1200;w=300")),
            a.headers.end());
}

class StandinRateLimited : public StandinService {
 protected:
  StandinRateLimited() : StandinService(2) {}
};

std::string header(const HttpAnswer& a, const std::string& name) {
  for (const auto& [k, v] : a.headers) {
    if (k == name) return v;
  }
  return "(none)";
}

// As at Cloudflare: past the quota, every request is refused for one whole window.
TEST_F(StandinRateLimited, PastTheQuotaLocksOutForAWholeWindow) {
  EXPECT_EQ(call("GET", v1()).status, 200);
  clock_.advance(std::chrono::seconds(100));
  const auto last = call("GET", v1());
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(header(last, "Ratelimit"), "\"default\";r=0;t=200");
  EXPECT_EQ(header(last, "Ratelimit-Policy"), "\"default\";q=2;w=300");
  const auto refused = call("GET", v1());
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(body_of(refused)["errors"][0]["code"], 971);
  EXPECT_EQ(header(refused, "Retry-After"), "300");
  EXPECT_EQ(header(refused, "Ratelimit"), "\"default\";r=0;t=300");
  // The first request leaves the window at 300 s, but the lockout lasts until 400 s.
  clock_.advance(std::chrono::seconds(200));
  const auto still = call("GET", v1());
  EXPECT_EQ(still.status, 429);
  EXPECT_EQ(header(still, "Retry-After"), "100");
  clock_.advance(std::chrono::seconds(100));
  const auto again = call("GET", v1());
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(header(again, "Ratelimit"), "\"default\";r=1;t=300");
}

TEST(StandinRateWindow, APolicyOfAnotherNameOrTheDocumentedOne) {
  const orc::MonoTime t{std::chrono::hours(1)};
  SlidingWindow named(1200, std::chrono::seconds(300), false, {"burst", false});
  EXPECT_EQ(named.policy_header(), "\"burst\";q=1200;w=300");
  EXPECT_EQ(named.ratelimit_header(named.admit(t)), "\"default\";r=1199;t=300");
  // Cloudflare's limits page, verbatim, whatever the window really is.
  SlidingWindow documented(1200, std::chrono::seconds(300), true, {"default", true});
  EXPECT_EQ(documented.policy_header(), "\"burst\";q=100;w=60");
}

TEST(StandinRateWindow, AScaledDownWindow) {
  const orc::MonoTime t{std::chrono::hours(1)};
  SlidingWindow w(3, std::chrono::seconds(6), true);
  EXPECT_EQ(w.policy_header(), "\"default\";q=3;w=6");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(w.admit(t + std::chrono::seconds(i)).allowed);
  EXPECT_EQ(w.ratelimit_header(w.peek(t + std::chrono::seconds(2))), "\"default\";r=0;t=4");
  EXPECT_FALSE(w.admit(t + std::chrono::seconds(3)).allowed);  // locked out until 9 s
  EXPECT_FALSE(w.admit(t + std::chrono::seconds(8)).allowed);
  EXPECT_TRUE(w.admit(t + std::chrono::seconds(9)).allowed);
  // Without enforcement it only counts.
  SlidingWindow counting(1, std::chrono::seconds(6), false);
  EXPECT_TRUE(counting.admit(t).allowed);
  EXPECT_TRUE(counting.admit(t).allowed);
}

}  // namespace
}  // namespace standin

namespace standin {
namespace {

TEST(StandinZoneList, ExactNamePagedAndTheDeniedAnswer) {
  const ZoneNames zones = {{"0000000000000000000000000000000a", "example.com"},
                           {"0000000000000000000000000000000b", "example.com"},
                           {"0000000000000000000000000000000c", "example.community"}};
  const OpResult both = list_zones(zones, {{"name", "example.com"}}, false);
  ASSERT_EQ(both.status, 200);
  EXPECT_EQ(both.envelope["result"], nlohmann::json::parse(R"([
              {"id": "0000000000000000000000000000000a", "name": "example.com", "status": "active"},
              {"id": "0000000000000000000000000000000b", "name": "example.com", "status": "active"}
            ])"));
  EXPECT_EQ(both.envelope["result_info"]["total_count"], 2);
  // Paged like Cloudflare's list: 5 to 50 a page.
  const ZoneNames many = [] {
    ZoneNames z;
    for (int i = 0; i < 7; ++i) z.emplace(std::string(31, '0') + std::to_string(i), "x.example");
    return z;
  }();
  const OpResult second = list_zones(many, {{"page", "2"}, {"per_page", "5"}}, false);
  EXPECT_EQ(second.envelope["result"].size(), 2u);
  EXPECT_EQ(second.envelope["result_info"]["total_pages"], 2);
  EXPECT_EQ(list_zones(many, {{"per_page", "4"}}, false).status, 400);
  const OpResult denied = list_zones(zones, {{"name", "example.com"}}, true);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.envelope["errors"][0]["code"], 9109);
}

TEST(StandinZoneList, RoutedAndLoggedAsItsOwnOperation) {
  const Route r = match_route("GET", "/client/v4/zones");
  EXPECT_EQ(r.status, RouteStatus::kMatched);
  EXPECT_EQ(r.operation, Operation::kZones);
  EXPECT_EQ(match_route("POST", "/client/v4/zones").status, RouteStatus::kWrongMethod);
  EXPECT_EQ(to_string(Operation::kZones), "zones");
}

}  // namespace
}  // namespace standin
