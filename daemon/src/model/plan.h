// The plan: the change set that brings a zone's live mappings to its desired state under a
// policy (policy.h). Pure functions over values, no I/O, no clock, no metrics (external-dns's
// plan/ is the model). The safety guards and the supported-regions filter are separate
// functions applied to a plan.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/change_set.h"
#include "model/desired_state.h"
#include "model/policy.h"

namespace orc {

struct ZonePlan {
  Policy policy = Policy::kPrune;
  std::size_t live = 0;                // live mappings listed (entries, as the API gave them)
  std::size_t desired = 0;             // origins the desired state keeps
  std::size_t out_of_scope = 0;        // live, not desired, but outside manage_cidrs: left alone
  std::size_t unparseable = 0;         // live IPs that are not addresses: never deleted
  std::size_t live_addresses = 0;      // distinct parseable live addresses (canonical origin form)
  std::size_t in_scope_addresses = 0;  // of those, inside manage_cidrs (all without manage_cidrs)
  std::size_t stale_addresses = 0;     // distinct addresses behind changes.deletes
  // Counted under every policy (only sync acts on them), in scope only:
  std::size_t missing = 0;     // desired origins naming vendor and region, with no live mapping
  std::size_t mismatched = 0;  // live mappings whose vendor or region differs from the desired
  std::size_t mismatched_addresses = 0;  // distinct addresses behind `mismatched`
  // What the policy asks for. Deletes: live IPs in listing order, as the API spelled them (so
  // that each addresses the live record it came from); one entry per RFC 5952 address:
  // "2001:DB8::1" and "2001:db8::1" are one record, but "::ffff:10.0.0.9" and "10.0.0.9" may be
  // two, and both are sent. Creates (in desired order) and updates (in listing order, one per
  // RFC 5952 spelling) only under sync.
  ChangeSet changes;
};

// deletes = live - desired, restricted to manage_cidrs when the zone has any. Both sides are
// compared in canonical origin form (ip.h): a live "::ffff:10.0.0.1" is the desired 10.0.0.1
// and is kept. An IP listed twice in `live` appears once in the deletes.
// Under kSync, in scope as well: a desired origin naming vendor and region that has no live
// mapping is created (its canonical origin form); a live mapping of a desired origin naming
// vendor and region, with another vendor or region, is updated (the live spelling, the desired
// vendor and region). A desired origin without them is kept if present, never created.
ZonePlan plan_zone(const std::vector<Mapping>& live, const DesiredZone& desired, Policy policy);

struct GuardDecision {
  bool blocked = false;
  std::string reason;  // for the log, when blocked
};

// The safety guard: in a zone with at least `kGuardMinLive` distinct live addresses, a plan
// deleting more than `max_fraction` of the distinct in-scope live addresses is blocked unless
// forced. A mass deletion is far more often a broken desired state than a real
// decommissioning. Counting distinct, parseable, in-scope addresses means a listing padded with
// repeats, junk or out-of-scope entries cannot dilute the fraction.
inline constexpr std::size_t kGuardMinLive = 10;
GuardDecision check_safety(const ZonePlan& plan, double max_fraction, bool force);

// The update guard, the same way: in a zone with at least `kGuardMinLive` distinct live
// addresses, a plan updating more than `max_fraction` of the distinct in-scope live addresses
// is blocked unless forced. Creates are never blocked: they add, they do not take away.
GuardDecision check_update_safety(const ZonePlan& plan, double max_fraction, bool force);

// Takes out of the creates and updates every mapping whose vendor and region `regions` does
// not list, and returns them (in plan order, creates first): they are reported, not sent.
std::vector<Mapping> hold_back_unsupported(ChangeSet& changes, const SupportedRegions& regions);

// Takes every create and update out of the change set and returns them (creates first, the
// updates' desired mappings after): held back when the zone's supported regions are unknown.
std::vector<Mapping> hold_back_all_upserts(ChangeSet& changes);

// Cloudflare's limit: a zone holds at most this many mappings. A batch upsert that would take
// the zone past it is refused (code 1164).
inline constexpr std::size_t kZoneMappingLimit = 3500;

// One request of a zone's change set.
struct Batch {
  enum class Kind { kUpsert, kDelete };
  Kind kind = Kind::kUpsert;
  std::vector<Mapping> upserts;      // kUpsert: creates first, then updates
  std::vector<std::string> deletes;  // kDelete
  std::size_t creates = 0;           // kUpsert: how many of `upserts` add a mapping
  friend bool operator==(const Batch&, const Batch&) = default;
};

// The order in which a zone's change set is sent: batches of at most `batch_size` (>= 1), as
// few as possible. Upserts go first (creates, then updates), deletes after them, so that a
// refused upsert (a wrong region, a token without write access) stops the zone before anything
// is taken away. The exception is room: a batch of creates that would take the zone (holding
// `live` mappings as listed) past `limit` is preceded by as many delete batches as it takes to
// make room, because the API refuses it otherwise and the zone could never converge. When the
// deletes cannot make enough room the batch is still sent (the API decides).
std::vector<Batch> schedule_batches(const ChangeSet& changes, std::size_t live,
                                    std::size_t batch_size, std::size_t limit = kZoneMappingLimit);

// Splits `items` into consecutive chunks of at most `size` (>= 1) items, in order, using as
// few chunks as possible.
template <class T>
std::vector<std::vector<T>> chunk(const std::vector<T>& items, std::size_t size) {
  if (size == 0) throw std::invalid_argument("chunk size must be at least 1");
  std::vector<std::vector<T>> out;
  out.reserve((items.size() + size - 1) / size);
  for (std::size_t i = 0; i < items.size(); i += size) {
    const std::size_t end = std::min(items.size(), i + size);
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

}  // namespace orc
