// The stand-in's pure parts: batch semantics, seeds, paging arithmetic, routing and names.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "auth.h"
#include "batch.h"
#include "faults.h"
#include "options.h"
#include "paging.h"
#include "routes.h"
#include "seed.h"
#include "types.h"

namespace standin {
namespace {

const orc::WallTime kNow{std::chrono::seconds(1'700'000'000)};
constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";

std::string ip_array(int n) {
  nlohmann::json arr = nlohmann::json::array();
  for (int i = 0; i < n; ++i)
    arr.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  return arr.dump();
}

Zone zone_of(std::initializer_list<const char*> ips) {
  Zone zone;
  for (const char* ip : ips) {
    auto addr = *orc::parse_ip(ip);
    zone.mappings[addr] = {orc::to_string(addr), "aws", "us-east-1", kNow};
  }
  return zone;
}

TEST(StandinParseIpList, AcceptsExactlyOneHundred) {
  auto ips = parse_ip_list(ip_array(100));
  ASSERT_TRUE(ips) << ips.error;
  EXPECT_EQ(ips.value->size(), 100u);
}

TEST(StandinParseIpList, RejectsWholeBodies) {
  EXPECT_FALSE(parse_ip_list(ip_array(101)));
  EXPECT_FALSE(parse_ip_list("[]"));
  EXPECT_FALSE(parse_ip_list("{}"));
  EXPECT_FALSE(parse_ip_list("[\"192.0.2.1\", 7]"));
  EXPECT_FALSE(parse_ip_list("not json"));
  EXPECT_NE(parse_ip_list(ip_array(101)).error.find("101"), std::string::npos);
}

TEST(StandinDeleteBatch, JudgesEachIpOnItsOwn) {
  Zone zone = zone_of({"192.0.2.1", "2001:db8::1", "192.0.2.3"});
  const auto out =
      delete_batch(zone, {"2001:DB8:0:0::1", "192.0.2.9", "nope", "192.0.2.1"}, {}, kNow);

  ASSERT_EQ(out.succeeded.size(), 2u);
  EXPECT_EQ(out.succeeded[0].ip, "2001:db8::1");  // canonical, as stored
  EXPECT_EQ(out.succeeded[0].vendor, "aws");
  EXPECT_EQ(out.succeeded[1].ip, "192.0.2.1");
  ASSERT_EQ(out.failed.size(), 2u);
  EXPECT_EQ(out.failed[0].ip, "192.0.2.9");
  EXPECT_EQ(out.failed[0].error, kNotFound);
  EXPECT_EQ(out.failed[1].ip, "nope");
  EXPECT_EQ(out.failed[1].error, kInvalidIp);
  EXPECT_EQ(zone.mappings.size(), 1u);
  EXPECT_EQ(zone.modified_on, kNow);
}

TEST(StandinDeleteBatch, ForcedFailuresStayInPlace) {
  Zone zone = zone_of({"192.0.2.1", "192.0.2.2"});
  const auto out =
      delete_batch(zone, {"192.0.2.1", "192.0.2.2"}, {{"192.0.2.2", "internal error"}}, kNow);
  ASSERT_EQ(out.failed.size(), 1u);
  EXPECT_EQ(out.failed[0].error, "internal error");
  EXPECT_EQ(zone.mappings.size(), 1u);
  EXPECT_EQ(zone.mappings.begin()->second.ip, "192.0.2.2");
}

TEST(StandinDeleteBatch, NothingDeletedLeavesModifiedOnAlone) {
  Zone zone = zone_of({"192.0.2.1"});
  delete_batch(zone, {"192.0.2.9"}, {}, kNow + std::chrono::hours(1));
  EXPECT_EQ(zone.modified_on, std::nullopt);
}

TEST(StandinUpsertBatch, ZoneLimitIsAllOrNothing) {
  Zone zone;
  for (std::size_t i = 0; i + 1 < kMaxMappingsPerZone; ++i) {
    orc::IpAddress addr = *orc::parse_ip("10.0.0.0");
    addr.bytes[2] = static_cast<std::uint8_t>(i / 256);
    addr.bytes[3] = static_cast<std::uint8_t>(i % 256);
    zone.mappings[addr] = {orc::to_string(addr), "aws", "r", kNow};
  }
  const std::vector<MappingInput> two_new = {{"192.0.2.1", "aws", "us-east-1"},
                                             {"192.0.2.2", "aws", "us-east-1"}};
  auto refused = upsert_batch(zone, two_new, kNow);
  ASSERT_TRUE(std::holds_alternative<ApiError>(refused));
  EXPECT_EQ(std::get<ApiError>(refused).code, 1164);
  EXPECT_EQ(zone.mappings.size(), kMaxMappingsPerZone - 1);

  // One new and one existing fit exactly; invalid items fail on their own.
  const std::vector<MappingInput> fits = {{"192.0.2.1", "gcp", "us-central1"},
                                          {"10.0.0.0", "oci", "us-ashburn-1"},
                                          {"bad", "aws", "r"}};
  auto ok = upsert_batch(zone, fits, kNow);
  ASSERT_TRUE(std::holds_alternative<BatchOutcome>(ok));
  EXPECT_EQ(std::get<BatchOutcome>(ok).succeeded.size(), 2u);
  EXPECT_EQ(std::get<BatchOutcome>(ok).failed.size(), 1u);
  EXPECT_EQ(zone.mappings.size(), kMaxMappingsPerZone);
}

TEST(StandinUpsertBatch, ItemsFailOnTheirOwn) {
  Zone zone;
  const std::vector<MappingInput> items = {{"192.0.2.1", "gcp", "us-central1"},
                                           {"192.0.2.2", "ibm", "us-central1"},
                                           {"192.0.2.3", "aws", "mars-north-1"},
                                           {"2001:DB8::4", "aws", "us-east-1"},
                                           {"192.0.2.5", "aws", "us-east-1"}};
  auto r = upsert_batch(zone, items, kNow, {{"2001:db8::4", "internal error"}});
  ASSERT_TRUE(std::holds_alternative<BatchOutcome>(r));
  const auto& out = std::get<BatchOutcome>(r);
  ASSERT_EQ(out.succeeded.size(), 2u);
  EXPECT_EQ(out.succeeded[0].ip, "192.0.2.1");
  EXPECT_EQ(out.succeeded[1].ip, "192.0.2.5");
  ASSERT_EQ(out.failed.size(), 3u);
  EXPECT_NE(out.failed[0].error.find("vendor"), std::string::npos) << out.failed[0].error;
  EXPECT_NE(out.failed[1].error.find("mars-north-1"), std::string::npos) << out.failed[1].error;
  EXPECT_EQ(out.failed[2].ip, "2001:db8::4");
  EXPECT_EQ(out.failed[2].error, "internal error");
  EXPECT_EQ(zone.mappings.size(), 2u) << "only the succeeded items are written";
  EXPECT_FALSE(zone.mappings.contains(*orc::parse_ip("2001:db8::4")));
}

TEST(StandinValidateWrite, WantsASupportedRegion) {
  EXPECT_TRUE(validate_write({"192.0.2.1", "aws", "us-east-1"}));
  EXPECT_TRUE(validate_write({"192.0.2.1", "oci", "uk-london-1"}));
  EXPECT_EQ(validate_write({"1.2.3", "aws", "us-east-1"}).error, kInvalidIp);
  EXPECT_NE(validate_write({"192.0.2.1", "aws", "eastus"}).error.find("eastus"), std::string::npos);
  EXPECT_NE(validate_write({"192.0.2.1", "ibm", "us-east-1"}).error.find("vendor"),
            std::string::npos);
  EXPECT_TRUE(validate_item({"192.0.2.1", "aws", "eastus"}));  // seeds are not held to it
}

TEST(StandinValidateItem, NamesTheProblem) {
  EXPECT_TRUE(validate_item({"2001:DB8::1", "azure", "eastus"}));
  EXPECT_EQ(validate_item({"1.2.3", "aws", "r"}).error, kInvalidIp);
  EXPECT_NE(validate_item({"1.2.3.4", "ibm", "r"}).error.find("vendor"), std::string::npos);
  EXPECT_NE(validate_item({"1.2.3.4", "aws", ""}).error.find("region"), std::string::npos);
}

TEST(StandinParseSeed, CanonicalizesAndGenerates) {
  const auto doc = nlohmann::json::parse(R"({"zones": {
    "023e105f4ecef8ad9ca31a8372d0c353": [{"ip": "2001:DB8::1", "vendor": "gcp", "region": "x"}],
    "11111111111111111111111111111111": {
      "generate": {"count": 3, "start": "10.0.0.254", "vendor": "aws", "region": "y"},
      "mappings": [{"ip": "192.0.2.1", "vendor": "oci", "region": "z"}]}}})");
  auto store = parse_seed(doc, kNow);
  ASSERT_TRUE(store) << store.error;
  EXPECT_EQ(state_json(*store.value), nlohmann::json::parse(R"({"zones": {
    "023e105f4ecef8ad9ca31a8372d0c353": [{"ip": "2001:db8::1", "vendor": "gcp", "region": "x"}],
    "11111111111111111111111111111111": [
      {"ip": "10.0.0.254", "vendor": "aws", "region": "y"},
      {"ip": "10.0.0.255", "vendor": "aws", "region": "y"},
      {"ip": "10.0.1.0", "vendor": "aws", "region": "y"},
      {"ip": "192.0.2.1", "vendor": "oci", "region": "z"}]}})"));
  // The dump reads back as the same store.
  EXPECT_EQ(state_json(*parse_seed(state_json(*store.value), kNow).value),
            state_json(*store.value));
}

TEST(StandinParseSeed, RejectsWithAReason) {
  struct Case {
    const char* doc;
    const char* reason;
  };
  const Case cases[] = {
      {R"({"zones": {"ABC": []}})", "not a zone id"},
      {R"({"zones": {"023E105F4ECEF8AD9CA31A8372D0C353": []}})", "not a zone id"},
      {R"({"zones": {"023e105f4ecef8ad9ca31a8372d0c353": [{"ip": "1.2.3", "vendor": "aws",
          "region": "r"}]}})",
       "invalid IP"},
      {R"({"zones": {"023e105f4ecef8ad9ca31a8372d0c353": [{"ip": "1.2.3.4", "vendor": "ibm",
          "region": "r"}]}})",
       "vendor"},
      {R"({"zones": {"023e105f4ecef8ad9ca31a8372d0c353": [
          {"ip": "2001:db8::1", "vendor": "aws", "region": "r"},
          {"ip": "2001:DB8:0::1", "vendor": "aws", "region": "r"}]}})",
       "duplicate"},
      {R"({"zones": {"023e105f4ecef8ad9ca31a8372d0c353": {"generate": {"count": 3500,
          "start": "10.0.0.1", "vendor": "aws", "region": "r"},
          "mappings": [{"ip": "1.1.1.1", "vendor": "aws", "region": "r"}]}}})",
       "more than 3500"},
      {R"({"zones": {"023e105f4ecef8ad9ca31a8372d0c353": {"generate": {"count": 2,
          "start": "255.255.255.255", "vendor": "aws", "region": "r"}}}})",
       "past the last address"},
      {R"({"zonez": {}})", "{\"zones\""},
  };
  for (const auto& c : cases) {
    auto store = parse_seed(nlohmann::json::parse(c.doc), kNow);
    EXPECT_FALSE(store) << c.doc;
    EXPECT_NE(store.error.find(c.reason), std::string::npos) << store.error;
  }
}

