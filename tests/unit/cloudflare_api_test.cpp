#include "cloudflare/cloudflare_api.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fakes.h"
#include "reconcile/reconciler.h"

namespace orc {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kBase = "http://127.0.0.1:1/client/v4";
constexpr const char* kSecret = "s3cr3t-token-value";

std::string ok(const json& result, const json& result_info = nullptr) {
  json env{{"success", true},
           {"errors", json::array()},
           {"messages", json::array()},
           {"result", result}};
  if (!result_info.is_null()) env["result_info"] = result_info;
  return env.dump();
}

std::string fail(int code, const std::string& message) {
  return json{{"success", false},
              {"errors", json::array({{{"code", code}, {"message", message}}})},
              {"messages", json::array()},
              {"result", nullptr}}
      .dump();
}

json v1_setting(const json& value) {
  return {{"id", "origin_public_cloud_region"},
          {"editable", true},
          {"modified_on", nullptr},
          {"value", value}};
}

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() : sleeper_(clock_), limiter_(1000.0, clock_, sleeper_), random_(0.5) {
    creds_.kind = Credentials::Kind::kToken;
    creds_.token = kSecret;
  }

  std::unique_ptr<ZoneApi> make(ApiFlavor flavor, int max_attempts = 4, int page_size = 100) {
    RetryPolicy policy;
    policy.max_attempts = max_attempts;
    policy.initial_backoff = milliseconds(1000);
    policy.max_backoff = milliseconds(8000);
    executor_ = std::make_unique<RequestExecutor>(
        RequestExecutor::Deps{http_, limiter_, sleeper_, random_, clock_, observer_,
                              sleeper_.token()},
        policy, milliseconds(30000));
    return make_zone_api(flavor, kBase, creds_, page_size, *executor_);
  }

  testing::FakeClock clock_;
  testing::FakeSleeper sleeper_;
  RateLimiter limiter_;
  testing::FixedRandom random_;
  testing::ScriptedHttp http_;
  testing::RecordingObserver observer_;
  Credentials creds_;
  std::unique_ptr<RequestExecutor> executor_;
};

// A value that names no generation is refused, not served by one of them.
TEST_F(ApiTest, AnUnknownFlavorIsRefusedNotGenerationOne) {
  EXPECT_THROW(make(static_cast<ApiFlavor>(7)), std::invalid_argument);
  EXPECT_NE(make(ApiFlavor::kCacheV1), nullptr);
  EXPECT_NE(make(ApiFlavor::kOriginV2), nullptr);
}

TEST_F(ApiTest, CacheV1ListsTheSettingValue) {
  auto api = make(ApiFlavor::kCacheV1);
  http_.push(200, ok(v1_setting(json::array(
                      {{{"origin-ip", "192.0.2.1"}, {"vendor", "aws"}, {"region", "us-east-1"}},
                       {{"origin-ip", "2001:db8::1"}, {"vendor", "gcp"}, {"region", "x"}}}))));
  auto r = api->list(kZone);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r.value().size(), 2u);
  EXPECT_EQ(r.value()[1].ip, "2001:db8::1");
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(http_.requests()[0].method, "GET");
  EXPECT_EQ(http_.requests()[0].url,
            std::string(kBase) + "/zones/" + kZone + "/cache/origin_cloud_regions");
}

TEST_F(ApiTest, CacheV1MissingSettingMeansNoMappings) {
  auto api = make(ApiFlavor::kCacheV1);
  http_.push(404, fail(1142, "Unable to retrieve origin_public_cloud_region setting value."));
  auto r = api->list(kZone);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(r.value().empty());
  EXPECT_EQ(http_.requests().size(), 1u);  // not retried, not a failure
}

