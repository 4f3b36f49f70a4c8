#include "model/plan.h"

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

std::string_view to_string(Policy policy) {
  return enum_name(kPolicyNames, policy);
}

std::optional<Policy> parse_policy(std::string_view text) {
  return enum_from_name(kPolicyNames, text);
}

namespace {

// Each kept address and the desired origin naming vendor and region for it (the first in file
// order that does), or null when none does; sorted by key, one entry a key.
struct Kept {
  OriginKey key;
  Label vendor;  // both empty when no origin names them
  Label region;
  bool named() const { return vendor && region; }
};

std::vector<Kept> kept_origins(const DesiredZone& desired) {
  std::vector<Kept> all;
  all.reserve(desired.origins.size());
  for (const DesiredOrigin o : desired.origins) {
    all.push_back(o.vendor && o.region ? Kept{o.ip, o.vendor, o.region} : Kept{o.ip, {}, {}});
  }
  auto by_key = [](const Kept& a, const Kept& b) { return a.key < b.key; };
  // A desired state is often written in address order: then there is nothing to sort.
  if (!std::is_sorted(all.begin(), all.end(), by_key)) {
    std::stable_sort(all.begin(), all.end(), by_key);
  }
  // One entry a key, in place.
  std::size_t kept = 0;
  for (const Kept& k : all) {
    if (kept > 0 && all[kept - 1].key == k.key) {
      if (!all[kept - 1].named()) all[kept - 1] = k;
      continue;
    }
    all[kept++] = k;
  }
  all.resize(kept);
  return all;
}

// The entry of `key` in `keep`, or null. `hint` is where the last search ended: a listing
// usually comes in address order, so the key is most often the next entry, or falls between
// this one and the next (not kept), and no search is needed.
const Kept* find_kept(const std::vector<Kept>& keep, const OriginKey& key, std::size_t& hint) {
  if (keep.empty() || key < keep.front().key || keep.back().key < key) return nullptr;
  if (hint < keep.size() && keep[hint].key <= key) {
    if (keep[hint].key == key) return &keep[hint];
    if (hint + 1 == keep.size() || key < keep[hint + 1].key) return nullptr;
    if (keep[hint + 1].key == key) return &keep[++hint];
  }
  const auto it = std::lower_bound(keep.begin(), keep.end(), key,
                                   [](const Kept& k, const OriginKey& x) { return k.key < x; });
  const auto at = static_cast<std::size_t>(it - keep.begin());
  if (it != keep.end() && it->key == key) {
    hint = at;
    return &*it;
  }
  hint = at == 0 ? keep.size() : at - 1;  // the entry before the key, if any
  return nullptr;
}

using KeySet = std::unordered_set<OriginKey, OriginKeyHash>;
using SpellingSet = std::unordered_set<IpAddress, IpAddressHash>;  // RFC 5952 identity

// The live mappings against what is kept: counts, updates (sync) and deletes. Returns the key
// of every parseable live address, sorted, each once. Only the changes allocate per entry.
std::vector<OriginKey> plan_live(const std::vector<Mapping>& live, const DesiredZone& desired,
                                 const std::vector<Kept>& keep, ZonePlan& plan) {
  const bool sync = plan.policy == Policy::kSync;
  std::vector<OriginKey> seen;  // every parseable entry
  KeySet doomed;                // the stale ones
  SpellingSet planned;          // each spelling in deletes
  SpellingSet updated;          // each spelling in updates
  KeySet drifted;               // the mismatched ones
  seen.reserve(live.size());
  std::size_t hint = keep.size();  // none yet
  for (const auto& m : live) {
    const auto ip = parse_ip(m.ip);
    if (!ip) {
      ++plan.unparseable;
      continue;
    }
    const IpAddress origin = unmapped(*ip);
    const OriginKey key = origin_key(origin);
    seen.push_back(key);
    const bool scoped = in_scope(desired, origin);
    if (const Kept* kept = find_kept(keep, key, hint)) {
      if (!kept->named() || !scoped) continue;
      if (m.vendor == *kept->vendor && m.region == *kept->region) continue;
      if (!updated.insert(*ip).second) continue;
      ++plan.mismatched;
      drifted.insert(key);
      if (sync) plan.changes.updates.push_back({m, {m.ip, *kept->vendor, *kept->region}});
      continue;
    }
    if (!scoped) {
      ++plan.out_of_scope;
      continue;
    }
    if (planned.insert(*ip).second) {
      plan.changes.deletes.push_back(m.ip);
      doomed.insert(key);
    }
  }
  // Listings usually come in address order: then there is nothing to sort.
  if (!std::is_sorted(seen.begin(), seen.end())) std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  plan.live_addresses = seen.size();
  plan.in_scope_addresses =
      desired.manage_cidrs.empty()
          ? seen.size()
          : static_cast<std::size_t>(std::count_if(seen.begin(), seen.end(), [&](const auto& k) {
              return in_scope(desired, origin_address(k));
            }));
  plan.stale_addresses = doomed.size();
  plan.mismatched_addresses = drifted.size();
  return seen;
}

// Desired origins naming vendor and region that no live mapping has: missing, and created
// under sync (in canonical origin form).
void plan_missing(const DesiredZone& desired, const std::vector<OriginKey>& seen, ZonePlan& plan) {
  KeySet created;
  for (const DesiredOrigin o : desired.origins) {
    if (!o.vendor || !o.region) continue;
    if (std::binary_search(seen.begin(), seen.end(), o.ip)) continue;
    if (!created.insert(o.ip).second) continue;
    const IpAddress origin = origin_address(o.ip);
    if (!in_scope(desired, origin)) continue;
    ++plan.missing;
    if (plan.policy == Policy::kSync) {
      plan.changes.creates.push_back({to_string(origin), *o.vendor, *o.region});
    }
  }
}

// The safety guard for one kind of change (`verb`, limited by the setting `setting`): blocks
// when `changed` distinct addresses are more than `max_fraction` of those in scope.
GuardDecision check_fraction(const ZonePlan& plan, bool any_changes, std::size_t changed,
                             const char* verb, const char* setting, double max_fraction,
                             bool force) {
  if (force || plan.live_addresses < kGuardMinLive || !any_changes) return {};
  // The changed addresses are in scope, so changed <= in_scope_addresses, and both are at
  // least 1 here; max() guards a hand-made plan against a division by zero.
  const double fraction = static_cast<double>(changed) /
                          static_cast<double>(std::max<std::size_t>(plan.in_scope_addresses, 1));
  if (fraction <= max_fraction) return {};
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "would %s %zu of %zu live mappings (%.1f%%, counting distinct addresses in "
                "scope), above %s %.1f%%",
                verb, changed, plan.in_scope_addresses, fraction * 100.0, setting,
                max_fraction * 100.0);
  return {true, buf};
}

}  // namespace

