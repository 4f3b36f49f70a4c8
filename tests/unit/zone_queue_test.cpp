// The cycle's work queue (model/zone_queue.h): changes first, the rest behind them.
#include "model/zone_queue.h"

#include <gtest/gtest.h>

#include <memory>

namespace orc {
namespace {

DesiredZone zone(const std::string& id, const std::vector<std::string>& ips) {
  DesiredZone z;
  z.zone_id = id;
  for (const auto& ip : ips) z.origins.push_back({*parse_origin_key(ip), {}, {}});
  return z;
}

std::vector<std::string> drain(ZoneQueue& q) {
  std::vector<std::string> out;
  while (auto item = q.pop()) out.push_back(item->zone->zone_id);
  return out;
}

TEST(ChangedZones, NewOrDifferentZonesInTheNewOrder) {
  const DesiredState before{
      {zone("a", {"10.0.0.1", "10.0.0.2"}), zone("b", {"10.0.0.3"}), zone("c", {"10.0.0.4"})}};
  DesiredState after{{zone("d", {"10.0.0.9"}), zone("c", {"10.0.0.4"}),
                      zone("a", {"10.0.0.2", "10.0.0.1"}), zone("b", {"10.0.0.5"})}};
  EXPECT_EQ(changed_zones(before, after), (std::vector<std::string>{"d", "b"}));
  // A vendor is part of the origin.
  after.zones[2].origins.set(0, {after.zones[2].origins[0].ip, "aws", {}});
  EXPECT_EQ(changed_zones(before, after), (std::vector<std::string>{"d", "a", "b"}));
  after.zones[1].manage_cidrs.push_back(*parse_cidr("10.0.0.0/8"));
  EXPECT_EQ(changed_zones(before, after), (std::vector<std::string>{"d", "c", "a", "b"}));
  EXPECT_TRUE(changed_zones(before, before).empty());
  DesiredState synced = before;
  synced.zones[1].policy = Policy::kSync;  // the zone's own policy: now it creates and updates
  EXPECT_EQ(changed_zones(before, synced), (std::vector<std::string>{"b"}));
}

TEST(ZoneQueue, ChangesGoFirstThenTheWaitingZonesWithTheirNewDefinitions) {
  ZoneQueue q(std::make_shared<const DesiredState>(
      DesiredState{{zone("a", {"10.0.0.1"}), zone("b", {"10.0.0.2"}), zone("c", {"10.0.0.3"}),
                    zone("d", {"10.0.0.4"})}}));
  ASSERT_EQ(q.pop()->zone->zone_id, "a");
  // a (done) and c (waiting) changed, d is no longer managed, e is new.
  auto next = std::make_shared<const DesiredState>(
      DesiredState{{zone("a", {"10.0.0.7"}), zone("b", {"10.0.0.8"}), zone("c", {"10.0.0.9"}),
                    zone("e", {"10.0.0.5"})}});
  ASSERT_TRUE(q.changes_first(next, {"c", "a", "e"}));
  EXPECT_EQ(q.waiting(), 4u);
  auto first = q.pop();
  EXPECT_EQ(first->zone->zone_id, "c");
  EXPECT_EQ(to_string(first->zone->origins[0].ip), "10.0.0.9");
  EXPECT_EQ(first->order, 4u);  // reported after the zones of the cycle's start
  EXPECT_EQ(q.pop()->zone->zone_id, "a");
  EXPECT_EQ(q.pop()->zone->zone_id, "e");
  auto b = q.pop();
  EXPECT_EQ(b->zone->zone_id, "b");
  EXPECT_EQ(to_string(b->zone->origins[0].ip), "10.0.0.8");  // the waiting zone's new definition
  EXPECT_EQ(b->order, 1u);
  EXPECT_FALSE(q.pop().has_value());
}

TEST(ZoneQueue, AnEmptyQueueIsClosedToChanges) {
  const DesiredState desired{{zone("a", {"10.0.0.1"})}};
  ZoneQueue q(desired);
  EXPECT_EQ(drain(q), std::vector<std::string>{"a"});
  EXPECT_FALSE(q.changes_first(
      std::make_shared<const DesiredState>(DesiredState{{zone("a", {"10.0.0.2"})}}), {"a"}));
  EXPECT_FALSE(q.pop().has_value());
}

}  // namespace
}  // namespace orc
