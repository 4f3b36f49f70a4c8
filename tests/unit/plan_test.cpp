#include "model/plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
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
  // As the desired-state parser makes them.
  for (const char* ip : ips) z.origins.push_back({*parse_origin_key(ip), {}, {}});
  for (const char* c : cidrs) z.manage_cidrs.push_back(unmapped(*parse_cidr(c)));
  return z;
}

struct PlanCase {
  const char* name;
  std::vector<Mapping> live;
  DesiredZone desired;
  std::vector<std::string> stale;
};

void PrintTo(const PlanCase& c, std::ostream* os) {
  *os << c.name;
}

class PlanTable : public ::testing::TestWithParam<PlanCase> {};

TEST_P(PlanTable, StaleIsLiveMinusDesiredInScope) {
  const auto& c = GetParam();
  // Origins without vendor and region: sync deletes exactly what prune deletes, and adds
  // nothing.
  for (Policy policy : {Policy::kPrune, Policy::kSync}) {
    const ZonePlan plan = plan_zone(c.live, c.desired, policy);
    EXPECT_EQ(plan.changes.deletes, c.stale) << to_string(policy);
    EXPECT_TRUE(plan.changes.creates.empty());
    EXPECT_TRUE(plan.changes.updates.empty());
    EXPECT_EQ(plan.live, c.live.size());
    EXPECT_EQ(plan.desired, c.desired.origins.size());
  }
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
                               {"192.0.2.7"}},
                      // IPv4-mapped IPv6, in any spelling, is the IPv4 origin.
                      PlanCase{"mapped_live_is_the_desired_ipv4",
                               live_of({"::ffff:192.0.2.1", "0:0:0:0:0:ffff:c000:202",
                                        "::FFFF:192.0.2.3", "192.0.2.4"}),
                               desired_of({"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}),
                               {}},
                      PlanCase{"desired_written_mapped_keeps_the_ipv4_live",
                               live_of({"192.0.2.1", "192.0.2.2"}),
                               desired_of({"::ffff:192.0.2.1", "::ffff:c000:202"}),
                               {}},
                      PlanCase{"stale_mapped_sent_as_the_api_spelled_it",
                               live_of({"192.0.2.1", "::FFFF:192.0.2.9", "::ffff:c000:20a"}),
                               desired_of({"192.0.2.1"}),
                               {"::FFFF:192.0.2.9", "::ffff:c000:20a"}},
                      PlanCase{"both_forms_live_both_sent",
                               live_of({"192.0.2.9", "::ffff:192.0.2.9"}),
                               desired_of({}),
                               {"192.0.2.9", "::ffff:192.0.2.9"}},
                      PlanCase{"both_forms_live_both_kept",
                               live_of({"192.0.2.9", "::ffff:192.0.2.9"}),
                               desired_of({"192.0.2.9"}),
                               {}},
                      PlanCase{"one_ipv6_address_two_spellings_sent_once",
                               live_of({"2001:db8::9", "2001:DB8:0::9"}),
                               desired_of({}),
                               {"2001:db8::9"}},
                      PlanCase{"repeats_sent_once_as_first_spelled_where_first_listed",
                               live_of({"2001:DB8:0::9", "192.0.2.5", "::ffff:192.0.2.5",
                                        "2001:db8::9", "192.0.2.5", "192.0.2.1"}),
                               desired_of({}),
                               {"2001:DB8:0::9", "192.0.2.5", "::ffff:192.0.2.5", "192.0.2.1"}},
                      PlanCase{"ipv4_cidr_scopes_mapped_live",
                               live_of({"::ffff:192.0.2.7", "::ffff:198.51.100.7"}),
                               desired_of({}, {"192.0.2.0/24"}),
                               {"::ffff:192.0.2.7"}},
                      PlanCase{"mapped_cidr_scopes_ipv4_live",
                               live_of({"192.0.2.7", "198.51.100.7", "2001:db8::7"}),
                               desired_of({}, {"::ffff:192.0.2.0/120"}),
                               {"192.0.2.7"}},
                      PlanCase{"mapped_range_96_is_every_ipv4",
                               live_of({"192.0.2.7", "::ffff:198.51.100.7", "2001:db8::7"}),
                               desired_of({}, {"::ffff:0:0/96"}),
                               {"192.0.2.7", "::ffff:198.51.100.7"}},
                      PlanCase{"wide_ipv6_range_takes_in_no_ipv4",
                               live_of({"::ffff:192.0.2.7", "192.0.2.8", "2001:db8::7"}),
                               desired_of({}, {"::/0"}),
                               {"2001:db8::7"}}),
    [](const ::testing::TestParamInfo<PlanCase>& info) { return std::string(info.param.name); });