ZonePlan plan_zone(const std::vector<Mapping>& live, const DesiredZone& desired, Policy policy) {
  ZonePlan plan;
  plan.policy = policy;
  plan.live = live.size();
  plan.desired = desired.origins.size();
  const std::vector<OriginKey> seen = plan_live(live, desired, kept_origins(desired), plan);
  plan_missing(desired, seen, plan);
  // A cycle's report keeps every zone's plan: no room left over from the vectors' growth
  // (a third more at 1,000 zones).
  plan.changes.creates.shrink_to_fit();
  plan.changes.updates.shrink_to_fit();
  plan.changes.deletes.shrink_to_fit();
  return plan;
}

GuardDecision check_safety(const ZonePlan& plan, double max_fraction, bool force) {
  return check_fraction(plan, !plan.changes.deletes.empty(), plan.stale_addresses, "delete",
                        "max_delete_fraction", max_fraction, force);
}

GuardDecision check_update_safety(const ZonePlan& plan, double max_fraction, bool force) {
  return check_fraction(plan, !plan.changes.updates.empty(), plan.mismatched_addresses, "update",
                        "max_update_fraction", max_fraction, force);
}

std::vector<Batch> schedule_batches(const ChangeSet& changes, std::size_t live,
                                    std::size_t batch_size, std::size_t limit) {
  std::vector<Mapping> upserts = changes.creates;
  upserts.reserve(changes.upserts());
  for (const auto& u : changes.updates) upserts.push_back(u.to);
  auto upsert_chunks = chunk(upserts, batch_size);
  auto delete_chunks = chunk(changes.deletes, batch_size);

  std::vector<Batch> out;
  out.reserve(upsert_chunks.size() + delete_chunks.size());
  std::size_t next_delete = 0;
  auto send_delete = [&] {
    Batch b;
    b.kind = Batch::Kind::kDelete;
    b.deletes = std::move(delete_chunks[next_delete++]);
    live -= std::min(live, b.deletes.size());
    out.push_back(std::move(b));
  };
  std::size_t creates_left = changes.creates.size();
  for (auto& items : upsert_chunks) {
    Batch b;
    b.kind = Batch::Kind::kUpsert;
    b.creates = std::min(creates_left, items.size());
    creates_left -= b.creates;
    b.upserts = std::move(items);
    while (live + b.creates > limit && next_delete < delete_chunks.size()) send_delete();
    live += b.creates;
    out.push_back(std::move(b));
  }
  while (next_delete < delete_chunks.size()) send_delete();
  return out;
}

std::vector<Mapping> hold_back_all_upserts(ChangeSet& changes) {
  std::vector<Mapping> held = std::move(changes.creates);
  changes.creates.clear();
  held.reserve(held.size() + changes.updates.size());
  for (auto& u : changes.updates) held.push_back(std::move(u.to));
  changes.updates.clear();
  return held;
}

std::vector<Mapping> hold_back_unsupported(ChangeSet& changes, const SupportedRegions& regions) {
  std::vector<Mapping> held;
  auto unsupported = [&](const Mapping& m) { return !regions.supports(m.vendor, m.region); };
  std::erase_if(changes.creates, [&](const Mapping& m) {
    if (!unsupported(m)) return false;
    held.push_back(m);
    return true;
  });
  std::erase_if(changes.updates, [&](const MappingUpdate& u) {
    if (!unsupported(u.to)) return false;
    held.push_back(u.to);
    return true;
  });
  return held;
}

}  // namespace orc