// The schema's answer for a zone without mappings: 200, "value": [], "modified_on": null.
TEST_F(ApiTest, CacheV1EmptyValueMeansNoMappings) {
  auto api = make(ApiFlavor::kCacheV1);
  http_.push(200, ok(v1_setting(json::array())));
  auto r = api->list(kZone);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(r.value().empty());
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(ApiTest, CacheV1ListWithoutValueIsMalformed) {
  auto api = make(ApiFlavor::kCacheV1, 2);
  http_.push(200, ok({{"id", "origin_public_cloud_region"}, {"editable", true}}));
  http_.push(200, ok(v1_setting(nullptr)));
  auto r = api->list(kZone);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kRetryable);
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(ApiTest, OtherNotFoundIsAPermanentListFailure) {
  auto api = make(ApiFlavor::kCacheV1);
  http_.push(404, fail(7000, "No route for that URI"));
  auto r = api->list(kZone);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kPermanent);
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(ApiTest, OriginV2ReadsEveryPage) {
  auto api = make(ApiFlavor::kOriginV2, 4, 2);
  auto page = [](std::vector<std::string> ips, int n) {
    json items = json::array();
    for (auto& ip : ips) items.push_back({{"origin_ip", ip}, {"vendor", "aws"}, {"region", "r"}});
    return ok(items, {{"page", n},
                      {"per_page", 2},
                      {"count", ips.size()},
                      {"total_count", 5},
                      {"total_pages", 3}});
  };
  http_.push(200, page({"192.0.2.1", "192.0.2.2"}, 1));
  http_.push(200, page({"192.0.2.3", "192.0.2.4"}, 2));
  http_.push(200, page({"192.0.2.4", "192.0.2.5"}, 3));  // a shifted page repeats an item
  auto r = api->list(kZone);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r.value().size(), 5u);
  EXPECT_EQ(r.value()[4].ip, "192.0.2.5");
  ASSERT_EQ(http_.requests().size(), 3u);
  const std::string prefix = std::string(kBase) + "/zones/" + kZone + "/origin/cloud_regions";
  EXPECT_EQ(http_.requests()[0].url, prefix + "?page=1&per_page=2");
  EXPECT_EQ(http_.requests()[2].url, prefix + "?page=3&per_page=2");
}

// One origin-v2 list page: `ips`, saying there are `total_pages` pages of `per_page`.
std::string v2_page(const std::vector<std::string>& ips, int page, int total_pages,
                    int per_page = 2) {
  json items = json::array();
  for (const auto& ip : ips)
    items.push_back({{"origin_ip", ip}, {"vendor", "aws"}, {"region", "r"}});
  return ok(items, {{"page", page},
                    {"per_page", per_page},
                    {"count", ips.size()},
                    {"total_count", total_pages * per_page},
                    {"total_pages", total_pages}});
}

TEST_F(ApiTest, OriginV2ListingWhosePageCountChangesIsNotComplete) {
  struct Case {
    const char* name;
    std::vector<int> total_pages_said;  // by pages 1, 2, ...: the answers scripted
  };
  for (const auto& c : std::vector<Case>{{"shrinks_3_to_2", {3, 2}},
                                         {"shrinks_3_to_1", {3, 1}},
                                         {"shrinks_4_to_3_late", {4, 4, 3}},
                                         {"drops_to_0", {3, 0}},
                                         {"grows_2_to_3", {2, 3}},
                                         {"shrinks_then_grows_back", {3, 2, 3}}}) {
    SCOPED_TRACE(c.name);
    http_ = testing::ScriptedHttp{};
    auto api = make(ApiFlavor::kOriginV2, 4, 2);
    for (std::size_t i = 0; i < c.total_pages_said.size(); ++i) {
      const int n = static_cast<int>(i);
      http_.push(200, v2_page({"192.0.2." + std::to_string(2 * n + 1),
                               "192.0.2." + std::to_string(2 * n + 2)},
                              n + 1, c.total_pages_said[i]));
    }
    auto r = api->list(kZone);
    ASSERT_FALSE(r.ok()) << "taken as complete with " << r.value().size() << " mappings";
    // Transient: the next cycle lists again; retrying one page cannot mend a listing.
    EXPECT_EQ(r.error().kind, ApiError::Kind::kRetryable);
    EXPECT_NE(r.error().describe().find("changed while it was read"), std::string::npos)
        << r.error().describe();
    std::size_t first_change = 1;
    while (c.total_pages_said[first_change] == c.total_pages_said[0]) ++first_change;
    EXPECT_EQ(http_.requests().size(), first_change + 1) << "stops at the first change";
  }
}