TEST(StandinParseSeed, AcceptsAFullZone) {
  auto store = parse_seed(nlohmann::json::parse(R"({"zones": {"023e105f4ecef8ad9ca31a8372d0c353":
      {"generate": {"count": 3500, "start": "2001:db8::", "vendor": "aws", "region": "r"}}}})"),
                          kNow);
  ASSERT_TRUE(store) << store.error;
  EXPECT_EQ(count_mappings(*store.value), 3500u);
}

struct PageCase {
  std::size_t total;
  int page;
  int per_page;
  std::size_t begin, end, total_pages;
};

// Readable test names: "3500_mappings_page_35_of_100".
void PrintTo(const PageCase& c, std::ostream* os) {
  *os << c.total << " mappings, page " << c.page << " of " << c.per_page;
}

class StandinPageBounds : public ::testing::TestWithParam<PageCase> {};

TEST_P(StandinPageBounds, Slices) {
  const auto& c = GetParam();
  const Page page = page_bounds(c.total, {c.page, c.per_page});
  EXPECT_EQ(page.begin, c.begin);
  EXPECT_EQ(page.end, c.end);
  EXPECT_EQ(page.total_pages, c.total_pages);
}

INSTANTIATE_TEST_SUITE_P(Table, StandinPageBounds,
                         ::testing::Values(PageCase{0, 1, 20, 0, 0, 0}, PageCase{1, 1, 20, 0, 1, 1},
                                           PageCase{100, 1, 100, 0, 100, 1},
                                           PageCase{101, 2, 100, 100, 101, 2},
                                           PageCase{3500, 35, 100, 3400, 3500, 35},
                                           PageCase{3500, 36, 100, 3500, 3500, 35},
                                           PageCase{5, 1000000, 100, 5, 5, 1}),
                         [](const ::testing::TestParamInfo<PageCase>& info) {
                           return std::to_string(info.param.total) + "_mappings_page_" +
                                  std::to_string(info.param.page) + "_per_" +
                                  std::to_string(info.param.per_page);
                         });

