#include "reconcile/zone_directory.h"

#include <unordered_map>

#include "base/source_text.h"

namespace orc {
namespace {

Status name_error(const DesiredZone& z, const std::string& why) {
  return Error{z.name_at + ": zone '" + shown(*z.zone_name) + "': " + why};
}

}  // namespace

Status resolve_zone_names(DesiredState& state, ZoneDirectory& directory, ZoneNameCache& cache) {
  std::vector<std::string> ids(state.zones.size());
  for (std::size_t i = 0; i < state.zones.size(); ++i) {
    const DesiredZone& z = state.zones[i];
    if (!z.zone_name) {
      ids[i] = z.zone_id;
      continue;
    }
    if (auto it = cache.find(*z.zone_name); it != cache.end()) {
      ids[i] = it->second;
      continue;
    }
    auto found = directory.zones_named(*z.zone_name);
    if (!found.ok()) {
      const ApiError& e = found.error();
      if (e.http_status == 401 || e.http_status == 403) {
        return name_error(z, "the API token may not read zones (" + e.describe() +
                                 "); grant it Zone:Read, or write the zone's zone_id instead");
      }
      return name_error(z, "could not look the name up: " + e.describe());
    }
    const auto& zones = found.value();
    if (zones.empty()) {
      return name_error(z, "no zone of that name can be read with this API token");
    }
    if (zones.size() > 1) {
      std::string list;
      for (const auto& ref : zones) list += (list.empty() ? "" : ", ") + ref.id;
      return name_error(z, "the name belongs to " + std::to_string(zones.size()) + " zones (" +
                               list + "); write the zone_id of the one to manage instead");
    }
    ids[i] = zones.front().id;
    cache.emplace(*z.zone_name, ids[i]);
  }
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto [it, inserted] = seen.try_emplace(ids[i], i);
    if (inserted) continue;
    // The entry written by name is the one to report (both may be).
    const bool again_named = state.zones[i].zone_name.has_value();
    const DesiredZone& named = state.zones[again_named ? i : it->second];
    const std::size_t other = again_named ? it->second : i;
    return name_error(
        named, "is zone " + ids[i] + ", which zones[" + std::to_string(other) + "] lists as well");
  }
  for (std::size_t i = 0; i < ids.size(); ++i) state.zones[i].zone_id = ids[i];
  return ok_status();
}

}  // namespace orc
