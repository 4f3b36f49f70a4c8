#include "seed.h"

#include "batch.h"
#include "json_doc.h"

namespace standin {
namespace {

using nlohmann::json;

std::string add_mapping(Zone& zone, const MappingInput& input, orc::WallTime now) {
  auto addr = validate_item(input);
  if (!addr) return "\"" + input.ip + "\": " + addr.error;
  if (zone.mappings.contains(*addr.value)) {
    return "duplicate IP \"" + input.ip + "\" (" + orc::to_string(*addr.value) + ")";
  }
  if (zone.mappings.size() >= kMaxMappingsPerZone) {
    return "more than " + std::to_string(kMaxMappingsPerZone) +
           " mappings (Cloudflare's zone limit)";
  }
  zone.mappings[*addr.value] = {orc::to_string(*addr.value), input.vendor, input.region, now};
  return {};
}

std::string add_mappings(Zone& zone, const json& list, orc::WallTime now) {
  if (!list.is_array()) return "mappings must be an array";
  for (const auto& obj : list) {
    auto input = mapping_from_json(obj, "ip", /*ip_required=*/true);
    if (!input) return input.error;
    if (auto problem = add_mapping(zone, *input.value, now); !problem.empty()) return problem;
  }
  return {};
}

// Adds 1 to the address as a big-endian number; false when it wraps past the last address.
bool increment(orc::IpAddress& addr) {
  for (std::size_t i = addr.size(); i-- > 0;) {
    if (++addr.bytes[i] != 0) return true;
  }
  return false;
}

std::string add_generated(Zone& zone, const json& gen, orc::WallTime now) {
  if (!gen.is_object()) return "generate must be an object";
  const auto count = gen.value("count", json());
  const auto start = gen.value("start", json());
  if (!count.is_number_integer() || count < 0 || count > kMaxMappingsPerZone) {
    return "generate.count must be a whole number from 0 to " + std::to_string(kMaxMappingsPerZone);
  }
  auto addr = start.is_string() ? orc::parse_ip(start.get<std::string>()) : std::nullopt;
  if (!addr) return "generate.start must be an IP address";
  // The generator names its first address "start"; otherwise it reads like a mapping.
  auto input = mapping_from_json(gen, "start", /*ip_required=*/true);
  if (!input) return "generate: " + input.error;

  for (int i = 0; i < count.get<int>(); ++i) {
    if (i > 0 && !increment(*addr)) return "generate: addresses run past the last address";
    input.value->ip = orc::to_string(*addr);
    if (auto problem = add_mapping(zone, *input.value, now); !problem.empty()) {
      return "generate: " + problem;
    }
  }
  return {};
}

std::string fill_zone(Zone& zone, const json& spec, orc::WallTime now) {
  if (spec.is_array()) return add_mappings(zone, spec, now);
  if (!spec.is_object()) return "must be an array of mappings or {\"generate\", \"mappings\"}";
  for (const auto& [key, value] : spec.items()) {
    if (key != "generate" && key != "mappings") return "unknown field \"" + key + "\"";
  }
  if (spec.contains("generate")) {
    if (auto problem = add_generated(zone, spec.at("generate"), now); !problem.empty()) {
      return problem;
    }
  }
  if (spec.contains("mappings")) return add_mappings(zone, spec.at("mappings"), now);
  return {};
}

}  // namespace

Parsed<Store> parse_seed(const json& doc, orc::WallTime now) {
  using Result = Parsed<Store>;
  const auto zones = sole_field(doc, "zones", json::value_t::object,
                                "a seed must be a JSON object {\"zones\": {...}}");
  if (!zones) return Result::fail(zones.error);
  Store store;
  for (const auto& [zone_id, spec] : (*zones.value)->items()) {
    if (!is_valid_zone_id(zone_id)) {
      return Result::fail("zone \"" + zone_id + "\": not a zone id (32 lower-case hex characters)");
    }
    Zone zone;
    if (auto problem = fill_zone(zone, spec, now); !problem.empty()) {
      return Result::fail("zone " + zone_id + ": " + problem);
    }
    if (zone.mappings.empty()) continue;
    zone.modified_on = now;
    store.emplace(zone_id, std::move(zone));
  }
  return Result::ok(std::move(store));
}

json state_json(const Store& store) {
  json zones = json::object();
  for (const auto& [zone_id, zone] : store) {
    json list = json::array();
    for (const auto& [addr, m] : zone.mappings) {
      list.push_back({{"ip", m.ip}, {"vendor", m.vendor}, {"region", m.region}});
    }
    zones[zone_id] = std::move(list);
  }
  return {{"zones", std::move(zones)}};
}

}  // namespace standin