TEST(StandinParsePageRequest, DefaultsAndLimits) {
  auto defaults = parse_page_request({});
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults.value->page, 1);
  EXPECT_EQ(defaults.value->per_page, 20);
  EXPECT_TRUE(parse_page_request({{"page", "3"}, {"per_page", "100"}}));
  EXPECT_FALSE(parse_page_request({{"per_page", "101"}}));
  EXPECT_FALSE(parse_page_request({{"per_page", "0"}}));
  EXPECT_FALSE(parse_page_request({{"page", "0"}}));
  EXPECT_FALSE(parse_page_request({{"page", "1x"}}));
  EXPECT_FALSE(parse_page_request({{"page", ""}}));
}

TEST(StandinMatchRoute, NamesOperationsOfBothGenerations) {
  struct Case {
    const char* method;
    std::string path;
    RouteStatus status;
    std::optional<Operation> op;
  };
  const std::string v1 = std::string("/zones/") + kZone + "/cache/origin_cloud_regions";
  const std::string v2 = std::string("/client/v4/zones/") + kZone + "/origin/cloud_regions";
  const std::vector<Case> cases = {
      {"GET", v1, RouteStatus::kMatched, Operation::kList},
      {"PATCH", v1, RouteStatus::kMatched, Operation::kUpsert},
      {"POST", v1, RouteStatus::kMatched, Operation::kCreate},
      {"POST", v2, RouteStatus::kWrongMethod, std::nullopt},
      {"PUT", v1, RouteStatus::kWrongMethod, std::nullopt},
      {"DELETE", (v1 + "/batch"), RouteStatus::kMatched, Operation::kBatchDelete},
      {"PATCH", (v1 + "/batch"), RouteStatus::kMatched, Operation::kBatchUpsert},
      {"PUT", (v1 + "/batch"), RouteStatus::kWrongMethod, std::nullopt},
      {"HEAD", (v1 + "/192.0.2.1"), RouteStatus::kMatched, Operation::kGet},
      {"GET", v2, RouteStatus::kMatched, Operation::kList},
      {"PATCH", v2, RouteStatus::kWrongMethod, std::nullopt},
      {"PUT", (v2 + "/batch"), RouteStatus::kMatched, Operation::kBatchUpsert},
      {"PUT", (v2 + "/192.0.2.1"), RouteStatus::kMatched, Operation::kUpsert},
      {"DELETE", (v2 + "/192.0.2.1"), RouteStatus::kMatched, Operation::kDelete},
      {"GET", (v2 + "/supported_regions"), RouteStatus::kMatched, Operation::kSupportedRegions},
      {"GET", (v2 + "/a/b"), RouteStatus::kNoRoute, std::nullopt},
      {"GET", "/zones/x/dns_records", RouteStatus::kNoRoute, std::nullopt},
      {"GET", "/", RouteStatus::kNoRoute, std::nullopt},
  };
  for (const auto& c : cases) {
    const Route route = match_route(c.method, c.path);
    EXPECT_EQ(route.status, c.status) << c.method << " " << c.path;
    EXPECT_EQ(route.operation, c.op) << c.method << " " << c.path;
  }
}