TEST(Plan, CountsWhatItLeavesAlone) {
  const auto plan = plan_zone(live_of({"junk", "198.51.100.1", "192.0.2.1"}),
                              desired_of({}, {"192.0.2.0/24"}), Policy::kPrune);
  EXPECT_EQ(plan.unparseable, 1u);
  EXPECT_EQ(plan.out_of_scope, 1u);
  EXPECT_EQ(plan.changes.deletes, std::vector<std::string>{"192.0.2.1"});
}

TEST(Plan, FoldsADesiredOriginThatWasNotFoldedBeforehand) {
  DesiredZone desired = desired_of({});
  desired.origins.push_back(
      {*parse_origin_key("::ffff:192.0.2.1"), {}, {}});  // not through the parser
  EXPECT_TRUE(plan_zone(live_of({"192.0.2.1"}), desired, Policy::kPrune).changes.deletes.empty());
}

struct CountCase {
  const char* name;
  std::vector<Mapping> live;
  DesiredZone desired;
  std::size_t live_addresses, in_scope_addresses, stale_addresses;
};

void PrintTo(const CountCase& c, std::ostream* os) {
  *os << c.name;
}

class PlanCounts : public ::testing::TestWithParam<CountCase> {};

TEST_P(PlanCounts, CountDistinctParseableInScopeAddresses) {
  const auto& c = GetParam();
  const ZonePlan plan = plan_zone(c.live, c.desired, Policy::kPrune);
  EXPECT_EQ(plan.live, c.live.size());
  EXPECT_EQ(plan.live_addresses, c.live_addresses);
  EXPECT_EQ(plan.in_scope_addresses, c.in_scope_addresses);
  EXPECT_EQ(plan.stale_addresses, c.stale_addresses);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanCounts,
    ::testing::Values(
        CountCase{"plain", live_of({"192.0.2.1", "192.0.2.2"}), desired_of({"192.0.2.1"}), 2, 2, 1},
        CountCase{"repeats_count_once",
                  live_of({"192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.2"}),
                  desired_of({"192.0.2.1"}), 2, 2, 1},
        CountCase{"spellings_count_once",
                  live_of({"192.0.2.1", "::ffff:192.0.2.1", "0:0:0:0:0:ffff:c000:201",
                           "2001:db8::1", "2001:DB8:0::1"}),
                  desired_of({}), 2, 2, 2},
        CountCase{"junk_is_not_an_address", live_of({"junk", "", "192.0.2.1/32", "192.0.2.1"}),
                  desired_of({}), 1, 1, 1},
        CountCase{"out_of_scope_is_live_but_not_in_scope",
                  live_of({"192.0.2.1", "198.51.100.1", "198.51.100.2"}),
                  desired_of({"198.51.100.2"}, {"192.0.2.0/24"}), 3, 1, 1},
        CountCase{"nothing_listed", {}, desired_of({"192.0.2.1"}), 0, 0, 0}),
    [](const ::testing::TestParamInfo<CountCase>& info) { return std::string(info.param.name); });

TEST(Plan, NeverIncludesADesiredIp) {
  std::vector<Mapping> live;
  DesiredZone desired = desired_of({});
  for (int i = 0; i < 1000; ++i) {
    const std::string ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    live.push_back({ip, "aws", "r"});
    if (i % 4 != 0) desired.origins.push_back({*parse_origin_key(ip), {}, {}});
  }
  const auto plan = plan_zone(live, desired, Policy::kPrune);
  EXPECT_EQ(plan.changes.deletes.size(), 250u);
  std::set<std::string> keep;
  for (const auto& o : desired.origins) keep.insert(to_string(o.ip));
  for (const auto& ip : plan.changes.deletes) EXPECT_FALSE(keep.contains(ip)) << ip;
}

TEST(Plan, ApplyingThePlanTwiceChangesNothing) {
  std::vector<Mapping> live = live_of({"192.0.2.1", "192.0.2.2", "192.0.2.3"});
  const DesiredZone desired = desired_of({"192.0.2.2"});
  const auto first = plan_zone(live, desired, Policy::kPrune);
  ASSERT_EQ(first.changes.deletes.size(), 2u);
  std::erase_if(live, [&](const Mapping& m) {
    return std::find(first.changes.deletes.begin(), first.changes.deletes.end(), m.ip) !=
           first.changes.deletes.end();
  });
  EXPECT_TRUE(plan_zone(live, desired, Policy::kPrune).changes.deletes.empty());
}

