#include "model/desired_state.h"

#include <algorithm>

#include "base/source_text.h"

namespace orc {

std::string zone_label(const DesiredZone& zone) {
  if (!zone.zone_name) return zone.zone_id;
  if (zone.zone_id.empty()) return *zone.zone_name;
  return zone.zone_id + " (" + *zone.zone_name + ")";
}

bool is_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    ++labels;
    start = dot + 1;
  }
  return labels >= 2;
}

namespace {

// Whether `selector` (a zone id in any case, or a zone name) names `zone`.
bool names_zone(std::string selector, const DesiredZone& zone) {
  for (char& c : selector) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return selector == zone.zone_id || (zone.zone_name && selector == *zone.zone_name);
}

// The error for selectors that name no zone of the state: "OPTION 'a', 'b': no such zone in
// FILE (...)", or none when `used` says each named one.
std::optional<Error> unknown_selectors(const std::vector<std::string>& selectors,
                                       const std::vector<bool>& used, const std::string& option,
                                       const std::string& file) {
  std::string unknown;
  for (std::size_t i = 0; i < selectors.size(); ++i) {
    if (used[i]) continue;
    unknown += (unknown.empty() ? "" : ", ") + in_quotes(selectors[i]);
  }
  if (unknown.empty()) return std::nullopt;
  return Error{option + " " + unknown + ": no such zone in " + file +
               " (give a zone_id or zone name it lists)"};
}

}  // namespace

Status select_zones(DesiredState& state, const std::vector<std::string>& selectors,
                    const std::string& file) {
  std::vector<bool> used(selectors.size(), false);
  auto selected = [&](const DesiredZone& z) {
    bool any = false;
    for (std::size_t i = 0; i < selectors.size(); ++i) {
      if (names_zone(selectors[i], z)) used[i] = any = true;
    }
    return any;
  };
  std::vector<DesiredZone> kept;
  for (auto& z : state.zones) {
    if (selected(z)) kept.push_back(std::move(z));
  }
  if (auto unknown = unknown_selectors(selectors, used, "--zone", file)) return *unknown;
  state.zones = std::move(kept);
  return ok_status();
}

StatusOr<std::vector<std::string>> zone_ids_named(const DesiredState& state,
                                                  const std::vector<std::string>& selectors,
                                                  const std::string& option,
                                                  const std::string& file) {
  std::vector<bool> used(selectors.size(), false);
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < selectors.size(); ++i) {
    for (const auto& z : state.zones) {
      if (!names_zone(selectors[i], z)) continue;
      used[i] = true;
      if (std::find(ids.begin(), ids.end(), z.zone_id) == ids.end()) ids.push_back(z.zone_id);
    }
  }
  if (auto unknown = unknown_selectors(selectors, used, option, file)) return *unknown;
  return ids;
}

}  // namespace orc