TEST(StandinMatchRoute, DecodesThePathIpOnly) {
  const Route route = match_route(
      "GET", std::string("/zones/") + kZone + "/origin/cloud_regions/2001%3ADB8%3A%3A1");
  EXPECT_EQ(route.zone, kZone);
  EXPECT_EQ(route.flavor, ApiFlavor::kOriginV2);
  EXPECT_EQ(route.ip, "2001:DB8::1");  // canonicalized later, by the operation
}

// The names the request log and the fault rules use: one per operation, each read back.
TEST(StandinNames, EveryOperationHasANameThatReadsBack) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Operation::kCreate); ++i) {
    const auto op = static_cast<Operation>(i);
    const std::string_view name = to_string(op);
    EXPECT_NE(name, "unknown") << i;
    EXPECT_EQ(parse_operation(name), op) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(Operation::kCreate) + 1);
  EXPECT_EQ(to_string(Operation::kBatchDelete), "batch_delete");
  EXPECT_EQ(parse_operation("batch-delete"), std::nullopt);
  EXPECT_EQ(parse_operation(""), std::nullopt);
}

TEST(StandinNames, AuthSchemes) {
  EXPECT_EQ(to_string(AuthScheme::kNone), "none");
  EXPECT_EQ(to_string(AuthScheme::kToken), "token");
  EXPECT_EQ(to_string(AuthScheme::kGlobalKey), "global_key");
}