// `count` consecutive IPv4 addresses from prefix.0.0 + `from`.
std::vector<std::string> addresses(std::size_t from, std::size_t count,
                                   const std::string& prefix = "10.1") {
  std::vector<std::string> out;
  for (std::size_t i = from; i < from + count; ++i) {
    out.push_back(prefix + "." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  }
  return out;
}

std::vector<Mapping> mappings(const std::vector<std::string>& ips, std::size_t times = 1) {
  std::vector<Mapping> out;
  for (std::size_t t = 0; t < times; ++t) {
    for (const auto& ip : ips) out.push_back({ip, "aws", "r"});
  }
  return out;
}

std::vector<Mapping> operator+(std::vector<Mapping> a, const std::vector<Mapping>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

DesiredZone keeping(const std::vector<std::string>& ips, std::vector<const char*> cidrs = {}) {
  DesiredZone z = desired_of({});
  for (const auto& ip : ips) z.origins.push_back({*parse_origin_key(ip), {}, {}});
  for (const char* c : cidrs) z.manage_cidrs.push_back(unmapped(*parse_cidr(c)));
  return z;
}

std::vector<std::string> mapped(const std::vector<std::string>& ips) {
  std::vector<std::string> out;
  for (const auto& ip : ips) out.push_back("::ffff:" + ip);
  return out;
}

struct GuardCase {
  const char* name;
  std::vector<Mapping> live;
  DesiredZone desired;
  double max_fraction;
  bool blocked;
};

void PrintTo(const GuardCase& c, std::ostream* os) {
  *os << c.name;
}

class SafetyGuardTable : public ::testing::TestWithParam<GuardCase> {};

TEST_P(SafetyGuardTable, FractionOfDistinctInScopeLiveAddresses) {
  const auto& c = GetParam();
  const ZonePlan plan = plan_zone(c.live, c.desired, Policy::kPrune);
  const GuardDecision d = check_safety(plan, c.max_fraction, false);
  EXPECT_EQ(d.blocked, c.blocked) << d.reason << " (stale " << plan.stale_addresses << " of "
                                  << plan.in_scope_addresses << ")";
  EXPECT_FALSE(check_safety(plan, c.max_fraction, true).blocked) << "force lifts it";
}

// Ten distinct addresses: 10.1.0.0-9; the first `keep` are desired.
const auto kTen = addresses(0, 10);
DesiredZone keep_first(std::size_t keep, std::vector<const char*> cidrs = {}) {
  return keeping(std::vector<std::string>(kTen.begin(), kTen.begin() + keep), std::move(cidrs));
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, SafetyGuardTable,
    ::testing::Values(
        GuardCase{"exactly_the_fraction", mappings(kTen), keep_first(7), 0.3, false},
        GuardCase{"one_above_the_fraction", mappings(kTen), keep_first(6), 0.3, true},
        GuardCase{"nine_live_is_below_the_minimum", mappings(addresses(0, 9)), keeping({}), 0.3,
                  false},
        GuardCase{"thousand_at_the_fraction", mappings(addresses(0, 1000)),
                  keeping(addresses(0, 700)), 0.3, false},
        GuardCase{"thousand_one_above", mappings(addresses(0, 1000)), keeping(addresses(0, 699)),
                  0.3, true},
        GuardCase{"zero_fraction_blocks_one", mappings(kTen), keep_first(9), 0.0, true},
        GuardCase{"zero_fraction_nothing_stale", mappings(kTen), keep_first(10), 0.0, false},
        GuardCase{"whole_fraction_allows_all", mappings(kTen), keeping({}), 1.0, false},
        // The bypass: 51 desired listed ten times each made a 49 % prune look like 8.8 %.
        GuardCase{"repeated_desired_do_not_dilute",
                  mappings(addresses(0, 51), 10) + mappings(addresses(51, 49)),
                  keeping(addresses(0, 51)), 0.3, true},
        GuardCase{"repeated_desired_one_above", mappings(kTen, 50), keep_first(6), 0.3, true},
        GuardCase{"repeated_desired_at_the_fraction", mappings(kTen, 50), keep_first(7), 0.3,
                  false},
        GuardCase{"repeated_stale_do_not_inflate",
                  mappings(kTen) + mappings({kTen[7], kTen[8], kTen[9]}, 5), keep_first(7), 0.3,
                  false},
        GuardCase{"mapped_spellings_of_desired_do_not_dilute",
                  mappings(kTen) +
                      mappings(mapped(std::vector<std::string>(kTen.begin(), kTen.begin() + 6))),
                  keep_first(6), 0.3, true},
        GuardCase{"both_spellings_of_stale_count_once",
                  mappings(kTen) + mappings(mapped({kTen[7], kTen[8], kTen[9]})), keep_first(7),
                  0.3, false},
        GuardCase{"unparseable_entries_do_not_dilute",
                  mappings(kTen) + mappings({"junk", "10.1.0.300", "", "10.1.0.0/32"}, 25),
                  keep_first(6), 0.3, true},
        GuardCase{"out_of_scope_entries_do_not_dilute",
                  mappings(kTen) + mappings(addresses(0, 100, "198.51")),
                  keep_first(6, {"10.1.0.0/24"}), 0.3, true},
        GuardCase{"desired_out_of_scope_do_not_dilute",
                  mappings(kTen) + mappings(addresses(0, 100, "198.51")),
                  keeping(addresses(0, 100, "198.51"), {"10.1.0.0/24"}), 0.3, true},
        GuardCase{"in_scope_at_the_fraction_beside_out_of_scope",
                  mappings(kTen) + mappings(addresses(0, 100, "198.51")),
                  keep_first(7, {"10.1.0.0/24"}), 0.3, false},
        // The minimum looks at the whole zone: 9 in scope of 12 distinct is still guarded.
        GuardCase{"small_scope_in_a_guarded_zone",
                  mappings(addresses(0, 9)) + mappings(addresses(0, 3, "198.51")),
                  keeping({}, {"10.1.0.0/24"}), 0.3, true},
        // The minimum counts distinct addresses too: nine listed twenty times is a small zone.
        GuardCase{"repeats_do_not_make_a_zone_large", mappings(addresses(0, 9), 20), keeping({}),
                  0.3, false}),
    [](const ::testing::TestParamInfo<GuardCase>& info) { return std::string(info.param.name); });

TEST(SafetyGuard, TheReasonSaysWhat) {
  const auto plan =
      plan_zone(mappings(addresses(0, 100), 3), keeping(addresses(0, 50)), Policy::kPrune);
  const auto d = check_safety(plan, 0.3, false);
  ASSERT_TRUE(d.blocked);
  EXPECT_NE(d.reason.find("50 of 100"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("(50.0%"), std::string::npos) << d.reason;
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

// The plan does not depend on the order of the listing (the lookups take a shortcut when it is
// in address order): the same counts and changes for a listing in address order, reversed and
// shuffled, with stale, mismatched, unparseable, repeated and IPv4-mapped entries mixed in.
TEST(PlanZone, TheListingOrderChangesNothing) {
  for (const unsigned seed : {1u, 2u, 3u, 4u}) {
    std::mt19937 rng(seed);
    auto ip = [](unsigned i) {
      return i % 7 == 0 ? "2001:db8::" + std::to_string(i)
                        : "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) +
                              "." + std::to_string(i % 256);
    };
    DesiredZone desired = desired_of(
        {}, seed % 2 ? std::initializer_list<const char*>{}
                     : std::initializer_list<const char*>{"10.0.0.0/24", "2001:db8::/120"});
    std::vector<Mapping> live;
    for (unsigned i = 0; i < 600; ++i) {
      const unsigned pick = rng() % 8;
      if (pick < 4) {  // desired, half of them naming a region
        desired.origins.push_back({*parse_origin_key(ip(i)), pick < 2 ? Label("aws") : Label(),
                                   pick < 2 ? Label("us-east-1") : Label()});
      }
      if (pick == 0 || pick >= 5) {  // live: kept, stale, repeated or in another spelling
        live.push_back({ip(i), "aws", rng() % 2 ? "us-east-1" : "eu-west-1"});
        if (pick == 6) live.push_back(live.back());
        if (pick == 7 && i % 7 != 0) live.push_back({"::ffff:" + ip(i), "gcp", "us-central1"});
      }
    }
    live.push_back({"not-an-ip", "aws", "us-east-1"});
    auto sorted = [](ChangeSet c) {
      std::sort(c.deletes.begin(), c.deletes.end());
      std::sort(c.updates.begin(), c.updates.end(), [](const auto& a, const auto& b) {
        return std::tie(a.from.ip, a.from.region) < std::tie(b.from.ip, b.from.region);
      });
      return c;
    };
    auto by_address = live;
    std::stable_sort(by_address.begin(), by_address.end(), [](const Mapping& a, const Mapping& b) {
      const auto ka = parse_origin_key(a.ip), kb = parse_origin_key(b.ip);
      return ka && kb ? *ka < *kb : ka.has_value() > kb.has_value();
    });
    const ZonePlan want = plan_zone(by_address, desired, Policy::kSync);
    EXPECT_GT(want.changes.deletes.size(), 50u);
    EXPECT_GT(want.changes.updates.size(), 5u);
    auto reversed = by_address;
    std::reverse(reversed.begin(), reversed.end());
    auto shuffled = by_address;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (const auto* order : {&live, &reversed, &shuffled}) {
      const ZonePlan got = plan_zone(*order, desired, Policy::kSync);
      EXPECT_EQ(sorted(got.changes), sorted(want.changes)) << seed;
      EXPECT_EQ(std::tie(got.live, got.desired, got.out_of_scope, got.unparseable,
                         got.live_addresses, got.in_scope_addresses, got.stale_addresses,
                         got.missing, got.mismatched, got.mismatched_addresses),
                std::tie(want.live, want.desired, want.out_of_scope, want.unparseable,
                         want.live_addresses, want.in_scope_addresses, want.stale_addresses,
                         want.missing, want.mismatched, want.mismatched_addresses))
          << seed;
    }
  }
}

// --- The sync policy --------------------------------------------------------------------

DesiredOrigin named(const char* ip, Label vendor, Label region) {
  return {*parse_origin_key(ip), vendor, region};
}

DesiredZone zone_of(std::vector<DesiredOrigin> origins,
                    std::initializer_list<const char*> cidrs = {}) {
  DesiredZone z = desired_of({}, cidrs);
  for (const auto& o : origins) z.origins.push_back(o);
  return z;
}

struct SyncCase {
  const char* name;
  std::vector<Mapping> live;
  DesiredZone desired;
  ChangeSet sync;  // what sync plans; prune plans the same deletes and nothing else
  std::size_t missing, mismatched;
};

void PrintTo(const SyncCase& c, std::ostream* os) {
  *os << c.name;
}

class SyncTable : public ::testing::TestWithParam<SyncCase> {};

TEST_P(SyncTable, CreatesAndUpdatesOnlyUnderSync) {
  const auto& c = GetParam();
  const ZonePlan sync = plan_zone(c.live, c.desired, Policy::kSync);
  EXPECT_EQ(sync.policy, Policy::kSync);
  EXPECT_EQ(sync.changes.creates, c.sync.creates);
  EXPECT_EQ(sync.changes.updates, c.sync.updates);
  EXPECT_EQ(sync.changes.deletes, c.sync.deletes);
  EXPECT_EQ(sync.missing, c.missing);
  EXPECT_EQ(sync.mismatched, c.mismatched);

  const ZonePlan prune = plan_zone(c.live, c.desired, Policy::kPrune);
  EXPECT_EQ(prune.policy, Policy::kPrune);
  EXPECT_TRUE(prune.changes.creates.empty());
  EXPECT_TRUE(prune.changes.updates.empty());
  EXPECT_EQ(prune.changes.deletes, c.sync.deletes);
  EXPECT_EQ(prune.missing, c.missing) << "counted under every policy";
  EXPECT_EQ(prune.mismatched, c.mismatched);

  // Nothing desired is ever deleted.
  for (const auto& ip : sync.changes.deletes) {
    const OriginKey key = *parse_origin_key(ip);
    for (const auto& o : c.desired.origins) EXPECT_NE(o.ip, key) << "desired " << ip << " deleted";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SyncTable,
    ::testing::Values(
        SyncCase{"missing_named_origin_is_created",
                 {},
                 zone_of({named("192.0.2.1", "gcp", "us-central1")}),
                 {{{"192.0.2.1", "gcp", "us-central1"}}, {}, {}},
                 1,
                 0},
        SyncCase{
            "wrong_region_is_updated",
            {{"192.0.2.1", "gcp", "us-east1"}},
            zone_of({named("192.0.2.1", "gcp", "us-central1")}),
            {{}, {{{"192.0.2.1", "gcp", "us-east1"}, {"192.0.2.1", "gcp", "us-central1"}}}, {}},
            0,
            1},
        SyncCase{
            "wrong_vendor_is_updated",
            {{"192.0.2.1", "aws", "us-central1"}},
            zone_of({named("192.0.2.1", "gcp", "us-central1")}),
            {{}, {{{"192.0.2.1", "aws", "us-central1"}, {"192.0.2.1", "gcp", "us-central1"}}}, {}},
            0,
            1},
        SyncCase{"in_line_changes_nothing",
                 {{"192.0.2.1", "gcp", "us-central1"}},
                 zone_of({named("192.0.2.1", "gcp", "us-central1")}),
                 {},
                 0,
                 0},
        SyncCase{"without_vendor_and_region_keep_if_present",
                 {{"192.0.2.1", "oci", "anything"}},
                 zone_of({named("192.0.2.1", {}, {}), named("192.0.2.2", {}, {}),
                          named("192.0.2.3", "aws", {})}),
                 {},
                 0,
                 0},
        SyncCase{
            "mapped_listing_is_updated_in_its_spelling_not_created",
            {{"::FFFF:192.0.2.1", "aws", "us-east-1"}},
            zone_of({named("192.0.2.1", "aws", "eu-west-1")}),
            {{},
             {{{"::FFFF:192.0.2.1", "aws", "us-east-1"}, {"::FFFF:192.0.2.1", "aws", "eu-west-1"}}},
             {}},
            0,
            1},
        SyncCase{
            "both_spellings_each_updated_once",
            {{"2001:DB8::1", "aws", "us-east-1"},
             {"2001:db8::1", "aws", "us-east-1"},
             {"::ffff:10.0.0.1", "aws", "us-east-1"},
             {"10.0.0.1", "aws", "us-east-1"}},
            zone_of({named("2001:db8::1", "aws", "eu-west-1"),
                     named("10.0.0.1", "aws", "eu-west-1")}),
            {{},
             {{{"2001:DB8::1", "aws", "us-east-1"}, {"2001:DB8::1", "aws", "eu-west-1"}},
              {{"::ffff:10.0.0.1", "aws", "us-east-1"}, {"::ffff:10.0.0.1", "aws", "eu-west-1"}},
              {{"10.0.0.1", "aws", "us-east-1"}, {"10.0.0.1", "aws", "eu-west-1"}}},
             {}},
            0,
            3},
        SyncCase{"outside_manage_cidrs_neither_created_nor_updated",
                 {{"198.51.100.1", "aws", "us-east-1"}, {"192.0.2.9", "aws", "us-east-1"}},
                 zone_of({named("198.51.100.1", "gcp", "us-central1"),
                          named("198.51.100.2", "gcp", "us-central1"),
                          named("192.0.2.1", "gcp", "us-central1")},
                         {"192.0.2.0/24"}),
                 {{{"192.0.2.1", "gcp", "us-central1"}}, {}, {"192.0.2.9"}},
                 1,
                 0},
        SyncCase{
            "creates_updates_and_deletes_together",
            {{"192.0.2.1", "aws", "us-east-1"},
             {"192.0.2.2", "aws", "us-east-1"},
             {"192.0.2.3", "aws", "us-east-1"}},
            zone_of({named("192.0.2.1", "aws", "us-east-1"), named("192.0.2.2", "aws", "eu-west-1"),
                     named("2001:db8::9", "gcp", "europe-west1")}),
            {{{"2001:db8::9", "gcp", "europe-west1"}},
             {{{"192.0.2.2", "aws", "us-east-1"}, {"192.0.2.2", "aws", "eu-west-1"}}},
             {"192.0.2.3"}},
            1,
            1}),
    [](const ::testing::TestParamInfo<SyncCase>& info) { return std::string(info.param.name); });

// The mappings a zone holds after a change set (as an API that upserts and deletes per IP).
std::vector<Mapping> applied(std::vector<Mapping> live, const ChangeSet& c) {
  for (const auto& u : c.updates) {
    for (auto& m : live) {
      if (m.ip == u.from.ip) m = u.to;
    }
  }
  for (const auto& m : c.creates) live.push_back(m);
  std::erase_if(live, [&](const Mapping& m) {
    return std::find(c.deletes.begin(), c.deletes.end(), m.ip) != c.deletes.end();
  });
  return live;
}

TEST(SyncPlan, ThreeHundredLiveReachTheDesiredStateAndTheSecondPlanIsEmpty) {
  // 300 live: 150 in line, 50 with a wrong region, 100 stale; 120 desired origins are new.
  std::vector<Mapping> live;
  DesiredZone desired = zone_of({});
  for (int i = 0; i < 300; ++i) {
    const std::string ip = "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    live.push_back({ip, "aws", i < 150 ? "us-east-1" : "eu-west-1"});
    if (i < 200) desired.origins.push_back({*parse_origin_key(ip), "aws", "us-east-1"});
  }
  for (int i = 0; i < 120; ++i) {
    desired.origins.push_back(
        {*parse_origin_key("10.2.0." + std::to_string(i)), "gcp", "us-central1"});
  }
  const ZonePlan plan = plan_zone(live, desired, Policy::kSync);
  EXPECT_EQ(plan.changes.creates.size(), 120u);
  EXPECT_EQ(plan.changes.updates.size(), 50u);
  EXPECT_EQ(plan.changes.deletes.size(), 100u);
  EXPECT_EQ(plan.changes.upserts(), 170u);
  EXPECT_EQ(chunk(plan.changes.deletes, 100).size(), 1u);

  const auto after = applied(live, plan.changes);
  EXPECT_EQ(after.size(), 320u);
  EXPECT_TRUE(plan_zone(after, desired, Policy::kSync).changes.empty())
      << "applying the plan twice changes nothing";
}

TEST(UpdateGuard, CountsDistinctUpdatedAddressesAgainstTheFraction) {
  std::vector<Mapping> live;
  DesiredZone desired = zone_of({});
  for (int i = 0; i < 20; ++i) {
    const std::string ip = "10.1.0." + std::to_string(i);
    live.push_back({ip, "aws", "us-east-1"});
    desired.origins.push_back({*parse_origin_key(ip), "aws", i < 10 ? "eu-west-1" : "us-east-1"});
  }
  const auto at_half = plan_zone(live, desired, Policy::kSync);
  EXPECT_FALSE(check_update_safety(at_half, 0.5, false).blocked) << "10 of 20 is not above 50%";
  desired.origins.set(10, {desired.origins[10].ip, "aws", "eu-west-1"});
  const auto above = plan_zone(live, desired, Policy::kSync);
  const auto d = check_update_safety(above, 0.5, false);
  ASSERT_TRUE(d.blocked);
  EXPECT_NE(d.reason.find("would update 11 of 20"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("max_update_fraction 50.0%"), std::string::npos) << d.reason;
  EXPECT_FALSE(check_update_safety(above, 0.5, true).blocked) << "--force lifts it";
  EXPECT_FALSE(check_safety(above, 0.3, false).blocked) << "updates are not deletes";
  // Prune plans no update: nothing for this guard to block.
  EXPECT_FALSE(check_update_safety(plan_zone(live, desired, Policy::kPrune), 0.5, false).blocked);
  // A small zone is not guarded, as with deletes.
  live.resize(9);
  while (desired.origins.size() > 9) desired.origins.pop_back();
  EXPECT_FALSE(check_update_safety(plan_zone(live, desired, Policy::kSync), 0.0, false).blocked);
}

TEST(UpdateGuard, CreatesAreNeverBlocked) {
  std::vector<Mapping> live;
  DesiredZone desired = zone_of({});
  for (int i = 0; i < 20; ++i) {
    const std::string ip = "10.1.0." + std::to_string(i);
    live.push_back({ip, "aws", "us-east-1"});
    desired.origins.push_back({*parse_origin_key(ip), "aws", "us-east-1"});
  }
  for (int i = 0; i < 200; ++i)
    desired.origins.push_back(
        {*parse_origin_key("10.2.0." + std::to_string(i)), "aws", "us-east-1"});
  const auto plan = plan_zone(live, desired, Policy::kSync);
  EXPECT_EQ(plan.changes.creates.size(), 200u);
  EXPECT_FALSE(check_update_safety(plan, 0.0, false).blocked);
  EXPECT_FALSE(check_safety(plan, 0.0, false).blocked);
}

TEST(HoldBackUnsupported, TakesOutCreatesAndUpdatesTheApiDoesNotList) {
  SupportedRegions regions;
  regions.by_vendor["aws"] = {"us-east-1"};
  ChangeSet c;
  c.creates = {{"192.0.2.1", "aws", "us-east-1"},
               {"192.0.2.2", "aws", "mars-north-1"},
               {"192.0.2.3", "gcp", "us-east-1"}};
  c.updates = {{{"192.0.2.4", "aws", "x"}, {"192.0.2.4", "aws", "us-east-1"}},
               {{"192.0.2.5", "aws", "us-east-1"}, {"192.0.2.5", "aws", "us-east-2"}}};
  c.deletes = {"192.0.2.6"};
  const auto held = hold_back_unsupported(c, regions);
  EXPECT_EQ(held, (std::vector<Mapping>{{"192.0.2.2", "aws", "mars-north-1"},
                                        {"192.0.2.3", "gcp", "us-east-1"},
                                        {"192.0.2.5", "aws", "us-east-2"}}));
  EXPECT_EQ(c.creates, (std::vector<Mapping>{{"192.0.2.1", "aws", "us-east-1"}}));
  ASSERT_EQ(c.updates.size(), 1u);
  EXPECT_EQ(c.updates[0].to.ip, "192.0.2.4");
  EXPECT_EQ(c.deletes, std::vector<std::string>{"192.0.2.6"}) << "deletes untouched";
}

// A change set of `creates` creates, `updates` updates and `deletes` deletes, with distinct IPs.
ChangeSet change_set(int creates, int updates, int deletes) {
  ChangeSet c;
  for (int i = 0; i < creates; ++i)
    c.creates.push_back({"192.0.2." + std::to_string(i), "aws", "a"});
  for (int i = 0; i < updates; ++i) {
    const std::string ip = "198.51.100." + std::to_string(i);
    c.updates.push_back({{ip, "aws", "a"}, {ip, "gcp", "b"}});
  }
  for (int i = 0; i < deletes; ++i) c.deletes.push_back("203.0.113." + std::to_string(i));
  return c;
}

// "U3" for an upsert batch of 3 items, "D2" for a delete batch of 2.
std::vector<std::string> shape(const std::vector<Batch>& batches) {
  std::vector<std::string> out;
  for (const auto& b : batches) {
    out.push_back(b.kind == Batch::Kind::kUpsert ? "U" + std::to_string(b.upserts.size())
                                                 : "D" + std::to_string(b.deletes.size()));
  }
  return out;
}

using Shape = std::vector<std::string>;

TEST(ScheduleBatches, UpsertsFirstWhenTheZoneHasRoom) {
  const auto b = schedule_batches(change_set(5, 3, 4), 10, 3, 100);
  EXPECT_EQ(shape(b), (Shape{"U3", "U3", "U2", "D3", "D1"}));
  // Creates first, then the updates' desired mappings; each batch knows how many add one.
  EXPECT_EQ(b[0].upserts[0], (Mapping{"192.0.2.0", "aws", "a"}));
  EXPECT_EQ(b[1].creates, 2u);
  EXPECT_EQ(b[2].creates, 0u);
  EXPECT_EQ(b[2].upserts.back(), (Mapping{"198.51.100.2", "gcp", "b"}));
  EXPECT_EQ(b[3].deletes.front(), "203.0.113.0");
}

TEST(ScheduleBatches, ExactlyAtTheLimitNeedsNoRoom) {
  EXPECT_EQ(shape(schedule_batches(change_set(100, 0, 100), 3400, 100, 3500)),
            (Shape{"U100", "D100"}));
  EXPECT_EQ(shape(schedule_batches(change_set(101, 0, 100), 3400, 100, 3500)),
            (Shape{"U100", "D100", "U1"}));
}

TEST(ScheduleBatches, AFullZoneDeletesBeforeEachCreateBatchThatNeedsRoom) {
  // Cloudflare's case: 3,400 live, 300 stale, 300 new.
  const auto b = schedule_batches(change_set(300, 0, 300), 3400, 100);
  EXPECT_EQ(shape(b), (Shape{"U100", "D100", "U100", "D100", "U100", "D100"}));
  // Never above the limit at any step, assuming every item is applied.
  long long held = 3400;
  for (const auto& batch : b) {
    held += batch.kind == Batch::Kind::kUpsert ? static_cast<long long>(batch.creates)
                                               : -static_cast<long long>(batch.deletes.size());
    EXPECT_LE(held, 3500);
  }
  EXPECT_EQ(held, 3400);
  // At the limit already: room first.
  EXPECT_EQ(shape(schedule_batches(change_set(50, 0, 120), 3500, 100)),
            (Shape{"D100", "U50", "D20"}));
}

TEST(ScheduleBatches, UpdatesNeedNoRoom) {
  EXPECT_EQ(shape(schedule_batches(change_set(0, 150, 10), 3500, 100)),
            (Shape{"U100", "U50", "D10"}));
}

TEST(ScheduleBatches, WhenDeletesCannotMakeRoomTheBatchStillGoes) {
  // The API decides (and refuses with 1164); the schedule does not drop anything.
  EXPECT_EQ(shape(schedule_batches(change_set(200, 0, 50), 3500, 100)),
            (Shape{"D50", "U100", "U100"}));
}

TEST(ScheduleBatches, AsFewRequestsAsChunkingAlone) {
  for (const std::size_t live : {0u, 3000u, 3400u, 3450u, 3500u}) {
    for (const int creates : {0, 1, 99, 100, 101, 350}) {
      const auto b = schedule_batches(change_set(creates, 7, 230), live, 100);
      const std::size_t upserts = (static_cast<std::size_t>(creates) + 7 + 99) / 100;
      EXPECT_EQ(b.size(), upserts + 3) << live << " " << creates;
    }
  }
}

TEST(PolicyNames, ReadAndWrittenTheSameWay) {
  for (Policy p : {Policy::kPrune, Policy::kSync}) EXPECT_EQ(parse_policy(to_string(p)), p);
  EXPECT_EQ(parse_policy("Sync"), std::nullopt);
  EXPECT_EQ(parse_policy("upsert-only"), std::nullopt);
  EXPECT_EQ(parse_policy(""), std::nullopt);
}

}  // namespace
}  // namespace orc
