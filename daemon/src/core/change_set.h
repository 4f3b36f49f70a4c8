// The change set of one zone: what a plan asks the API to do, in external-dns's shape
// (plan/plan.go). Creates and updates are sent through the API's batch upsert, deletes through
// its batch delete, in the order schedule_batches (plan.h) gives. Plain values, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/api.h"

namespace orc {

// A live mapping whose vendor or region differs from the desired origin naming them.
struct MappingUpdate {
  Mapping from;  // as listed (ip spelled as the API spelled it)
  Mapping to;    // as desired (same ip as `from`)
  friend bool operator==(const MappingUpdate&, const MappingUpdate&) = default;
};

struct ChangeSet {
  std::vector<Mapping> creates;        // desired origins with vendor and region, not live
  std::vector<MappingUpdate> updates;  // live, desired with another vendor or region
  // Live IPs to delete, in listing order, as the API spelled them (so that each addresses
  // the live record it came from).
  std::vector<std::string> deletes;

  bool empty() const { return creates.empty() && updates.empty() && deletes.empty(); }
  std::size_t upserts() const { return creates.size() + updates.size(); }
  friend bool operator==(const ChangeSet&, const ChangeSet&) = default;
};

}  // namespace orc