TEST(StandinOptions, EmptyZoneQuirkIsAFlagWithoutValue) {
  auto quirky = parse_options({"--v1-empty-zone-404", "--token", "t"}, nullptr);
  ASSERT_TRUE(quirky) << quirky.error;
  EXPECT_TRUE(quirky.value->v1_empty_zone_404);
  EXPECT_EQ(quirky.value->credentials.token, "t");
  auto plain = parse_options({"--token", "t"}, nullptr);
  ASSERT_TRUE(plain) << plain.error;
  EXPECT_FALSE(plain.value->v1_empty_zone_404);
}

TEST(StandinOptions, PathFlagsAreStoredAsGivenInEitherSpelling) {
  auto o = parse_options(
      {"--port-file", "p", "--seed=s.json", "--faults", "f.json", "--request-log=r.log"}, nullptr);
  ASSERT_TRUE(o) << o.error;
  EXPECT_EQ(o.value->port_file, std::filesystem::path("p"));
  EXPECT_EQ(o.value->seed, std::filesystem::path("s.json"));
  EXPECT_EQ(o.value->faults, std::filesystem::path("f.json"));
  EXPECT_EQ(o.value->request_log, std::filesystem::path("r.log"));
  EXPECT_EQ(parse_options({"--seeds", "s.json"}, nullptr).error, "unknown option --seeds");
}

// Seeds and fault rules are objects with one field that holds everything.
TEST(StandinDocuments, HoldTheirOneFieldAndNothingBeside) {
  using nlohmann::json;
  const std::string seed_shape = "a seed must be a JSON object {\"zones\": {...}}";
  EXPECT_TRUE(parse_seed(json::parse(R"({"zones": {}})"), kNow));
  EXPECT_EQ(parse_seed(json::parse(R"({"zones": []})"), kNow).error, seed_shape);
  EXPECT_EQ(parse_seed(json::parse(R"([{"zones": {}}])"), kNow).error, seed_shape);
  EXPECT_EQ(parse_seed(json::parse(R"({"zone": {}})"), kNow).error, seed_shape);
  EXPECT_EQ(parse_seed(json::parse(R"({"zones": {}, "rules": []})"), kNow).error,
            "unknown field \"rules\" beside \"zones\"");

  const std::string rules_shape = "fault rules must be a JSON object {\"rules\": [...]}";
  EXPECT_TRUE(FaultPlan::parse(json::parse(R"({"rules": []})")));
  EXPECT_EQ(FaultPlan::parse(json::parse(R"({"rules": {}})")).error, rules_shape);
  EXPECT_EQ(FaultPlan::parse(json::parse("null")).error, rules_shape);
  EXPECT_EQ(FaultPlan::parse(json::parse(R"({"rules": [], "zones": {}})")).error,
            "unknown field \"zones\" beside \"rules\"");
}

TEST(StandinOptions, RateLimitAndItsWindow) {
  auto o = parse_options({"--rate-limit", "120", "--rate-window=6"}, nullptr);
  ASSERT_TRUE(o) << o.error;
  EXPECT_EQ(o.value->rate_limit, 120);
  EXPECT_EQ(o.value->rate_window_seconds, 6);
  EXPECT_EQ(parse_options({}, nullptr).value->rate_window_seconds, 300);  // Cloudflare's
  for (const char* bad : {"0", "-5", "x", "86401", ""}) {
    auto refused = parse_options({"--rate-window", bad}, nullptr);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error, "--rate-window must be 1 to 86400 seconds");
  }
}

TEST(StandinOptions, RatePolicyNameAndTheDocumentedPolicy) {
  EXPECT_EQ(parse_options({}, nullptr).value->rate_policy_name, "default");
  EXPECT_FALSE(parse_options({}, nullptr).value->rate_policy_documented);
  auto named = parse_options({"--rate-policy-name", "burst"}, nullptr);
  ASSERT_TRUE(named) << named.error;
  EXPECT_EQ(named.value->rate_policy_name, "burst");
  auto documented = parse_options({"--rate-policy-documented"}, nullptr);
  ASSERT_TRUE(documented) << documented.error;
  EXPECT_TRUE(documented.value->rate_policy_documented);
  for (const char* bad : {"", "Burst", "a b", "\"x\""}) {
    auto refused = parse_options({"--rate-policy-name", bad}, nullptr);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error, "--rate-policy-name must be 1 to 64 of a-z, 0-9, _ and -");
  }
}

TEST(StandinParseQuery, DecodesAndKeepsTheFirst) {
  const auto q = parse_query("page=2&per_page=1%30&page=9&flag");
  EXPECT_EQ(q.at("page"), "2");
  EXPECT_EQ(q.at("per_page"), "10");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(percent_decode("a%2", false), "a%2");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
}

}  // namespace
}  // namespace standin
