// The plan: which live mappings of a zone are stale. Pure functions over values, no I/O,
// no clock, no metrics (external-dns's plan/ is the model). Policies (the safety guard) are
// separate functions applied to a plan.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "api.h"
#include "desired_state.h"

namespace orc {

struct ZonePlan {
  std::size_t live = 0;            // live mappings listed
  std::size_t desired = 0;         // origins the desired state keeps
  std::size_t out_of_scope = 0;    // live, not desired, but outside manage_cidrs: left alone
  std::size_t unparseable = 0;     // live IPs that are not addresses: never deleted
  std::vector<std::string> stale;  // live IPs to delete, in listing order, as the API spelled them
};

// stale = live - desired, restricted to manage_cidrs when the zone has any. Both sides are
// compared in canonical form. An IP listed twice in `live` appears once in `stale`.
ZonePlan plan_zone(const std::vector<Mapping>& live, const DesiredZone& desired);

struct GuardDecision {
  bool blocked = false;
  std::string reason;  // for the log, when blocked
};

// The safety guard: with at least `kGuardMinLive` live mappings, a plan deleting more than
// `max_fraction` of them is blocked unless forced. A mass deletion is far more often a broken
// desired state than a real decommissioning.
inline constexpr std::size_t kGuardMinLive = 10;
GuardDecision check_safety(const ZonePlan& plan, double max_fraction, bool force);

// Splits `items` into consecutive chunks of at most `size` (>= 1) items, in order, using as
// few chunks as possible.
std::vector<std::vector<std::string>> chunk(const std::vector<std::string>& items,
                                            std::size_t size);

}  // namespace orc
