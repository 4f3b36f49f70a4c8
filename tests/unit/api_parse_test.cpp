#include "cloudflare/api_parse.h"

#include <gtest/gtest.h>

namespace orc {
namespace {

HttpResponse answer(int status, std::string body, std::map<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(ParseEnvelope, ReadsCodesMessagesAndResult) {
  auto env = parse_envelope(
      R"({"success":false,"errors":[{"code":1142,"message":"setting missing"},{"code":7}],)"
      R"("messages":[],"result":null})");
  ASSERT_TRUE(env);
  EXPECT_FALSE(env->success);
  EXPECT_EQ(env->codes, (std::vector<int>{1142, 7}));
  EXPECT_EQ(env->messages, "[1142] setting missing; [7] ");
  EXPECT_TRUE(env->result.is_null());
}

TEST(ParseEnvelope, RejectsWhatIsNotAnEnvelope) {
  for (const char* body : {"", "not json", "{", R"({"success":true)", "[]", "null",
                           R"({"result":[]})", R"({"success":"true"})", "\xff\xfe"}) {
    EXPECT_FALSE(parse_envelope(body)) << body;
  }
}

TEST(ParseEnvelope, ToleratesOddErrorEntries) {
  auto env = parse_envelope(R"({"success":false,"errors":[1,"x",{"code":"1"},{"message":"m"}]})");
  ASSERT_TRUE(env);
  EXPECT_TRUE(env->codes.empty());
  EXPECT_EQ(env->messages, "m");
}

struct ClassifyCase {
  int status;
  const char* body;
  ApiError::Kind kind;
  RetryReason reason;
};

class Classify : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(Classify, DecidesRetryOnce) {
  const auto& c = GetParam();
  const auto response = answer(c.status, c.body);
  const auto err = classify_failure(response, parse_envelope(response.body));
  EXPECT_EQ(err.kind, c.kind) << c.status << " " << c.body;
  if (c.kind == ApiError::Kind::kRetryable) {
    EXPECT_EQ(err.reason, c.reason);
  }
  EXPECT_EQ(err.http_status, c.status);
}

constexpr const char* kFail = R"({"success":false,"errors":[{"code":1141,"message":"x"}]})";
INSTANTIATE_TEST_SUITE_P(
    Table, Classify,
    ::testing::Values(
        ClassifyCase{0, "", ApiError::Kind::kRetryable, RetryReason::kTransport},
        ClassifyCase{429, kFail, ApiError::Kind::kRetryable, RetryReason::kRateLimited},
        ClassifyCase{500, "", ApiError::Kind::kRetryable, RetryReason::kServerError},
        ClassifyCase{502, "<html>", ApiError::Kind::kRetryable, RetryReason::kServerError},
        ClassifyCase{503, kFail, ApiError::Kind::kRetryable, RetryReason::kServerError},
        ClassifyCase{504, "", ApiError::Kind::kRetryable, RetryReason::kServerError},
        ClassifyCase{522, "", ApiError::Kind::kRetryable, RetryReason::kServerError},
        ClassifyCase{200, "not json", ApiError::Kind::kRetryable, RetryReason::kServerError},
        ClassifyCase{200, R"({"success":tr)", ApiError::Kind::kRetryable,
                     RetryReason::kServerError},
        ClassifyCase{200, kFail, ApiError::Kind::kRetryable, RetryReason::kServerError},
        ClassifyCase{400, kFail, ApiError::Kind::kPermanent, RetryReason::kServerError},
        ClassifyCase{401, "", ApiError::Kind::kPermanent, RetryReason::kServerError},
        ClassifyCase{403, kFail, ApiError::Kind::kPermanent, RetryReason::kServerError},
        ClassifyCase{404, kFail, ApiError::Kind::kPermanent, RetryReason::kServerError},
        ClassifyCase{405, "", ApiError::Kind::kPermanent, RetryReason::kServerError}));

TEST(Classify, RateLimitCarriesRetryAfter) {
  const auto response = answer(429, kFail, {{"retry-after", "7"}});
  const auto err = classify_failure(response, parse_envelope(response.body));
  ASSERT_TRUE(err.retry_after);
  EXPECT_EQ(err.retry_after->count(), 7000);
  EXPECT_TRUE(err.has_code(1141));
}

using std::chrono::sys_days;
using namespace std::chrono_literals;
constexpr auto kNov6 = std::chrono::year(1994) / std::chrono::November / 6;

TEST(HttpDate, ReadsTheThreeFormsRfc9110Requires) {
  const auto expected = sys_days(kNov6) + 8h + 49min + 37s;
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_EQ(parse_http_date(" Sun, 06 Nov 1994 08:49:37 GMT "), expected);
}

TEST(HttpDate, RefusesWhatIsNotADate) {
  for (const char* bad : {"", "120", "Sun, 06 Nov 1994 08:49:37", "Sun, 31 Feb 2026 08:49:37 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT",
                          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMTx",
                          "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994"}) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
}

// Years past 2262 (or before 1677) overflow the clock's 64-bit nanoseconds: refused, not
// wrapped into some wait (a finding of the api_client fuzzer).
TEST(HttpDate, RefusesYearsTheClockCannotHold) {
  for (const char* far : {"Fri, 01 Jan 3016 00:00:00 GMT", "Sat, 01 Jan 9999 00:00:00 GMT",
                          "Mon, 01 Jan 2201 00:00:00 GMT", "Wed, 31 Dec 1969 23:59:59 GMT",
                          "Sat Jan  1 00:00:00 1000"}) {
    EXPECT_FALSE(parse_http_date(far)) << far;
  }
  EXPECT_TRUE(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"));
  EXPECT_TRUE(parse_http_date("Sat, 31 Dec 2199 23:59:59 GMT"));
  EXPECT_EQ(
      retry_after_delay("Sat, 01 Jan 9999 00:00:00 GMT", sys_days(kNov6) + std::chrono::hours(8)),
      std::nullopt);
}

TEST(RetryAfter, AnHttpDateIsMeasuredFromTheReference) {
  const auto now = sys_days(kNov6) + 8h + 49min + 7s;
  EXPECT_EQ(retry_after_delay("Sun, 06 Nov 1994 08:49:37 GMT", now), Millis{30000});
  EXPECT_EQ(retry_after_delay("Sun, 06 Nov 1994 08:49:00 GMT", now), Millis{0});  // past
  EXPECT_EQ(retry_after_delay("Mon, 07 Nov 1994 08:49:37 GMT", now), Millis{3600 * 1000});
  EXPECT_FALSE(retry_after_delay("Sun, 06 Nov 1994 08:49:37 GMT", std::nullopt));
  EXPECT_EQ(retry_after_delay("12", std::nullopt), Millis{12000});
  EXPECT_FALSE(retry_after_delay("soon", now));
}

TEST(Classify, HttpDateRetryAfterPrefersTheAnswersDateOverTheLocalClock) {
  auto response = answer(429, kFail,
                         {{"retry-after", "Sun, 06 Nov 1994 08:50:00 GMT"},
                          {"date", "Sun, 06 Nov 1994 08:49:50 GMT"}});
  // A local clock five minutes fast must not turn a 10 s wait into none.
  response.received_at = sys_days(kNov6) + 8h + 54min + 50s;
  auto err = classify_failure(response, parse_envelope(response.body));
  ASSERT_TRUE(err.retry_after);
  EXPECT_EQ(*err.retry_after, Millis{10000});

  response.headers.erase("date");  // no Date header: the injected wall time of arrival
  response.received_at = sys_days(kNov6) + 8h + 49min + 40s;
  err = classify_failure(response, parse_envelope(response.body));
  ASSERT_TRUE(err.retry_after);
  EXPECT_EQ(*err.retry_after, Millis{20000});

  response.received_at.reset();  // neither: ignored, the backoff decides
  EXPECT_FALSE(classify_failure(response, parse_envelope(response.body)).retry_after);

  auto unavailable = answer(503, "",
                            {{"retry-after", "Sun, 06 Nov 1994 08:49:45 GMT"},
                             {"date", "Sun, 06 Nov 1994 08:49:40 GMT"}});
  err = classify_failure(unavailable, std::nullopt);
  ASSERT_TRUE(err.retry_after);
  EXPECT_EQ(*err.retry_after, Millis{5000});
}

TEST(Classify, MalformedBodyIsQuotedPrintably) {
  const auto response = answer(200, std::string("oops\x01\n", 6));
  const auto err = classify_failure(response, std::nullopt);
  EXPECT_NE(err.message.find(R"('oops\x01\x0a')"), std::string::npos) << err.message;
}

TEST(ParseMappings, ReadsEitherKeyAndRejectsBrokenItems) {
  const auto v1 = nlohmann::json::parse(
      R"([{"origin-ip":"192.0.2.1","vendor":"aws","region":"us-east-1","modified_on":null}])");
  auto m = parse_mappings(v1, "origin-ip");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0], (Mapping{"192.0.2.1", "aws", "us-east-1"}));

  EXPECT_FALSE(parse_mappings(v1, "origin_ip"));  // wrong generation's key
  EXPECT_FALSE(parse_mappings(nlohmann::json::parse(R"({"origin-ip":"x"})"), "origin-ip"));
  EXPECT_FALSE(parse_mappings(nlohmann::json::parse(R"([{"origin-ip":1}])"), "origin-ip"));
  EXPECT_FALSE(parse_mappings(nlohmann::json::parse(R"([1])"), "origin-ip"));
  auto empty = parse_mappings(nlohmann::json::array(), "origin_ip");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

// What the tree-based path accepts for a list answer, for comparison with parse_list_answer.
std::optional<std::pair<std::vector<Mapping>, std::optional<int>>> list_by_tree(
    std::string_view body, std::string_view ip_key, ListShape shape) {
  auto env = parse_envelope(body);
  if (!env || !env->success) return std::nullopt;
  if (shape == ListShape::kResultArray) {
    auto mappings = parse_mappings(env->result, ip_key);
    auto pages = parse_total_pages(env->result_info);
    if (!mappings || !pages) return std::nullopt;
    return std::make_pair(std::move(*mappings), pages);
  }
  if (!env->result.is_object() || !env->result.contains("value")) return std::nullopt;
  auto mappings = parse_mappings(env->result["value"], ip_key);
  if (!mappings) return std::nullopt;
  return std::make_pair(std::move(*mappings), std::optional<int>());
}

// What the tree-based path makes of a successful batch answer, for comparison with
// parse_batch_answer.
std::optional<BatchResult> batch_by_tree(std::string_view body, std::string_view ip_key,
                                         ListShape shape) {
  auto env = parse_envelope(body);
  if (!env || !env->success) return std::nullopt;
  if (shape == ListShape::kResultArray) {
    return parse_batch_result(env->result, ip_key, Operation::kBatchDelete);
  }
  if (!env->result.is_object() || !env->result.contains("value")) return std::nullopt;
  return parse_batch_result(env->result["value"], ip_key, Operation::kBatchDelete);
}

// The batch answer read without a tree: only the usual success, and then exactly what the tree
// gives; anything it does not take (failed items, repeated keys, odd shapes) is left to the
// tree.
TEST(ParseBatchAnswer, TakesTheUsualSuccessAsTheTreeReadsIt) {
  struct Case {
    const char* body;
    bool fast;  // read without a tree
  };
  const std::vector<Case> v2 = {
      {R"({"success":true,"errors":[],"messages":[],"result":{"succeeded":[{"origin_ip":"192.0.2.1","vendor":"aws"},{"origin_ip":"2001:db8::1","x":[1,{}]}],"failed":[]}})",
       true},
      {R"({"result":{"failed":[],"succeeded":[]},"success":true})", true},
      {R"({"success":true,"result":{"succeeded":[{"origin_ip":"a"}],"failed":[{"origin_ip":"b","error":"not found"}]}})",
       false},
      {R"({"success":true,"success":true,"result":{"succeeded":[],"failed":[]}})", false},
      {R"({"success":true,"result":{"succeeded":[],"failed":[]},"result":{"succeeded":[{"origin_ip":"a"}],"failed":[]}})",
       false},
      {R"({"success":true,"result":{"succeeded":[{"origin_ip":"a","origin_ip":"b"}],"failed":[]}})",
       false},
      {R"({"success":true,"result":{"succeeded":[{"origin-ip":"a"}],"failed":[]}})", false},
      {R"({"success":true,"result":{"succeeded":[{"origin_ip":5}],"failed":[]}})", false},
      {R"({"success":true,"result":{"succeeded":[5],"failed":[]}})", false},
      {R"({"success":true,"result":{"succeeded":[]}})", false},
      {R"({"success":true,"result":{"succeeded":{},"failed":[]}})", false},
      {R"({"success":false,"result":{"succeeded":[],"failed":[]}})", false},
      {R"({"success":"true","result":{"succeeded":[],"failed":[]}})", false},
      {R"({"success":true,"result":[]})", false},
      {R"({"success":true,"result":{"succeeded":[],"failed":[]}} x)", false},
      {R"({"success":true,"result":{"succeeded":[],"failed":[]})", false},
      {R"([{"success":true,"result":{"succeeded":[],"failed":[]}}])", false},
      {"", false},
  };
  // Each answer read by both paths, and in place with room after the text.
  auto check_cases = [](const std::vector<Case>& cases, std::string_view key, ListShape shape) {
    for (const Case& c : cases) {
      const auto fast = parse_batch_answer(c.body, key, shape);
      EXPECT_EQ(fast.has_value(), c.fast) << c.body;
      if (!fast) continue;
      const auto tree = batch_by_tree(c.body, key, shape);
      ASSERT_TRUE(tree.has_value()) << c.body;
      EXPECT_EQ(fast->items, tree->items) << c.body;
      std::string roomy = c.body;
      roomy.reserve(roomy.size() + 64);
      const auto in_place = parse_batch_answer(roomy, key, shape, roomy.capacity());
      ASSERT_TRUE(in_place.has_value()) << c.body;
      EXPECT_EQ(in_place->items, fast->items) << c.body;
    }
  };
  check_cases(v2, "origin_ip", ListShape::kResultArray);
  const std::vector<Case> v1 = {
      {R"({"success":true,"result":{"id":"origin_public_cloud_region","value":{"succeeded":[{"origin-ip":"192.0.2.1","vendor":"gcp","region":"asia-south1"}],"failed":[]}}})",
       true},
      {R"({"success":true,"result":{"value":{"succeeded":[],"failed":[]},"value":null}})", false},
      {R"({"success":true,"result":{"succeeded":[],"failed":[]}})", false},
      {R"({"success":true,"result":{"value":[]}})", false},
  };
  check_cases(v1, "origin-ip", ListShape::kResultValue);
}

// The one-pass reader accepts exactly the answers the tree-based path accepts, with the same
// mappings, however odd (duplicate keys: the last wins in both).
TEST(ParseListAnswer, AcceptsExactlyWhatTheTreeAccepts) {
  const std::string page =
      R"({"success":true,"errors":[],"messages":[{"code":1,"message":"x"}],)"
      R"("result":[{"origin_ip":"192.0.2.1","vendor":"aws","region":"us-east-1","extra":[1,{}]},)"
      R"({"origin_ip":"2001:db8::1","vendor":7,"region":{"a":1}}],)"
      R"("result_info":{"page":1,"per_page":100,"total_pages":1,"count":2}})";
  const std::vector<std::string> v2 = {
      page,
      R"({"success":true,"result":[],"result_info":{"total_pages":0}})",
      R"({"result_info":{"total_pages":3},"result":[{"origin_ip":"a"}],"success":true})",
      R"({"success":true,"result":[{"origin-ip":"192.0.2.1"}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":5}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":{}}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":"x","origin_ip":[]}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":[],"origin_ip":"x"}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":"x","vendor":"a","vendor":null}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[5],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[[]],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":{},"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":"x"}],"result":null,"result_info":{"total_pages":1}})",
      R"({"success":true,"result":null,"result":[{"origin_ip":"x"}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[],"result_info":{"total_pages":1.0}})",
      R"({"success":true,"result":[],"result_info":{"total_pages":-1}})",
      R"({"success":true,"result":[],"result_info":{"total_pages":100001}})",
      R"({"success":true,"result":[],"result_info":{"total_pages":18446744073709551615}})",
      R"({"success":true,"result":[],"result_info":{"total_pages":2,"total_pages":"2"}})",
      R"({"success":true,"result":[],"result_info":{"total_pages":{}}})",
      R"({"success":true,"result":[],"result_info":{"total_pages":1},"result_info":[]})",
      R"({"success":true,"result":[]})",
      R"({"success":false,"result":[],"result_info":{"total_pages":1}})",
      R"({"success":"true","result":[],"result_info":{"total_pages":1}})",
      R"({"success":true,"success":{},"result":[],"result_info":{"total_pages":1}})",
      R"({"success":false,"success":true,"result":[],"result_info":{"total_pages":1}})",
      R"({"result":[],"result_info":{"total_pages":1}})",
      R"([{"success":true,"result":[],"result_info":{"total_pages":1}}])",
      R"({"success":true,"result":[],"result_info":{"total_pages":1}} x)",
      R"({"success":true,"result":[],"result_info":{"total_pages":1})",
      // Escaped keys and strings are unescaped; the rest are read where they are.
      R"({"succ\u0065ss":true,"result":[{"origin\u005fip":"192.0.2.\u0031","vendor":"a\"b"}],)"
      R"("result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":"192.0.2.1","region":"x\\"}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":"\q"}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip\q":"x"}],"result_info":{"total_pages":1}})",
      R"({"success":true,"result":[{"origin_ip":"\ud800"}],"result_info":{"total_pages":1}})",
      R"({"success" :true , "result" : [ {"origin_ip" : "192.0.2.1" } ] ,"result_info":{"total_pages":1}} )",
      "",
      "null",
  };
  for (const std::string& body : v2) {
    const ListAnswer fast = parse_list_answer(body, "origin_ip", ListShape::kResultArray);
    const auto tree = list_by_tree(body, "origin_ip", ListShape::kResultArray);
    ASSERT_EQ(fast.usable, tree.has_value()) << body;
    // Read where it is (room after the text, as the HTTP client leaves it): the same answer.
    std::string roomy = body;
    roomy.reserve(body.size() + 64);
    const ListAnswer in_place =
        parse_list_answer(roomy, "origin_ip", ListShape::kResultArray, roomy.capacity());
    EXPECT_EQ(in_place.usable, fast.usable) << body;
    EXPECT_EQ(in_place.mappings, fast.mappings) << body;
    EXPECT_TRUE(fast.limit.empty()) << body;
    if (!tree) continue;
    EXPECT_EQ(fast.mappings, tree->first) << body;
    EXPECT_EQ(fast.total_pages, tree->second) << body;
  }
  const std::vector<std::string> v1 = {
      R"({"success":true,"result":{"id":"origin_cloud_regions","value":[{"origin-ip":"192.0.2.1","vendor":"gcp","region":"asia-south1"}]}})",
      R"({"success":true,"result":{"id":"origin_cloud_regions","value":[]}})",
      R"({"success":true,"result":{"value":[{"origin-ip":"a"}],"value":[{"origin-ip":"b"}]}})",
      R"({"success":true,"result":{"value":[{"origin-ip":"a"}],"value":null}})",
      R"({"success":true,"result":{"value":{}}})",
      R"({"success":true,"result":{"id":"x"}})",
      R"({"success":true,"result":[{"origin-ip":"a"}]})",
      R"({"success":true,"result":{"value":[{"origin_ip":"a"}]}})",
      R"({"success":true})",
  };
  for (const std::string& body : v1) {
    const ListAnswer fast = parse_list_answer(body, "origin-ip", ListShape::kResultValue);
    const auto tree = list_by_tree(body, "origin-ip", ListShape::kResultValue);
    ASSERT_EQ(fast.usable, tree.has_value()) << body;
    if (tree) {
      EXPECT_EQ(fast.mappings, tree->first) << body;
    }
  }
}

