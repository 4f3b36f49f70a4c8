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

Status select_zones(DesiredState& state, const std::vector<std::string>& selectors,
                    const std::string& file) {
  std::vector<bool> used(selectors.size(), false);
  auto selected = [&](const DesiredZone& z) {
    bool any = false;
    for (std::size_t i = 0; i < selectors.size(); ++i) {
      std::string s = selectors[i];
      for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      if (s == z.zone_id || (z.zone_name && s == *z.zone_name)) used[i] = any = true;
    }
    return any;
  };
  std::vector<DesiredZone> kept;
  for (auto& z : state.zones) {
    if (selected(z)) kept.push_back(std::move(z));
  }
  std::string unknown;
  for (std::size_t i = 0; i < selectors.size(); ++i) {
    if (used[i]) continue;
    if (!unknown.empty()) unknown += ", ";
    unknown += '\'';
    unknown += shown(selectors[i]);
    unknown += '\'';
  }
  if (!unknown.empty()) {
    return Error{"--zone " + unknown + ": no such zone in " + file +
                 " (give a zone_id or zone name it lists)"};
  }
  state.zones = std::move(kept);
  return ok_status();
}

}  // namespace orc
