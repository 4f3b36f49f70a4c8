#include "batch.h"

#include <set>

#include <nlohmann/json.hpp>

#include "envelope.h"

namespace standin {
namespace {

using nlohmann::json;

Parsed<json> parse_json(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Parsed<json>::fail("request body is not valid JSON");
  return Parsed<json>::ok(std::move(doc));
}

// Checks the array shape shared by both batch bodies.
std::string batch_array_problem(const json& doc) {
  if (!doc.is_array()) return "request body must be a JSON array";
  if (doc.empty()) return "request body must not be an empty array";
  if (doc.size() > kMaxBatchItems) {
    return "too many items: " + std::to_string(doc.size()) + " (at most " +
           std::to_string(kMaxBatchItems) + " per request)";
  }
  return {};
}

// `before"key"after`, built by appending only. `"literal" + std::string(key)` inserts at the
// front of the temporary, and GCC 12 at -O3 reports a false -Wrestrict there (GCC bug 105329).
std::string quoting(std::string_view before, std::string_view key, std::string_view after) {
  std::string out;
  out.reserve(before.size() + key.size() + after.size() + 2);
  out.append(before).append(1, '"').append(key).append(1, '"').append(after);
  return out;
}

Parsed<std::string> string_field(const json& obj, std::string_view key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Parsed<std::string>::fail(quoting("missing ", key, ""));
    return Parsed<std::string>::ok({});
  }
  if (!it->is_string()) {
    return Parsed<std::string>::fail(quoting("", key, " must be a string"));
  }
  return Parsed<std::string>::ok(it->get<std::string>());
}

}  // namespace

Parsed<MappingInput> mapping_from_json(const json& obj, std::string_view ip_key, bool ip_required) {
  if (!obj.is_object()) return Parsed<MappingInput>::fail("each mapping must be a JSON object");
  auto ip = string_field(obj, ip_key, ip_required);
  auto vendor = string_field(obj, "vendor", true);
  auto region = string_field(obj, "region", true);
  for (const auto* field : {&ip, &vendor, &region}) {
    if (!*field) return Parsed<MappingInput>::fail(field->error);
  }
  return Parsed<MappingInput>::ok({*ip.value, *vendor.value, *region.value});
}

Parsed<std::vector<std::string>> parse_ip_list(std::string_view body) {
  using Result = Parsed<std::vector<std::string>>;
  auto doc = parse_json(body);
  if (!doc) return Result::fail(doc.error);
  if (auto problem = batch_array_problem(*doc.value); !problem.empty()) {
    return Result::fail(problem);
  }
  std::vector<std::string> ips;
  for (const auto& item : *doc.value) {
    if (!item.is_string()) return Result::fail("request body must be an array of IP strings");
    ips.push_back(item.get<std::string>());
  }
  return Result::ok(std::move(ips));
}

Parsed<std::vector<MappingInput>> parse_mapping_list(std::string_view body,
                                                     std::string_view ip_key) {
  using Result = Parsed<std::vector<MappingInput>>;
  auto doc = parse_json(body);
  if (!doc) return Result::fail(doc.error);
  if (auto problem = batch_array_problem(*doc.value); !problem.empty()) {
    return Result::fail(problem);
  }
  std::vector<MappingInput> items;
  for (const auto& obj : *doc.value) {
    auto item = mapping_from_json(obj, ip_key, /*ip_required=*/true);
    if (!item) return Result::fail(item.error);
    items.push_back(std::move(*item.value));
  }
  return Result::ok(std::move(items));
}

Parsed<MappingInput> parse_mapping(std::string_view body, std::string_view ip_key,
                                   bool ip_required) {
  auto doc = parse_json(body);
  if (!doc) return Parsed<MappingInput>::fail(doc.error);
  return mapping_from_json(*doc.value, ip_key, ip_required);
}

Parsed<orc::IpAddress> validate_item(const MappingInput& item) {
  using Result = Parsed<orc::IpAddress>;
  auto addr = orc::parse_ip(item.ip);
  if (!addr) return Result::fail(std::string(kInvalidIp));
  if (!is_valid_vendor(item.vendor)) {
    return Result::fail("invalid vendor \"" + item.vendor + "\" (one of " +
                        std::string(kVendorList) + ")");
  }
  if (item.region.empty()) return Result::fail("region must not be empty");
  return Result::ok(*addr);
}

Parsed<orc::IpAddress> validate_write(const MappingInput& item) {
  auto addr = validate_item(item);
  if (!addr) return addr;
  const json table = supported_regions();
  for (const auto& region : table.at("vendors").at(item.vendor)) {
    if (region.at("name") == item.region) return addr;
  }
  return Parsed<orc::IpAddress>::fail("region \"" + item.region +
                                      "\" is not supported for vendor " + item.vendor +
                                      " (see supported_regions)");
}

BatchOutcome delete_batch(Zone& zone, const std::vector<std::string>& ips,
                          const ForcedFailures& forced, orc::WallTime now) {
  BatchOutcome out;
  for (const auto& text : ips) {
    auto addr = orc::parse_ip(text);
    if (!addr) {
      out.failed.push_back({text, {}, {}, std::string(kInvalidIp)});
      continue;
    }
    const std::string ip = orc::to_string(*addr);
    if (auto f = forced.find(ip); f != forced.end()) {
      out.failed.push_back({ip, {}, {}, f->second});
      continue;
    }
    auto it = zone.mappings.find(*addr);
    if (it == zone.mappings.end()) {
      out.failed.push_back({ip, {}, {}, std::string(kNotFound)});
      continue;
    }
    out.succeeded.push_back({ip, it->second.vendor, it->second.region, {}});
    zone.mappings.erase(it);
  }
  if (!out.succeeded.empty()) zone.modified_on = now;
  return out;
}

std::variant<BatchOutcome, ApiError> upsert_batch(Zone& zone,
                                                  const std::vector<MappingInput>& items,
                                                  orc::WallTime now, const ForcedFailures& forced) {
  BatchOutcome out;
  std::vector<std::pair<orc::IpAddress, const MappingInput*>> valid;
  std::set<orc::IpAddress, IpLess> fresh;
  for (const auto& item : items) {
    auto addr = validate_write(item);
    if (!addr) {
      auto ip = orc::canonicalize_ip(item.ip).value_or(item.ip);
      out.failed.push_back({std::move(ip), item.vendor, item.region, addr.error});
      continue;
    }
    if (auto f = forced.find(orc::to_string(*addr.value)); f != forced.end()) {
      out.failed.push_back({f->first, item.vendor, item.region, f->second});
      continue;
    }
    valid.emplace_back(*addr.value, &item);
    if (!zone.mappings.contains(*addr.value)) fresh.insert(*addr.value);
  }
  if (zone.mappings.size() + fresh.size() > kMaxMappingsPerZone) return zone_limit_error();

  for (const auto& [addr, item] : valid) {
    Mapping m{orc::to_string(addr), item->vendor, item->region, now};
    out.succeeded.push_back({m.ip, m.vendor, m.region, {}});
    zone.mappings[addr] = std::move(m);
  }
  if (!out.succeeded.empty()) zone.modified_on = now;
  return out;
}

ApiError zone_limit_error(int http_status) {
  return {http_status, 1164,
          "Zone limit reached: a zone holds at most " + std::to_string(kMaxMappingsPerZone) +
              " origin cloud region mappings."};
}

}  // namespace standin
