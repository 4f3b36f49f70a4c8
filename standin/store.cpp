#include "store.h"

#include <algorithm>
#include <array>

namespace standin {

bool is_valid_zone_id(std::string_view zone) {
  return zone.size() == 32 && std::all_of(zone.begin(), zone.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_valid_vendor(std::string_view vendor) {
  constexpr std::array<std::string_view, 4> kVendors = {"aws", "azure", "gcp", "oci"};
  return std::find(kVendors.begin(), kVendors.end(), vendor) != kVendors.end();
}

bool IpLess::operator()(const orc::IpAddress& a, const orc::IpAddress& b) const {
  if (a.family != b.family) return a.family < b.family;
  return a.bytes < b.bytes;
}

std::size_t count_mappings(const Store& store) {
  std::size_t n = 0;
  for (const auto& [id, zone] : store) n += zone.mappings.size();
  return n;
}

void drop_if_empty(Store& store, const std::string& zone_id) {
  auto it = store.find(zone_id);
  if (it != store.end() && it->second.mappings.empty()) store.erase(it);
}

}  // namespace standin
