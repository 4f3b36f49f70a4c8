// The one size and depth bound on JSON read from outside, and the readers that use it.
#include "base/json_bounds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cloudflare/api_parse.h"
#include "kube/lease.h"
#include "model/plan_file.h"

namespace orc {
namespace {

using ::testing::HasSubstr;

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// A valid Lease whose one extra field is nested `depth` levels deep.
std::string deep_lease(std::size_t depth) {
  return R"({"kind":"Lease","metadata":{"resourceVersion":"7"},"spec":{},"extra":)" +
         nested_arrays(depth) + "}";
}

TEST(JsonBounds, DepthUpToTheBoundIsAcceptedOneMoreIsNot) {
  EXPECT_TRUE(check_json_bounds(nested_arrays(64), {0, 64}).ok());
  const Status deeper = check_json_bounds(nested_arrays(65), {0, 64});
  ASSERT_FALSE(deeper.ok());
  EXPECT_EQ(deeper.error().message, "nested deeper than 64 levels");
  EXPECT_FALSE(check_json_bounds(R"({"a":{"b":[{"c":1}]}})", {0, 3}).ok());
  EXPECT_TRUE(check_json_bounds(R"({"a":{"b":[{"c":1}]}})", {0, 4}).ok());
  // Siblings do not add up: depth is nesting, not count.
  std::string siblings = "[";
  for (int i = 0; i < 1000; ++i) siblings += "[],";
  EXPECT_TRUE(check_json_bounds(siblings + "[]]", {0, 2}).ok());
}

TEST(JsonBounds, AMillionLevelsCostNoStack) {
  const Status deep = check_json_bounds(nested_arrays(1'000'000), {0, kMaxJsonDepth});
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().message, "nested deeper than 64 levels");
}

TEST(JsonBounds, SizeIsCheckedFirst) {
  const Status big = check_json_bounds(std::string(2000, ' ') + "1", {1000, 64});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message, "larger than 1000 bytes (2001)");
  EXPECT_TRUE(check_json_bounds("1", {1, 64}).ok());
}

TEST(JsonBounds, SyntaxErrorsAreLeftToTheParser) {
  EXPECT_TRUE(check_json_bounds("{\"a\":", {0, 64}).ok());
  EXPECT_TRUE(check_json_bounds("not json", {0, 64}).ok());
  // ... but not before the depth seen up to the error was checked.
  EXPECT_FALSE(check_json_bounds(nested_arrays(100).substr(0, 120) + "x", {0, 64}).ok());
}

TEST(JsonBounds, ADeepLeaseAnswerIsAnErrorNotACrash) {
  const auto lease = parse_lease(deep_lease(100'000));
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.error().message, "the answer is nested deeper than 64 levels");
  EXPECT_TRUE(parse_lease(deep_lease(40)).ok());
  const auto big = parse_lease(R"({"kind":"Lease","x":")" + std::string(1u << 20, 'a') + "\"}");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, HasSubstr("the answer is larger than 1048576 bytes"));
  // A Status answer that deep is quoted as text, briefly.
  EXPECT_LE(status_message(deep_lease(100'000)).size(), 300u);
}

TEST(JsonBounds, ADeepCloudflareAnswerIsNoEnvelope) {
  EXPECT_FALSE(
      parse_envelope(R"({"success":true,"errors":[],"result":)" + nested_arrays(100'000) + "}"));
  EXPECT_TRUE(parse_envelope(R"({"success":true,"errors":[],"result":)" + nested_arrays(10) + "}"));
}

TEST(JsonBounds, ADeepPlanFileIsAPlanFileError) {
  try {
    parse_plan_document(
        R"({"format":"origin-reconciler-plan","zones":)" + nested_arrays(100'000) + "}",
        "plan.json");
    FAIL() << "no error";
  } catch (const PlanFileError& e) {
    EXPECT_STREQ(e.what(), "plan.json: not a plan document: nested deeper than 64 levels");
  }
}

TEST(JsonBounds, APlanParseErrorEscapesBytesThatAreNotUtf8) {
  try {
    parse_plan_document("{\"format\": \xff}", "plan.json");
    FAIL() << "no error";
  } catch (const PlanFileError& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("plan.json: not a plan document: parse error at line 1"));
    EXPECT_THAT(what, HasSubstr("\\xff"));
    EXPECT_EQ(what.find('\xff'), std::string::npos);
  }
}

}  // namespace
}  // namespace orc