TEST_F(ApiTest, OriginV2SteadyPageCountIsComplete) {
  auto api = make(ApiFlavor::kOriginV2, 4, 2);
  http_.push(200, v2_page({"192.0.2.1", "192.0.2.2"}, 1, 2));
  http_.push(200, v2_page({"192.0.2.3"}, 2, 2));
  auto r = api->list(kZone);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r.value().size(), 3u);
}

TEST_F(ApiTest, OriginV2ShrinkingListingDeletesNothingInThatZone) {
  // Page 1 says 3 pages, page 2 says 2: page 3 is never read, so the listing is not complete,
  // and nothing may be deleted on the strength of it.
  auto api = make(ApiFlavor::kOriginV2, 1, 2);
  http_.push(200, v2_page({"192.0.2.1", "192.0.2.2"}, 1, 3));
  http_.push(200, v2_page({"192.0.2.3", "192.0.2.4"}, 2, 2));
  // Were the listing taken as complete, the delete would get this answer.
  http_.push(200, ok({{"succeeded", {{{"origin_ip", "192.0.2.2"}}}}, {"failed", json::array()}}));
  testing::FakeSleeper stop(clock_);
  ChangeSetApplier applier(*api, 100, stop.token());
  struct Quiet final : ReconcileObserver {
    void on_zone_done(const ZoneReport&) override {}
  } quiet;
  Reconciler reconciler(*api, applier, clock_, stop.token(), quiet);
  DesiredZone zone;
  zone.zone_id = kZone;
  zone.origins.push_back({*parse_origin_key("192.0.2.1"), {}, {}});
  const auto report = reconciler.reconcile_zone(zone, {.max_delete_fraction = 1.0});
  EXPECT_EQ(report.outcome, ZoneOutcome::kFailure);
  EXPECT_FALSE(report.listed);
  EXPECT_NE(report.error.find("listing mappings"), std::string::npos) << report.error;
  for (const auto& req : http_.requests()) EXPECT_EQ(req.method, "GET") << req.url;
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(ApiTest, OriginV2EmptyZoneIsOneRequest) {
  auto api = make(ApiFlavor::kOriginV2);
  http_.push(
      200,
      ok(json::array(),
         {{"page", 1}, {"per_page", 100}, {"count", 0}, {"total_count", 0}, {"total_pages", 0}}));
  auto r = api->list(kZone);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().empty());
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(ApiTest, BatchDeleteSendsAJsonArrayAndReadsBothGenerations) {
  const std::vector<std::string> ips{"192.0.2.1", "192.0.2.2"};
  {
    auto api = make(ApiFlavor::kCacheV1);
    http_.push(200,
               ok(v1_setting({{"succeeded", {{{"origin-ip", "192.0.2.1"}}}},
                              {"failed", {{{"origin-ip", "192.0.2.2"}, {"error", "boom"}}}}})));
    auto r = api->batch_delete(kZone, ips);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    const std::vector<BatchItem> expected{{"192.0.2.1", ItemOutcome::applied()},
                                          {"192.0.2.2", ItemOutcome::refused({0, "boom"})}};
    EXPECT_EQ(r.value().items, expected);
    const auto& req = http_.requests().back();
    EXPECT_EQ(req.method, "DELETE");
    EXPECT_TRUE(req.url.ends_with("/cache/origin_cloud_regions/batch"));
    EXPECT_EQ(json::parse(req.body), json(ips));
  }
  {
    auto api = make(ApiFlavor::kOriginV2);
    http_.push(200, ok({{"succeeded", {{{"origin_ip", "192.0.2.1"}}, {{"origin_ip", "192.0.2.2"}}}},
                        {"failed", json::array()}}));
    auto r = api->batch_delete(kZone, ips);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    const std::vector<BatchItem> expected{{"192.0.2.1", ItemOutcome::applied()},
                                          {"192.0.2.2", ItemOutcome::applied()}};
    EXPECT_EQ(r.value().items, expected);
    EXPECT_TRUE(http_.requests().back().url.ends_with("/origin/cloud_regions/batch"));
  }
}

// The body is written as nlohmann writes it, byte for byte: addresses as they are, any other
// text escaped.
TEST_F(ApiTest, BatchDeleteBodyIsTheJsonArrayOfTheTexts) {
  auto api = make(ApiFlavor::kCacheV1);
  for (const std::vector<std::string>& ips : std::vector<std::vector<std::string>>{
           {"192.0.2.1"},
           {"192.0.2.1", "2001:DB8::1", "::ffff:10.0.0.1", "fe80::a:b:C:d"},
           {"192.0.2.1", "a\"b", "back\\slash", std::string("nul\0", 4), "tab\t", "caf\xc3\xa9"},
           {"192.0.2.1 ", "[::1]"},
       }) {
    http_.push(200, ok(v1_setting({{"succeeded", json::array()}, {"failed", json::array()}})));
    (void)api->batch_delete(kZone, ips);
    EXPECT_EQ(http_.requests().back().body, json(ips).dump());
  }
}

TEST_F(ApiTest, BatchUpsertSpeaksEachGenerationsMethodAndKeys) {
  const std::vector<Mapping> items{{"192.0.2.1", "aws", "us-east-1"},
                                   {"2001:db8::1", "gcp", "nowhere"}};
  {
    auto api = make(ApiFlavor::kCacheV1);
    http_.push(200,
               ok(v1_setting(
                   {{"succeeded",
                     {{{"origin-ip", "192.0.2.1"}, {"vendor", "aws"}, {"region", "us-east-1"}}}},
                    {"failed", {{{"origin-ip", "2001:db8::1"}, {"error", "invalid region"}}}}})));
    auto r = api->batch_upsert(kZone, items);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    const std::vector<BatchItem> expected{
        {"192.0.2.1", ItemOutcome::applied()},
        {"2001:db8::1", ItemOutcome::refused({0, "invalid region"})}};
    EXPECT_EQ(r.value().items, expected);
    const auto& req = http_.requests().back();
    EXPECT_EQ(req.method, "PATCH");
    EXPECT_TRUE(
        req.url.ends_with("/zones/" + std::string(kZone) + "/cache/origin_cloud_regions/batch"))
        << req.url;
    EXPECT_EQ(json::parse(req.body),
              json::parse(R"([{"ip":"192.0.2.1","vendor":"aws","region":"us-east-1"},)"
                          R"({"ip":"2001:db8::1","vendor":"gcp","region":"nowhere"}])"));
    EXPECT_EQ(observer_.requests.back().op, Operation::kBatchUpsert);
  }
  {
    auto api = make(ApiFlavor::kOriginV2);
    http_.push(200,
               ok({{"succeeded", {{{"origin_ip", "192.0.2.1"}}, {{"origin_ip", "2001:db8::1"}}}},
                   {"failed", json::array()}}));
    auto r = api->batch_upsert(kZone, items);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r.value().items.size(), 2u);
    const auto& req = http_.requests().back();
    EXPECT_EQ(req.method, "PUT");
    EXPECT_TRUE(req.url.ends_with("/origin/cloud_regions/batch")) << req.url;
    EXPECT_EQ(json::parse(req.body)[1],
              json::parse(R"({"origin_ip":"2001:db8::1","vendor":"gcp","region":"nowhere"})"));
  }
}

