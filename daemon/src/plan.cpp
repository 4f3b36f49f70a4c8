#include "plan.h"

#include <cstdio>
#include <stdexcept>
#include <unordered_set>

namespace orc {

ZonePlan plan_zone(const std::vector<Mapping>& live, const DesiredZone& desired) {
  ZonePlan plan;
  plan.live = live.size();
  plan.desired = desired.origins.size();

  std::unordered_set<std::string> keep;
  keep.reserve(desired.origins.size());
  for (const auto& o : desired.origins) keep.insert(o.ip);  // already canonical

  std::unordered_set<std::string> planned;
  for (const auto& m : live) {
    const auto ip = parse_ip(m.ip);
    if (!ip) {
      ++plan.unparseable;
      continue;
    }
    if (keep.contains(to_string(*ip))) continue;
    if (!desired.manage_cidrs.empty()) {
      bool in_scope = false;
      for (const auto& cidr : desired.manage_cidrs) {
        if (cidr.contains(*ip)) {
          in_scope = true;
          break;
        }
      }
      if (!in_scope) {
        ++plan.out_of_scope;
        continue;
      }
    }
    if (planned.insert(m.ip).second) plan.stale.push_back(m.ip);
  }
  return plan;
}

GuardDecision check_safety(const ZonePlan& plan, double max_fraction, bool force) {
  if (force || plan.live < kGuardMinLive || plan.stale.empty()) return {};
  const double fraction = static_cast<double>(plan.stale.size()) / static_cast<double>(plan.live);
  if (fraction <= max_fraction) return {};
  char buf[160];
  std::snprintf(buf, sizeof(buf),
                "would delete %zu of %zu live mappings (%.1f%%), above max_delete_fraction "
                "%.1f%%",
                plan.stale.size(), plan.live, fraction * 100.0, max_fraction * 100.0);
  return {true, buf};
}

std::vector<std::vector<std::string>> chunk(const std::vector<std::string>& items,
                                            std::size_t size) {
  if (size == 0) throw std::invalid_argument("chunk size must be at least 1");
  std::vector<std::vector<std::string>> out;
  out.reserve((items.size() + size - 1) / size);
  for (std::size_t i = 0; i < items.size(); i += size) {
    const std::size_t end = std::min(items.size(), i + size);
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

}  // namespace orc
