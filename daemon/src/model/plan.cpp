#include "model/plan.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <tuple>
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
  // Written through a pointer: push_back reloaded the vector's end from memory each time.
  std::vector<Kept> all(desired.origins.size());
  Kept* next = all.data();
  for (const DesiredOrigin o : desired.origins) {
    *next++ = o.vendor && o.region ? Kept{o.ip, o.vendor, o.region} : Kept{o.ip, {}, {}};
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

// A live entry to change (stale or mismatched), as listed.
struct Found {
  OriginKey key;
  IpAddress ip;
  std::uint32_t index;  // in the listing
  const Kept* kept;     // mismatched: what the desired state names
};

// Keeps the first entry of each spelling in `found` (an address listed twice is changed
// once), in listing order; returns the number of distinct keys (an address and its
// IPv4-mapped form are one). A sort, not sets: no allocation an entry.
std::size_t first_spellings(std::vector<Found>& found) {
  if (found.empty()) return 0;
  std::vector<std::uint32_t> order(found.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  // By key, then spelling; in listing order within one spelling (a stable sort).
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const Found& x = found[a];
    const Found& y = found[b];
    return std::tie(x.key, x.ip.family, x.ip.bytes) < std::tie(y.key, y.ip.family, y.ip.bytes);
  });
  std::size_t keys = 1;
  std::vector<bool> repeat(found.size());
  for (std::size_t i = 1; i < order.size(); ++i) {
    const Found& a = found[order[i - 1]];
    const Found& b = found[order[i]];
    if (!(a.key == b.key)) {
      ++keys;
    } else if (a.ip == b.ip) {
      repeat[order[i]] = true;
    }
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (!repeat[i]) found[kept++] = found[i];
  }
  found.resize(kept);
  return keys;
}

// The live mappings against what is kept: counts, updates (sync) and deletes. Returns the key
// of every parseable live address, sorted, each once. Only the changes allocate per entry.
std::vector<OriginKey> plan_live(const std::vector<Mapping>& live, const DesiredZone& desired,
                                 const std::vector<Kept>& keep, ZonePlan& plan) {
  std::vector<OriginKey> seen;  // every parseable entry
  std::vector<Found> stale;
  std::vector<Found> drifted;  // vendor or region not as desired
  seen.reserve(live.size());
  std::size_t hint = keep.size();  // none yet
  for (std::size_t i = 0; i < live.size(); ++i) {
    const Mapping& m = live[i];
    const auto ip = parse_ip(m.ip);
    if (!ip) {
      ++plan.unparseable;
      continue;
    }
    const IpAddress origin = unmapped(*ip);
    const OriginKey key = origin_key(origin);
    seen.push_back(key);
    const bool scoped = in_scope(desired, origin);
    const auto index = static_cast<std::uint32_t>(i);
    if (const Kept* kept = find_kept(keep, key, hint)) {
      if (!kept->named() || !scoped) continue;
      if (m.vendor == *kept->vendor && m.region == *kept->region) continue;
      drifted.push_back({key, *ip, index, kept});
      continue;
    }
    if (!scoped) {
      ++plan.out_of_scope;
      continue;
    }
    stale.push_back({key, *ip, index, nullptr});
  }
  plan.stale_addresses = first_spellings(stale);
  plan.changes.deletes.reserve(stale.size());
  for (const Found& f : stale) plan.changes.deletes.push_back(live[f.index].ip);
  plan.mismatched_addresses = first_spellings(drifted);
  plan.mismatched = drifted.size();
  if (plan.policy == Policy::kSync) {
    for (const Found& f : drifted) {
      const Mapping& m = live[f.index];
      plan.changes.updates.push_back({m, {m.ip, *f.kept->vendor, *f.kept->region}});
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
  return seen;
}

using KeySet = std::unordered_set<OriginKey, OriginKeyHash>;

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
