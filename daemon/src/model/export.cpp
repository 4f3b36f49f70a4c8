#include "model/export.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <tuple>

#include "base/source_text.h"
#include "model/ip.h"

namespace orc {
namespace {

bool is_vendor(const std::string& v) {
  return v == "aws" || v == "azure" || v == "gcp" || v == "oci";
}

// A YAML double-quoted scalar (JSON's string syntax is a subset of YAML's).
std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Address order: IPv4 before IPv6, then by bytes.
struct AddressLess {
  bool operator()(const IpAddress& a, const IpAddress& b) const {
    return std::tie(a.family, a.bytes) < std::tie(b.family, b.bytes);
  }
};

struct Origin {
  const Mapping* first = nullptr;  // the record written
  std::size_t records = 0;
};

void write_zone(const ExportedZone& zone, ExportText& out) {
  std::map<IpAddress, Origin, AddressLess> origins;
  std::size_t not_addresses = 0;
  for (const Mapping& m : zone.mappings) {
    const auto ip = parse_ip(m.ip);
    if (!ip) {
      ++not_addresses;
      continue;
    }
    Origin& o = origins[unmapped(*ip)];
    // The record in canonical form wins over another spelling of the same origin.
    if (o.first == nullptr || (parse_ip(o.first->ip) != unmapped(*ip) && *ip == unmapped(*ip))) {
      o.first = &m;
    }
    ++o.records;
  }
  const std::string label = "zone " + zone.zone_id;
  if (not_addresses > 0) {
    out.warnings.push_back(label + ": " + std::to_string(not_addresses) +
                           " live mappings have an IP that is not an address; left out (the "
                           "daemon never deletes them)");
  }

  out.text += zone.zone_name ? "  - zone: " + quoted(*zone.zone_name) + "\n"
                             : "  - zone_id: " + zone.zone_id + "\n";
  if (origins.empty()) {
    out.text += "    origins: []\n";
    return;
  }
  out.text += "    origins:\n";
  std::size_t without_region = 0;
  for (const auto& [address, o] : origins) {
    const Mapping& m = *o.first;
    const std::string ip = quoted(to_string(address));
    if (o.records > 1) {
      out.warnings.push_back(label + ": " + to_string(address) + " has " +
                             std::to_string(o.records) +
                             " live records (IPv4 and IPv4-mapped IPv6 spellings); written once "
                             "with the vendor and region of " +
                             shown(m.ip, 64));
    }
    if (!is_vendor(m.vendor) || m.region.empty()) {
      ++without_region;
      out.text += "      - {ip: " + ip + "}\n";
    } else {
      out.text += "      - {ip: " + ip + ", vendor: " + quoted(m.vendor) +
                  ", region: " + quoted(m.region) + "}\n";
    }
    ++out.origins;
  }
  if (without_region > 0) {
    out.warnings.push_back(label + ": " + std::to_string(without_region) +
                           " mappings name a vendor other than aws, azure, gcp or oci, or no "
                           "region; written without vendor and region (kept, never created)");
  }
}

}  // namespace

ExportText format_export(const ExportSource& source, std::vector<ExportedZone> zones) {
  std::sort(zones.begin(), zones.end(),
            [](const ExportedZone& a, const ExportedZone& b) { return a.zone_id < b.zone_id; });
  zones.erase(std::unique(zones.begin(), zones.end(),
                          [](const ExportedZone& a, const ExportedZone& b) {
                            return a.zone_id == b.zone_id;
                          }),
              zones.end());
  ExportText out;
  std::string body;
  {
    ExportText part;
    for (const auto& z : zones) write_zone(z, part);
    body = std::move(part.text);
    out.origins = part.origins;
    out.warnings = std::move(part.warnings);
  }
  out.text = "# Desired state exported by " + source.generator + " on " + source.date + "\n" +
             "# from " + source.api_base + " (" + source.api_flavor +
             "): " + std::to_string(zones.size()) + " zones, " + std::to_string(out.origins) +
             " origins, each with the vendor and region it has now.\n" +
             "# Reconciling against this file changes nothing. Remove an origin to have its\n"
             "# mapping pruned; edit a vendor or region to have it corrected under policy: sync.\n";
  out.text += zones.empty() ? "zones: []\n" : "zones:\n" + body;
  return out;
}

}  // namespace orc
