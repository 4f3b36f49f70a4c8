#include "plan.h"

#include <gtest/gtest.h>

#include <set>

namespace orc {
namespace {

std::vector<Mapping> live_of(std::initializer_list<const char*> ips) {
  std::vector<Mapping> out;
  for (const char* ip : ips) out.push_back({ip, "aws", "us-east-1"});
  return out;
}

DesiredZone desired_of(std::initializer_list<const char*> ips,
                       std::initializer_list<const char*> cidrs = {}) {
  DesiredZone z;
  z.zone_id = "023e105f4ecef8ad9ca31a8372d0c353";
  for (const char* ip : ips) z.origins.push_back({*canonicalize_ip(ip), {}, {}});
  for (const char* c : cidrs) z.manage_cidrs.push_back(*parse_cidr(c));
  return z;
}

struct PlanCase {
  const char* name;
  std::vector<Mapping> live;
  DesiredZone desired;
  std::vector<std::string> stale;
};

class PlanTable : public ::testing::TestWithParam<PlanCase> {};

TEST_P(PlanTable, StaleIsLiveMinusDesiredInScope) {
  const auto& c = GetParam();
  const ZonePlan plan = plan_zone(c.live, c.desired);
  EXPECT_EQ(plan.stale, c.stale);
  EXPECT_EQ(plan.live, c.live.size());
  EXPECT_EQ(plan.desired, c.desired.origins.size());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanTable,
    ::testing::Values(PlanCase{"nothing_live", {}, desired_of({"192.0.2.1"}), {}},
                      PlanCase{"all_desired",
                               live_of({"192.0.2.1", "192.0.2.2"}),
                               desired_of({"192.0.2.2", "192.0.2.1"}),
                               {}},
                      PlanCase{"some_stale_in_listing_order",
                               live_of({"192.0.2.9", "192.0.2.1", "192.0.2.5"}),
                               desired_of({"192.0.2.1"}),
                               {"192.0.2.9", "192.0.2.5"}},
                      PlanCase{"empty_origins_wants_nothing",
                               live_of({"192.0.2.1", "2001:db8::1"}),
                               desired_of({}),
                               {"192.0.2.1", "2001:db8::1"}},
                      PlanCase{"ipv6_compared_canonically",
                               live_of({"2001:db8::1", "2001:DB8:0:0::2"}),
                               desired_of({"2001:DB8:0:0::1", "2001:db8::2"}),
                               {}},
                      PlanCase{"cidr_scope_limits_pruning",
                               live_of({"192.0.2.7", "198.51.100.7", "2001:db8::7", "2001:db9::7"}),
                               desired_of({}, {"192.0.2.0/24", "2001:db8::/32"}),
                               {"192.0.2.7", "2001:db8::7"}},
                      PlanCase{"desired_outside_scope_still_kept",
                               live_of({"192.0.2.7"}),
                               desired_of({"192.0.2.7"}, {"198.51.100.0/24"}),
                               {}},
                      PlanCase{"duplicate_live_entries_deleted_once",
                               live_of({"192.0.2.7", "192.0.2.7"}),
                               desired_of({}),
                               {"192.0.2.7"}},
                      PlanCase{"unparseable_live_ip_never_deleted",
                               live_of({"not-an-ip", "192.0.2.7"}),
                               desired_of({}),
                               {"192.0.2.7"}}),
    [](const ::testing::TestParamInfo<PlanCase>& info) { return std::string(info.param.name); });

TEST(Plan, CountsWhatItLeavesAlone) {
  const auto plan =
      plan_zone(live_of({"junk", "198.51.100.1", "192.0.2.1"}), desired_of({}, {"192.0.2.0/24"}));
  EXPECT_EQ(plan.unparseable, 1u);
  EXPECT_EQ(plan.out_of_scope, 1u);
  EXPECT_EQ(plan.stale, std::vector<std::string>{"192.0.2.1"});
}

TEST(Plan, NeverIncludesADesiredIp) {
  std::vector<Mapping> live;
  DesiredZone desired = desired_of({});
  for (int i = 0; i < 1000; ++i) {
    const std::string ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    live.push_back({ip, "aws", "r"});
    if (i % 4 != 0) desired.origins.push_back({ip, {}, {}});
  }
  const auto plan = plan_zone(live, desired);
  EXPECT_EQ(plan.stale.size(), 250u);
  std::set<std::string> keep;
  for (const auto& o : desired.origins) keep.insert(o.ip);
  for (const auto& ip : plan.stale) EXPECT_FALSE(keep.contains(ip)) << ip;
}

TEST(Plan, ApplyingThePlanTwiceChangesNothing) {
  std::vector<Mapping> live = live_of({"192.0.2.1", "192.0.2.2", "192.0.2.3"});
  const DesiredZone desired = desired_of({"192.0.2.2"});
  const auto first = plan_zone(live, desired);
  ASSERT_EQ(first.stale.size(), 2u);
  std::erase_if(live, [&](const Mapping& m) {
    return std::find(first.stale.begin(), first.stale.end(), m.ip) != first.stale.end();
  });
  EXPECT_TRUE(plan_zone(live, desired).stale.empty());
}

ZonePlan plan_with(std::size_t live, std::size_t stale) {
  ZonePlan p;
  p.live = live;
  for (std::size_t i = 0; i < stale; ++i) p.stale.push_back("192.0.2." + std::to_string(i));
  return p;
}

TEST(SafetyGuard, BlocksMoreThanTheFractionOfAtLeastTenLive) {
  EXPECT_FALSE(check_safety(plan_with(9, 9), 0.3, false).blocked);   // below 10 live
  EXPECT_FALSE(check_safety(plan_with(10, 3), 0.3, false).blocked);  // exactly the fraction
  EXPECT_TRUE(check_safety(plan_with(10, 4), 0.3, false).blocked);
  EXPECT_FALSE(check_safety(plan_with(1000, 250), 0.3, false).blocked);
  EXPECT_TRUE(check_safety(plan_with(1000, 301), 0.3, false).blocked);
  EXPECT_TRUE(check_safety(plan_with(10, 1), 0.0, false).blocked);
  EXPECT_FALSE(check_safety(plan_with(10, 0), 0.0, false).blocked);
  EXPECT_FALSE(check_safety(plan_with(10, 10), 1.0, false).blocked);
}

TEST(SafetyGuard, ForceLiftsItAndTheReasonSaysWhy) {
  EXPECT_FALSE(check_safety(plan_with(100, 100), 0.3, true).blocked);
  const auto d = check_safety(plan_with(100, 50), 0.3, false);
  ASSERT_TRUE(d.blocked);
  EXPECT_NE(d.reason.find("50 of 100"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("30.0%"), std::string::npos) << d.reason;
}

std::vector<std::string> items(std::size_t n) {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(std::to_string(i));
  return v;
}

TEST(Chunk, BoundariesAtTheBatchLimit) {
  struct Case {
    std::size_t n, size;
    std::vector<std::size_t> sizes;
  };
  for (const auto& c : std::vector<Case>{{0, 100, {}},
                                         {1, 100, {1}},
                                         {99, 100, {99}},
                                         {100, 100, {100}},
                                         {101, 100, {100, 1}},
                                         {250, 100, {100, 100, 50}},
                                         {5, 1, {1, 1, 1, 1, 1}},
                                         {7, 3, {3, 3, 1}}}) {
    const auto chunks = chunk(items(c.n), c.size);
    std::vector<std::size_t> sizes;
    std::vector<std::string> joined;
    for (const auto& ch : chunks) {
      sizes.push_back(ch.size());
      joined.insert(joined.end(), ch.begin(), ch.end());
    }
    EXPECT_EQ(sizes, c.sizes) << c.n << "/" << c.size;
    EXPECT_EQ(joined, items(c.n)) << "order and content kept";
  }
  EXPECT_THROW(chunk(items(3), 0), std::invalid_argument);
}

}  // namespace
}  // namespace orc
