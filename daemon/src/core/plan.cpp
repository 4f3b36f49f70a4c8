#include "core/plan.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <unordered_set>

namespace orc {

namespace {

bool in_scope(const DesiredZone& desired, const IpAddress& ip) {
  if (desired.manage_cidrs.empty()) return true;
  for (const auto& cidr : desired.manage_cidrs) {
    if (cidr.contains(ip)) return true;
  }
  return false;
}

}  // namespace

ZonePlan plan_zone(const std::vector<Mapping>& live, const DesiredZone& desired) {
  ZonePlan plan;
  plan.live = live.size();
  plan.desired = desired.origins.size();

  // The parser already folds desired origins; folding again keeps any other source honest.
  std::unordered_set<std::string> keep;
  keep.reserve(desired.origins.size());
  for (const auto& o : desired.origins) keep.insert(canonical_origin_ip(o.ip).value_or(o.ip));

  std::unordered_set<std::string> seen;     // canonical origin form of every parseable entry
  std::unordered_set<std::string> doomed;   // canonical origin form of the stale ones
  std::unordered_set<std::string> planned;  // RFC 5952 form of each spelling in `stale`
  seen.reserve(live.size());
  for (const auto& m : live) {
    const auto ip = parse_ip(m.ip);
    if (!ip) {
      ++plan.unparseable;
      continue;
    }
    const IpAddress origin = unmapped(*ip);
    const std::string key = to_string(origin);
    const bool scoped = in_scope(desired, origin);
    if (seen.insert(key).second && scoped) ++plan.in_scope_addresses;
    if (keep.contains(key)) continue;
    if (!scoped) {
      ++plan.out_of_scope;
      continue;
    }
    if (planned.insert(to_string(*ip)).second) {
      plan.stale.push_back(m.ip);
      doomed.insert(key);
    }
  }
  plan.live_addresses = seen.size();
  plan.stale_addresses = doomed.size();
  return plan;
}

GuardDecision check_safety(const ZonePlan& plan, double max_fraction, bool force) {
  if (force || plan.live_addresses < kGuardMinLive || plan.stale.empty()) return {};
  // stale_addresses <= in_scope_addresses, and both are at least 1 here; max() guards a
  // hand-made plan against a division by zero.
  const double fraction = static_cast<double>(plan.stale_addresses) /
                          static_cast<double>(std::max<std::size_t>(plan.in_scope_addresses, 1));
  if (fraction <= max_fraction) return {};
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "would delete %zu of %zu live mappings (%.1f%%, counting distinct addresses in "
                "scope), above max_delete_fraction %.1f%%",
                plan.stale_addresses, plan.in_scope_addresses, fraction * 100.0,
                max_fraction * 100.0);
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