TEST(ParseListAnswer, ReadsNoDeeperThanTheLimit) {
  auto nested = [](int levels) {
    return R"({"success":true,"result_info":{"total_pages":1},"result":[],"x":)" +
           std::string(static_cast<std::size_t>(levels), '[') +
           std::string(static_cast<std::size_t>(levels), ']') + "}";
  };
  // The envelope is one level: 31 more fit.
  EXPECT_TRUE(
      parse_list_answer(nested(kMaxListDepth - 1), "origin_ip", ListShape::kResultArray).usable);
  const ListAnswer deep = parse_list_answer(nested(100000), "origin_ip", ListShape::kResultArray);
  EXPECT_FALSE(deep.usable);
  EXPECT_EQ(deep.limit, "nested deeper than 32 levels");
}

TEST(ParseListAnswer, ReadsNoMoreMappingsThanTheLimit) {
  auto with_items = [](std::size_t n) {
    std::string body = R"({"success":true,"result_info":{"total_pages":1},"result":[)";
    for (std::size_t i = 0; i < n; ++i)
      body += (i ? ",{" : "{") + std::string(R"("origin_ip":"x"})");
    return body + "]}";
  };
  const ListAnswer full =
      parse_list_answer(with_items(kMaxListItems), "origin_ip", ListShape::kResultArray);
  EXPECT_TRUE(full.usable);
  EXPECT_EQ(full.mappings.size(), kMaxListItems);
  const ListAnswer over =
      parse_list_answer(with_items(kMaxListItems + 1), "origin_ip", ListShape::kResultArray);
  EXPECT_FALSE(over.usable);
  EXPECT_TRUE(over.mappings.empty());
  EXPECT_EQ(over.limit, "more than 10000 mappings");
}

