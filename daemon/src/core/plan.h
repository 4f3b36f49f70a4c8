// The plan: which live mappings of a zone are stale. Pure functions over values, no I/O,
// no clock, no metrics (external-dns's plan/ is the model). Policies (the safety guard) are
// separate functions applied to a plan.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/api.h"
#include "core/desired_state.h"

namespace orc {

struct ZonePlan {
  std::size_t live = 0;                // live mappings listed (entries, as the API gave them)
  std::size_t desired = 0;             // origins the desired state keeps
  std::size_t out_of_scope = 0;        // live, not desired, but outside manage_cidrs: left alone
  std::size_t unparseable = 0;         // live IPs that are not addresses: never deleted
  std::size_t live_addresses = 0;      // distinct parseable live addresses (canonical origin form)
  std::size_t in_scope_addresses = 0;  // of those, inside manage_cidrs (all without manage_cidrs)
  std::size_t stale_addresses = 0;     // distinct addresses behind `stale`
  // Live IPs to delete, in listing order, as the API spelled them (so that each addresses the
  // live record it came from). One entry per RFC 5952 address: "2001:DB8::1" and "2001:db8::1"
  // are one record, but "::ffff:10.0.0.9" and "10.0.0.9" may be two, and both are sent.
  std::vector<std::string> stale;
};

// stale = live - desired, restricted to manage_cidrs when the zone has any. Both sides are
// compared in canonical origin form (ip.h): a live "::ffff:10.0.0.1" is the desired 10.0.0.1
// and is kept. An IP listed twice in `live` appears once in `stale`.
ZonePlan plan_zone(const std::vector<Mapping>& live, const DesiredZone& desired);

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

// Splits `items` into consecutive chunks of at most `size` (>= 1) items, in order, using as
// few chunks as possible.
std::vector<std::vector<std::string>> chunk(const std::vector<std::string>& items,
                                            std::size_t size);

}  // namespace orc