TEST_F(ApiTest, BatchUpsertOverTheZoneLimitFailsAsAWhole) {
  auto api = make(ApiFlavor::kOriginV2);
  http_.push(400, fail(1164, "Zone limit reached"));
  auto r = api->batch_upsert(kZone, {{"192.0.2.1", "aws", "us-east-1"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kPermanent);
  EXPECT_TRUE(r.error().has_code(1164));
  EXPECT_TRUE(r.error().zone_full);
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(ApiTest, SupportedRegionsAreReadFlatInBothGenerations) {
  const json table{
      {"obtained_codes", true},
      {"vendors", {{"aws", {{{"name", "us-east-1"}, {"upper_tier_colos", {"IAD"}}}}}}}};
  for (ApiFlavor flavor : {ApiFlavor::kCacheV1, ApiFlavor::kOriginV2}) {
    auto api = make(flavor);
    http_.push(200, ok(table));
    auto r = api->supported_regions(kZone);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_TRUE(r.value().supports("aws", "us-east-1"));
    EXPECT_FALSE(r.value().supports("aws", "us-west-2"));
    const auto& req = http_.requests().back();
    EXPECT_EQ(req.method, "GET");
    EXPECT_TRUE(req.url.ends_with(flavor == ApiFlavor::kCacheV1
                                      ? "/cache/origin_cloud_regions/supported_regions"
                                      : "/origin/cloud_regions/supported_regions"))
        << req.url;
    EXPECT_EQ(observer_.requests.back().op, Operation::kSupportedRegions);
  }
}

TEST_F(ApiTest, ServerErrorsAreRetriedWithJitteredBackoff) {
  auto api = make(ApiFlavor::kCacheV1, 4);
  http_.push(500, "");
  http_.push(502, "<html>bad gateway</html>");
  http_.push_transport_error("Connection reset by peer");
  http_.push(200, ok(v1_setting(json::array())));
  auto r = api->list(kZone);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  // random = 0.5: half of 1s, 2s, 4s.
  EXPECT_EQ(sleeper_.sleeps(),
            (std::vector<Millis>{milliseconds(500), milliseconds(1000), milliseconds(2000)}));
  ASSERT_EQ(observer_.retries.size(), 3u);
  EXPECT_EQ(observer_.retries[0].reason, RetryReason::kServerError);
  EXPECT_EQ(observer_.retries[2].reason, RetryReason::kTransport);
  ASSERT_EQ(observer_.requests.size(), 4u);
  EXPECT_EQ(observer_.requests[2].status, 0);
}

TEST_F(ApiTest, RateLimitHonoursRetryAfterAndHoldsBackOtherRequests) {
  auto api = make(ApiFlavor::kCacheV1);
  http_.push(429, fail(971, "Please wait"), {{"retry-after", "7"}});
  http_.push(200, ok(v1_setting(json::array())));
  auto r = api->list(kZone);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(sleeper_.sleeps().empty());
  EXPECT_EQ(sleeper_.sleeps()[0], milliseconds(7000));
  ASSERT_EQ(observer_.retries.size(), 1u);
  EXPECT_EQ(observer_.retries[0].reason, RetryReason::kRateLimited);
  EXPECT_EQ(observer_.retries[0].delay, milliseconds(7000));
}

TEST_F(ApiTest, ClientErrorsAreNotRetried) {
  auto api = make(ApiFlavor::kOriginV2);
  http_.push(403, fail(10000, "Authentication error"));
  auto r = api->batch_delete(kZone, {"192.0.2.1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kPermanent);
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_TRUE(r.error().has_code(10000));
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_TRUE(sleeper_.sleeps().empty());
}

TEST_F(ApiTest, GivesUpAfterMaxAttempts) {
  auto api = make(ApiFlavor::kCacheV1, 3);
  for (int i = 0; i < 3; ++i) http_.push(503, "");
  auto r = api->list(kZone);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kRetryable);
  EXPECT_NE(r.error().message.find("gave up after 3 attempts"), std::string::npos);
  EXPECT_EQ(http_.requests().size(), 3u);
  EXPECT_EQ(sleeper_.sleeps().size(), 2u);  // no sleep after the last attempt
}

TEST_F(ApiTest, MalformedAnswersAreRetried) {
  auto api = make(ApiFlavor::kOriginV2);
  http_.push(200, R"({"success":true,"result":{"succeeded":[)");  // cut short
  http_.push(200, "<html>proxy error</html>");
  http_.push(200, ok({{"succeeded", json::array()}}));  // result missing "failed"
  http_.push(200, ok({{"succeeded", json::array()}, {"failed", json::array()}}));
  auto r = api->batch_delete(kZone, {"192.0.2.1"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(http_.requests().size(), 4u);
}

// A list answer nested deeper than the limit is given up as it is read, in both generations,
// never read into a tree; the request is retried like any other damaged answer.
TEST_F(ApiTest, AListAnswerNestedTooDeepIsMalformed) {
  const std::string bomb = R"({"success":true,"result_info":{"total_pages":1},"result":[],"x":)" +
                           std::string(200000, '[') + std::string(200000, ']') + "}";
  for (const ApiFlavor flavor : {ApiFlavor::kOriginV2, ApiFlavor::kCacheV1}) {
    auto api = make(flavor, 2);
    http_.push(200, bomb);
    http_.push(200, bomb);
    auto r = api->list(kZone);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ApiError::Kind::kRetryable);
    EXPECT_EQ(r.error().message,
              "unexpected answer: mapping list: nested deeper than 32 levels (gave up after 2 "
              "attempts)");
  }
}

TEST_F(ApiTest, StopDuringBackoffCancels) {
  auto api = make(ApiFlavor::kCacheV1, 6);
  http_.push(500, "");
  http_.push(500, "");
  sleeper_.stop_during_sleep(1);
  auto r = api->list(kZone);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kCancelled);
  EXPECT_EQ(http_.requests().size(), 1u);
}

// The executor makes the cancelled error where it sees the stop, with the stop's reason: nobody
// patches it later.
TEST_F(ApiTest, ACancelledRequestCarriesTheReasonOfTheStop) {
  RetryPolicy policy;
  Cancellation cycle;
  RequestExecutor executor({http_, limiter_, sleeper_, random_, clock_, observer_, cycle}, policy,
                           milliseconds(30000));
  const auto api = make_zone_api(ApiFlavor::kCacheV1, kBase, creds_, 100, executor);
  cycle.request_stop(StopReason::kNotLeader);
  const auto r = api->list(kZone);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kCancelled);
  EXPECT_EQ(r.error().stopped_by, StopReason::kNotLeader);
  EXPECT_EQ(r.error().message, "this instance is no longer the leader");
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(ApiTest, GetTellsAbsentFromPresent) {
  auto api = make(ApiFlavor::kCacheV1);
  http_.push(404, fail(1163, "no mapping"));
  http_.push(200, ok(v1_setting({{"origin-ip", "192.0.2.1"}})));
  http_.push(404, fail(7000, "No route"));
  auto absent = api->get(kZone, "192.0.2.9");
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent.value(), Presence::kAbsent);
  EXPECT_TRUE(http_.requests()[0].url.ends_with("/cache/origin_cloud_regions/192.0.2.9"));
  auto present = api->get(kZone, "192.0.2.1");
  ASSERT_TRUE(present.ok());
  EXPECT_EQ(present.value(), Presence::kPresent);
  EXPECT_FALSE(api->get(kZone, "192.0.2.1").ok());  // a wrong route is not "gone"
}

TEST_F(ApiTest, GetPutsOnlyACanonicalAddressIntoThePath) {
  for (auto flavor : {ApiFlavor::kCacheV1, ApiFlavor::kOriginV2}) {
    http_ = testing::ScriptedHttp{};
    auto api = make(flavor);
    for (const char* crafted :
         {"../../user/tokens/verify", "192.0.2.1/../../../accounts", "192.0.2.1?x=1", "192.0.2.1#",
          "%2e%2e", "", " 192.0.2.1", "[::1]", "fe80::1%eth0", "192.0.2.1\n"}) {
      auto r = api->get(kZone, crafted);
      ASSERT_FALSE(r.ok()) << crafted;
      EXPECT_EQ(r.error().kind, ApiError::Kind::kPermanent) << crafted;
      EXPECT_NE(r.error().describe().find("not an IP address"), std::string::npos);
    }
    EXPECT_TRUE(http_.requests().empty()) << "no request for text that is not an address";

    http_.push(404, fail(1163, "no mapping"));
    http_.push(404, fail(1163, "no mapping"));
    ASSERT_TRUE(api->get(kZone, "0:0:0:0:0:FFFF:C000:0209").ok());
    ASSERT_TRUE(api->get(kZone, "2001:DB8:0::1").ok());
    ASSERT_EQ(http_.requests().size(), 2u);
    // RFC 5952, family kept: the mapped form addresses the mapped record.
    EXPECT_TRUE(http_.requests()[0].url.ends_with(
        "/" + std::string(kZone) +
        (flavor == ApiFlavor::kCacheV1 ? "/cache/origin_cloud_regions" : "/origin/cloud_regions") +
        "/::ffff:192.0.2.9"))
        << http_.requests()[0].url;
    EXPECT_TRUE(http_.requests()[1].url.ends_with("_regions/2001:db8::1"))
        << http_.requests()[1].url;
  }
}

// Every documented "no mapping for that IP" answer, in both generations: 404 with 1142 (the
// schema's example) or 1163 (its descriptions).
TEST_F(ApiTest, GetReadsBothAbsenceCodesInBothGenerations) {
  for (ApiFlavor flavor : {ApiFlavor::kCacheV1, ApiFlavor::kOriginV2}) {
    for (int code : {1142, 1163}) {
      SCOPED_TRACE(::testing::Message() << to_string(flavor) << " code " << code);
      auto api = make(flavor);
      http_.push(404, fail(code, "No origin cloud region mapping exists for that IP"));
      auto r = api->get(kZone, "192.0.2.9");
      ASSERT_TRUE(r.ok()) << r.error().describe();
      EXPECT_EQ(r.value(), Presence::kAbsent);
    }
  }
  EXPECT_TRUE(http_.requests().back().url.ends_with("/origin/cloud_regions/192.0.2.9"));
  EXPECT_EQ(http_.requests().size(), 4u);  // none retried
}

TEST_F(ApiTest, OriginV2GetTellsPresentFromOtherNotFound) {
  auto api = make(ApiFlavor::kOriginV2);
  http_.push(200, ok({{"origin_ip", "192.0.2.1"}, {"vendor", "aws"}, {"region", "us-east-1"}}));
  http_.push(404, fail(7003, "Could not route"));
  auto present = api->get(kZone, "192.0.2.1");
  ASSERT_TRUE(present.ok()) << present.error().describe();
  EXPECT_EQ(present.value(), Presence::kPresent);
  auto wrong = api->get(kZone, "192.0.2.1");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind, ApiError::Kind::kPermanent);
}

TEST_F(ApiTest, CredentialsGoInHeadersAndNeverIntoErrors) {
  auto api = make(ApiFlavor::kCacheV1);
  http_.push(403, fail(10000, "Authentication error"));
  auto r = api->list(kZone);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().describe().find(kSecret), std::string::npos);
  const auto& h = http_.requests()[0].headers;
  EXPECT_NE(std::find(h.begin(), h.end(),
                      std::pair<std::string, std::string>{"Authorization",
                                                          std::string("Bearer ") + kSecret}),
            h.end());

  Credentials key;
  key.kind = Credentials::Kind::kGlobalKey;
  key.email = "ops@example.com";
  key.api_key = "k3y";
  const auto kh = request_headers(key);
  EXPECT_NE(std::find(kh.begin(), kh.end(),
                      std::pair<std::string, std::string>{"X-Auth-Email", "ops@example.com"}),
            kh.end());
  EXPECT_NE(
      std::find(kh.begin(), kh.end(), std::pair<std::string, std::string>{"X-Auth-Key", "k3y"}),
      kh.end());
}

}  // namespace
}  // namespace orc