TEST(DropRepeatedIps, KeepsTheFirstOfEachSpellingInOrder) {
  std::vector<Mapping> m = {{"192.0.2.3", "aws", "a"},   {"192.0.2.1", "aws", "b"},
                            {"192.0.2.3", "gcp", "c"},   {"2001:db8::1", "aws", "d"},
                            {"2001:DB8::1", "aws", "e"}, {"192.0.2.1", "oci", "f"},
                            {"192.0.2.2", "aws", "g"}};
  drop_repeated_ips(m);
  // The text as the API spelled it: two spellings of one address are two records.
  const std::vector<Mapping> want = {{"192.0.2.3", "aws", "a"},
                                     {"192.0.2.1", "aws", "b"},
                                     {"2001:db8::1", "aws", "d"},
                                     {"2001:DB8::1", "aws", "e"},
                                     {"192.0.2.2", "aws", "g"}};
  EXPECT_EQ(m, want);
  std::vector<Mapping> none;
  drop_repeated_ips(none);
  EXPECT_TRUE(none.empty());
}

TEST(ParseBatchResult, TypesEachItemOfADelete) {
  const auto value = nlohmann::json::parse(
      R"({"succeeded":[{"origin_ip":"192.0.2.1"}],)"
      R"("failed":[{"origin_ip":"192.0.2.2","error":"origin IP not found"},{"origin_ip":"192.0.2.3"},)"
      R"({"origin_ip":"192.0.2.4","error":"internal error"},)"
      R"({"origin_ip":"192.0.2.5","error":{"code":1163,"message":"no mapping"}},)"
      R"({"origin_ip":"192.0.2.6","error":{"code":1141,"message":"Internal error."}}]})");
  auto r = parse_batch_result(value, "origin_ip", Operation::kBatchDelete);
  ASSERT_TRUE(r);
  const std::vector<BatchItem> expected{
      {"192.0.2.1", ItemOutcome::applied()},
      {"192.0.2.2", ItemOutcome::absent()},
      {"192.0.2.3", ItemOutcome::refused({0, "(no error given)"})},
      {"192.0.2.4", ItemOutcome::refused({0, "internal error"})},
      {"192.0.2.5", ItemOutcome::absent()},
      {"192.0.2.6", ItemOutcome::refused({1141, "Internal error."})}};
  EXPECT_EQ(r->items, expected);

  EXPECT_FALSE(parse_batch_result(nlohmann::json::parse(R"({"succeeded":[]})"), "origin_ip",
                                  Operation::kBatchDelete));
  EXPECT_FALSE(parse_batch_result(nlohmann::json::parse(R"({"succeeded":[{}],"failed":[]})"),
                                  "origin_ip", Operation::kBatchDelete));
  EXPECT_FALSE(
      parse_batch_result(nlohmann::json::parse("null"), "origin_ip", Operation::kBatchDelete));
}

