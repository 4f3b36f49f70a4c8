#include "model/zone_queue.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace orc {

namespace {

bool same_zone(const DesiredZone& a, const DesiredZone& b) {
  if (a.origins.size() != b.origins.size() || a.manage_cidrs != b.manage_cidrs ||
      a.policy != b.policy || a.max_delete_fraction != b.max_delete_fraction ||
      a.max_update_fraction != b.max_update_fraction || a.suspend != b.suspend) {
    return false;
  }
  if (a.origins == b.origins) return true;  // the usual reload: the zone as it was
  auto key = [](const DesiredOrigin& o) { return std::tie(o.ip, o.vendor, o.region); };
  auto sorted = [&](const DesiredZone& z) {
    std::vector<DesiredOrigin> out(z.origins.begin(), z.origins.end());
    std::sort(out.begin(), out.end(),
              [&](const DesiredOrigin& x, const DesiredOrigin& y) { return key(x) < key(y); });
    return out;
  };
  return sorted(a) == sorted(b);
}

}  // namespace

std::vector<std::string> changed_zones(const DesiredState& before, const DesiredState& after) {
  std::unordered_map<std::string_view, const DesiredZone*> old_zones;
  for (const auto& z : before.zones) old_zones.emplace(z.zone_id, &z);
  std::vector<std::string> out;
  for (const auto& z : after.zones) {
    const auto it = old_zones.find(z.zone_id);
    if (it == old_zones.end() || !same_zone(*it->second, z)) out.push_back(z.zone_id);
  }
  return out;
}

ZoneQueue::ZoneQueue(const DesiredState& desired) {
  for (const auto& z : desired.zones) items_.push_back({&z, next_order_++});
}

ZoneQueue::ZoneQueue(std::shared_ptr<const DesiredState> desired) : ZoneQueue(*desired) {
  states_.push_back(std::move(desired));
}

std::optional<ZoneQueue::Item> ZoneQueue::pop() {
  std::lock_guard lock(mu_);
  if (items_.empty()) {
    closed_ = true;
    return std::nullopt;
  }
  Item item = std::move(items_.front());
  items_.pop_front();
  return item;
}

bool ZoneQueue::changes_first(std::shared_ptr<const DesiredState> next,
                              const std::vector<std::string>& changed) {
  std::unordered_map<std::string_view, const DesiredZone*> zones;
  for (const auto& z : next->zones) zones.emplace(z.zone_id, &z);
  std::lock_guard lock(mu_);
  if (closed_) return false;
  std::deque<Item> reordered;
  const std::unordered_set<std::string> first(changed.begin(), changed.end());
  for (const auto& id : changed) {
    const auto it = zones.find(id);
    if (it != zones.end()) reordered.push_back({it->second, next_order_++});
  }
  for (auto& item : items_) {
    if (first.contains(item.zone->zone_id)) continue;  // already at the front
    const auto it = zones.find(item.zone->zone_id);
    if (it == zones.end()) continue;  // no longer managed
    item.zone = it->second;
    reordered.push_back(std::move(item));
  }
  items_ = std::move(reordered);
  states_.push_back(std::move(next));
  return true;
}

std::size_t ZoneQueue::waiting() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

}  // namespace orc
