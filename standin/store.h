// The stand-in's data model: per zone, an ordered set of origin IP -> cloud region mappings.
// Ordering by address (IPv4 before IPv6, then numerically) keeps list order and paging stable.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"  // orc::WallTime
#include "model/ip.h"

namespace standin {

inline constexpr std::size_t kMaxMappingsPerZone = 3500;  // Cloudflare's zone limit
inline constexpr std::size_t kMaxBatchItems = 100;        // per batch request

// 32 lower-case hex characters.
bool is_valid_zone_id(std::string_view zone);
// aws | azure | gcp | oci
bool is_valid_vendor(std::string_view vendor);
inline constexpr std::string_view kVendorList = "aws, azure, gcp, oci";

struct Mapping {
  std::string ip;  // canonical text
  std::string vendor;
  std::string region;
  orc::WallTime modified_on;
};

struct IpLess {
  bool operator()(const orc::IpAddress& a, const orc::IpAddress& b) const;
};

struct Zone {
  std::map<orc::IpAddress, Mapping, IpLess> mappings;
  std::optional<orc::WallTime> modified_on;  // the last change to this zone's mappings
};

// Zone id -> zone. A zone without mappings is not kept: like Cloudflare's setting record,
// it disappears with its last mapping.
using Store = std::map<std::string, Zone>;

std::size_t count_mappings(const Store& store);

// Removes the zone when it has no mappings left.
void drop_if_empty(Store& store, const std::string& zone_id);

}  // namespace standin