TEST(ParseBatchResult, AnUpsertItemIsNeverAbsent) {
  const auto value = nlohmann::json::parse(
      R"({"succeeded":[{"origin-ip":"192.0.2.1","vendor":"aws","region":"us-east-1"}],)"
      R"("failed":[{"origin-ip":"192.0.2.2","error":"origin IP not found"},)"
      R"({"origin-ip":"192.0.2.3","error":{"code":1157,"message":"invalid region"}}]})");
  auto r = parse_batch_result(value, "origin-ip", Operation::kBatchUpsert);
  ASSERT_TRUE(r);
  const std::vector<BatchItem> expected{
      {"192.0.2.1", ItemOutcome::applied()},
      {"192.0.2.2", ItemOutcome::refused({0, "origin IP not found"})},
      {"192.0.2.3", ItemOutcome::refused({1157, "invalid region"})}};
  EXPECT_EQ(r->items, expected);
  EXPECT_EQ(r->items[2].outcome.refusal.describe(), "[1157] invalid region");
}

TEST(ParseSupportedRegions, ReadsTheVendorTable) {
  const auto result = nlohmann::json::parse(
      R"({"obtained_codes":true,"vendors":{"aws":[{"name":"us-east-1","upper_tier_colos":["IAD"]},)"
      R"({"name":"eu-west-1"},{"upper_tier_colos":[]},{"name":7}],"gcp":[]}})");
  auto r = parse_supported_regions(result);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->supports("aws", "us-east-1"));
  EXPECT_TRUE(r->supports("aws", "eu-west-1"));
  EXPECT_FALSE(r->supports("aws", "us-central1"));
  EXPECT_FALSE(r->supports("gcp", "us-central1"));
  EXPECT_FALSE(r->supports("oci", "us-ashburn-1"));
  EXPECT_FALSE(parse_supported_regions(nlohmann::json::parse(R"({"vendors":[]})")));
  EXPECT_FALSE(parse_supported_regions(nlohmann::json::parse(R"({"vendors":{"aws":{}}})")));
  EXPECT_FALSE(parse_supported_regions(nlohmann::json::parse("null")));
}

