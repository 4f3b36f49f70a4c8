// The change set of one zone: what a plan asks the API to do, in external-dns's shape
// (plan/plan.go). Creates and updates are sent through the API's batch upsert, deletes through
// its batch delete, in the order schedule_batches (plan.h) gives. Plain values, no I/O.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace orc {

// One mapping of an origin IP to a cloud vendor and region.
struct Mapping {
  std::string ip;  // as the API returned it (the API canonicalizes)
  std::string vendor;
  std::string region;
  friend bool operator==(const Mapping&, const Mapping&) = default;
};

// The API's table of regions a mapping may name, by vendor (GET .../supported_regions).
struct SupportedRegions {
  std::map<std::string, std::set<std::string>> by_vendor;
  bool supports(const std::string& vendor, const std::string& region) const {
    auto it = by_vendor.find(vendor);
    return it != by_vendor.end() && it->second.contains(region);
  }
};

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
  // Deletes let go of once sent (release_deletes): counted, no longer listed.
  std::size_t released_deletes = 0;

  // The deletes of the plan, listed or let go of.
  std::size_t delete_count() const { return deletes.size() + released_deletes; }
  bool empty() const { return creates.empty() && updates.empty() && delete_count() == 0; }
  // Keeps the number of deletes, not their IPs: for a zone's report once its deletes were sent,
  // when nothing will list them (a cycle of 1,000 zones keeps 350,000 IPs otherwise).
  void release_deletes() {
    released_deletes += deletes.size();
    std::vector<std::string>().swap(deletes);  // its memory too, not only its elements
  }
  std::size_t upserts() const { return creates.size() + updates.size(); }
  friend bool operator==(const ChangeSet&, const ChangeSet&) = default;
};

}  // namespace orc
