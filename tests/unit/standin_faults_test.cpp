// Fault rules of the stand-in: parsing, matching, skip and times.
#include <gtest/gtest.h>

#include "faults.h"

namespace standin {
namespace {

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";

FaultPlan plan_of(const char* text) {
  auto plan = FaultPlan::parse(nlohmann::json::parse(text));
  EXPECT_TRUE(plan) << plan.error;
  return plan ? std::move(*plan.value) : FaultPlan{};
}

// The status the plan gives the next n requests of one kind (0: no rule applies).
std::vector<int> statuses(FaultPlan& plan, int n, Operation op = Operation::kBatchDelete,
                          ApiFlavor flavor = ApiFlavor::kCacheV1) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    auto rule = plan.take(op, flavor, kZone);
    out.push_back(rule ? rule->status.value_or(200) : 0);
  }
  return out;
}

TEST(StandinFaultPlan, SkipThenTimesThenSpent) {
  FaultPlan plan = plan_of(R"({"rules": [{"operation": "batch_delete", "skip": 2, "times": 2,
                                           "status": 500}]})");
  EXPECT_EQ(statuses(plan, 6), (std::vector<int>{0, 0, 500, 500, 0, 0}));
  const auto dump = plan.to_json();
  EXPECT_EQ(dump["rules"][0]["times_remaining"], 0);
  EXPECT_EQ(dump["rules"][0]["applied"], 2);
}

TEST(StandinFaultPlan, TimesMinusOneIsForever) {
  FaultPlan plan = plan_of(R"({"rules": [{"times": -1, "status": 503}]})");
  EXPECT_EQ(statuses(plan, 3), (std::vector<int>{503, 503, 503}));
}

TEST(StandinFaultPlan, FirstMatchingUnspentRuleApplies) {
  FaultPlan plan = plan_of(R"({"rules": [
      {"operation": "list", "status": 502},
      {"flavor": "origin-v2", "status": 429, "retry_after": 3},
      {"zone": "023e105f4ecef8ad9ca31a8372d0c353", "status": 500, "times": 2}]})");
  // batch_delete on cache-v1: only the zone rule matches.
  EXPECT_EQ(statuses(plan, 1), (std::vector<int>{500}));
  // list on origin-v2: the list rule first, then the flavor rule, then the zone rule.
  EXPECT_EQ(statuses(plan, 4, Operation::kList, ApiFlavor::kOriginV2),
            (std::vector<int>{502, 429, 500, 0}));
}

TEST(StandinFaultPlan, ASkippingRuleLetsLaterRulesSeeTheRequest) {
  FaultPlan plan = plan_of(R"({"rules": [{"skip": 1, "status": 500},
                                         {"status": 429, "times": -1}]})");
  EXPECT_EQ(statuses(plan, 3), (std::vector<int>{429, 500, 429}));
}

TEST(StandinFaultRule, ParsesFailIpsCanonically) {
  auto rule = parse_fault_rule(nlohmann::json::parse(
      R"({"operation": "batch_delete", "fail_ips": {"2001:DB8::1": "internal error"}})"));
  ASSERT_TRUE(rule) << rule.error;
  EXPECT_EQ(rule.value->fail_ips.at("2001:db8::1"), "internal error");
  EXPECT_FALSE(rule.value->replaces_handler());
  EXPECT_EQ(rule.value->label(), "fail_ips");
}

TEST(StandinFaultRule, Labels) {
  auto label = [](const char* text) {
    return parse_fault_rule(nlohmann::json::parse(text)).value->label();
  };
  EXPECT_EQ(label(R"({"status": 429, "retry_after": 1})"), "429");
  EXPECT_EQ(label(R"({"truncate": true, "latency_ms": 5})"), "truncate+latency");
  EXPECT_EQ(label(R"({"body": "not json"})"), "body");
}

TEST(StandinFaultRule, RejectsTyposAndContradictions) {
  const char* bad[] = {
      R"({"operaton": "list"})",
      R"({"operation": "purge"})",
      R"({"flavor": "v3"})",
      R"({"zone": "abc"})",
      R"({"times": -2})",
      R"({"status": 99})",
      R"({"status": 500, "truncate": true})",
      R"({"success_false": true, "body": "x"})",
      R"({"operation": "list", "fail_ips": {"192.0.2.1": "x"}})",
      R"({"operation": "upsert", "fail_ips": {"192.0.2.1": "x"}})",
      R"({"operation": "batch_delete", "fail_ips": {"nope": "x"}})",
      R"({"code": 1156})",
      R"({"status": 500, "code": 0})",
      R"({"status": 500, "code": 1156, "body": "x"})",
      R"("not an object")",
  };
  for (const char* text : bad) {
    EXPECT_FALSE(parse_fault_rule(nlohmann::json::parse(text))) << text;
  }
  EXPECT_FALSE(FaultPlan::parse(nlohmann::json::parse(R"({"rule": []})")));
}

}  // namespace
}  // namespace standin