TEST(ParseTotalPages, AcceptsOnlySaneCounts) {
  EXPECT_EQ(parse_total_pages(nlohmann::json::parse(R"({"total_pages":35})")), 35);
  EXPECT_EQ(parse_total_pages(nlohmann::json::parse(R"({"total_pages":0})")), 0);
  EXPECT_FALSE(parse_total_pages(nlohmann::json::parse(R"({"total_pages":-1})")));
  EXPECT_FALSE(parse_total_pages(nlohmann::json::parse(R"({"total_pages":"2"})")));
  EXPECT_FALSE(parse_total_pages(nlohmann::json::parse(R"({})")));
  EXPECT_FALSE(parse_total_pages(nlohmann::json()));
}

std::string error_body(std::initializer_list<int> codes) {
  nlohmann::json errors = nlohmann::json::array();
  for (int code : codes) errors.push_back({{"code", code}, {"message", "m"}});
  return nlohmann::json{{"success", false},
                        {"errors", errors},
                        {"messages", nlohmann::json::array()},
                        {"result", nullptr}}
      .dump();
}

bool no_mapping(int status, const std::string& body) {
  const auto response = answer(status, body);
  return says_no_mapping(response, parse_envelope(response.body));
}

bool zone_empty(int status, const std::string& body) {
  const auto response = answer(status, body);
  return says_zone_empty(response, parse_envelope(response.body));
}

TEST(SaysNoMapping, Accepts404WithEitherDocumentedCode) {
  EXPECT_TRUE(no_mapping(404, error_body({1142})));  // the schema's example (generation 2)
  EXPECT_TRUE(no_mapping(404, error_body({1163})));  // its descriptions (generation 1 delete)
  EXPECT_TRUE(no_mapping(404, error_body({1000, 1163})));
  EXPECT_FALSE(no_mapping(404, error_body({7000})));  // no such route: not absence
  EXPECT_FALSE(no_mapping(404, error_body({})));
  EXPECT_FALSE(no_mapping(404, "<html>not found</html>"));
  EXPECT_FALSE(no_mapping(400, error_body({1142})));
  EXPECT_FALSE(no_mapping(200, error_body({1163})));
}

TEST(SaysZoneEmpty, OnlyTheMissingSetting) {
  EXPECT_TRUE(zone_empty(404, error_body({1142})));
  EXPECT_FALSE(zone_empty(404, error_body({1163})));  // a list names no IP
  EXPECT_FALSE(zone_empty(404, error_body({7000})));
  EXPECT_FALSE(zone_empty(404, "not json"));
  EXPECT_FALSE(zone_empty(500, error_body({1142})));
}

TEST(SaysNotFound, RecognisesGoneItems) {
  EXPECT_TRUE(says_not_found("origin IP not found"));
  EXPECT_TRUE(says_not_found("Mapping Not Found"));
  EXPECT_TRUE(says_not_found("the mapping does not exist"));
  EXPECT_FALSE(says_not_found("internal error"));
  EXPECT_FALSE(says_not_found("invalid IP address"));
  EXPECT_FALSE(says_not_found(""));
}

}  // namespace
}  // namespace orc
