#include "api.h"

#include <iterator>
#include <variant>

#include "envelope.h"
#include "paging.h"

namespace standin {
namespace {

using nlohmann::json;

OpResult fail(int http_status, int code, std::string message) {
  const ApiError error{http_status, code, std::move(message)};
  return {http_status, error_envelope(error), 0, 0};
}
OpResult fail(const ApiError& error) {
  return {error.http_status, error_envelope(error), 0, 0};
}

OpResult bad_request(const std::string& why) {
  return fail(400, 1004, why);
}

// The schema's code for an invalid or missing origin IP (1146 in both generations).
OpResult invalid_ip(const std::string& ip) {
  return fail(400, 1146, "Invalid or missing origin IP address \"" + ip + "\"");
}

OpResult no_setting() {
  return fail(404, 1142,
              "Unable to retrieve origin_public_cloud_region setting value. The zone setting "
              "does not exist.");
}

// "No mapping for that IP": code 1142 in the schema's examples (generation 2, and generation
// 1's get), 1163 in generation 1's delete description.
OpResult no_mapping(const std::string& ip, int code) {
  return fail(404, code, "No origin cloud region mapping exists for origin IP " + ip);
}

constexpr int kCodeNoSetting = 1142;
constexpr int kCodeNoMapping = 1163;
constexpr int kCodeExists = 1145;
constexpr int kCodeIpMismatch = 1146;
constexpr int kCodeInvalidVendorRegion = 1157;

// Why a single write is refused: the IP (1146) or the vendor or region (1157).
OpResult invalid_write(const MappingInput& input, const std::string& error) {
  if (error == kInvalidIp) return invalid_ip(input.ip);
  return fail(400, kCodeInvalidVendorRegion, error);
}

bool is_v1(const Route& route) {
  return route.flavor == ApiFlavor::kCacheV1;
}

const Zone* find_zone(const Store& store, const std::string& id) {
  auto it = store.find(id);
  return it == store.end() ? nullptr : &it->second;
}

json all_mappings(const Zone* zone, ApiFlavor flavor) {
  json arr = json::array();
  if (zone == nullptr) return arr;
  for (const auto& [addr, m] : zone->mappings) arr.push_back(mapping_json(m, flavor));
  return arr;
}

// An empty zone: 200 with "value": [] and "modified_on": null (the schema), or 404 code 1142
// with the seed documents' quirk.
OpResult list_v1(const Store& store, const Route& route, const Quirks& quirks) {
  const Zone* zone = find_zone(store, route.zone);
  if (zone == nullptr && quirks.v1_empty_zone_404) return no_setting();
  const auto modified = zone ? zone->modified_on : std::nullopt;
  return {200, success_envelope(setting(modified, all_mappings(zone, *route.flavor)))};
}

OpResult list_v2(const Store& store, const Route& route, const QueryParams& query) {
  auto request = parse_page_request(query);
  if (!request) return bad_request(request.error);
  const Zone* zone = find_zone(store, route.zone);
  const std::size_t total = zone ? zone->mappings.size() : 0;
  const Page page = page_bounds(total, *request.value);

  json items = json::array();
  if (zone != nullptr) {
    auto it = std::next(zone->mappings.begin(), static_cast<std::ptrdiff_t>(page.begin));
    for (auto i = page.begin; i < page.end; ++i, ++it) {
      items.push_back(mapping_json(it->second, *route.flavor));
    }
  }
  json envelope = success_envelope(std::move(items));
  envelope["result_info"] = result_info(*request.value, page, total);
  return {200, std::move(envelope)};
}

// Absent (no mapping for the IP, or none in the zone): 404 code 1142 in both generations.
OpResult get_one(const Store& store, const Route& route) {
  auto addr = orc::parse_ip(route.ip);
  if (!addr) return invalid_ip(route.ip);
  const Zone* zone = find_zone(store, route.zone);
  if (zone == nullptr && is_v1(route)) return no_setting();
  if (zone == nullptr || !zone->mappings.contains(*addr)) {
    return no_mapping(orc::to_string(*addr), kCodeNoSetting);
  }

  json mapping = mapping_json(zone->mappings.at(*addr), *route.flavor);
  if (!is_v1(route)) return {200, success_envelope(std::move(mapping))};
  return {200, success_envelope(setting(zone->modified_on, std::move(mapping)))};
}

OpResult delete_one(Store& store, const Route& route, orc::WallTime now) {
  auto addr = orc::parse_ip(route.ip);
  if (!addr) return invalid_ip(route.ip);
  // Absent: generation 2 answers 404 code 1142; generation 1 1163, or 1142 (the setting does
  // not exist, as the seed document shows) for a zone without mappings.
  auto zone_it = store.find(route.zone);
  if (zone_it == store.end() || !zone_it->second.mappings.contains(*addr)) {
    OpResult r =
        (is_v1(route) && zone_it == store.end())
            ? no_setting()
            : no_mapping(orc::to_string(*addr), is_v1(route) ? kCodeNoMapping : kCodeNoSetting);
    r.failed = 1;
    return r;
  }
  auto& mappings = zone_it->second.mappings;
  const Mapping deleted = mappings.at(*addr);
  mappings.erase(*addr);
  zone_it->second.modified_on = now;
  drop_if_empty(store, route.zone);

  json result = is_v1(route) ? setting(now, mapping_json(deleted, *route.flavor))
                             : json{{ip_key(*route.flavor), deleted.ip}};
  return {200, success_envelope(std::move(result)), 1, 0};
}

// The batch result: generation 1 wraps it in the setting object.
OpResult batch_answer(const Route& route, const BatchOutcome& outcome, orc::WallTime now) {
  json value = outcome_json(outcome, *route.flavor);
  if (is_v1(route)) {
    std::optional<orc::WallTime> modified;
    if (!outcome.succeeded.empty()) modified = now;
    value = setting(modified, std::move(value));
  }
  return {200, success_envelope(std::move(value)), static_cast<int>(outcome.succeeded.size()),
          static_cast<int>(outcome.failed.size())};
}

OpResult batch_delete(Store& store, const Route& route, std::string_view body,
                      const ForcedFailures& forced, orc::WallTime now) {
  auto ips = parse_ip_list(body);
  if (!ips) return bad_request(ips.error);
  const BatchOutcome outcome = delete_batch(store[route.zone], *ips.value, forced, now);
  drop_if_empty(store, route.zone);
  return batch_answer(route, outcome, now);
}

OpResult batch_upsert(Store& store, const Route& route, std::string_view body,
                      const ForcedFailures& forced, orc::WallTime now) {
  auto items = parse_mapping_list(body, is_v1(route) ? "ip" : "origin_ip");
  if (!items) return bad_request(items.error);
  auto outcome = upsert_batch(store[route.zone], *items.value, now, forced);
  drop_if_empty(store, route.zone);
  if (const auto* error = std::get_if<ApiError>(&outcome)) return fail(*error);
  return batch_answer(route, std::get<BatchOutcome>(outcome), now);
}

// Generation 2 names the IP in the path and requires it in the body as "origin_ip" too (the
// schema marks it required); the two must agree (400 code 1146 otherwise).
std::variant<MappingInput, OpResult> upsert_input(const Route& route, std::string_view body) {
  if (is_v1(route)) {
    auto input = parse_mapping(body, "ip", /*ip_required=*/true);
    if (!input) return bad_request(input.error);
    return *input.value;
  }
  auto input = parse_mapping(body, "origin_ip", /*ip_required=*/false);
  if (!input) return bad_request(input.error);
  if (input.value->ip.empty()) {
    return fail(400, kCodeIpMismatch,
                "Invalid or missing origin IP address: origin_ip is required");
  }
  auto in_body = orc::canonicalize_ip(input.value->ip);
  if (!in_body) return invalid_ip(input.value->ip);
  if (in_body != orc::canonicalize_ip(route.ip)) {
    return fail(400, kCodeIpMismatch,
                "origin_ip in the body (" + input.value->ip + ") does not match the path (" +
                    route.ip + ")");
  }
  input.value->ip = route.ip;
  return *input.value;
}

// Generation 1's create: like upsert one, but an IP that already has a mapping is refused
// (400 code 1145); the result is the new mapping.
OpResult create_one(Store& store, const Route& route, std::string_view body, orc::WallTime now) {
  auto input = parse_mapping(body, "ip", /*ip_required=*/true);
  if (!input) return bad_request(input.error);
  auto addr = validate_write(*input.value);
  if (!addr) return invalid_write(*input.value, addr.error);

  Zone& zone = store[route.zone];
  if (zone.mappings.contains(*addr.value)) {
    return fail(400, kCodeExists,
                "A mapping for origin IP " + orc::to_string(*addr.value) +
                    " already exists; use PATCH to update it");
  }
  if (zone.mappings.size() >= kMaxMappingsPerZone) return fail(zone_limit_error(403));
  const Mapping& m = zone.mappings[*addr.value] = {orc::to_string(*addr.value), input.value->vendor,
                                                   input.value->region, now};
  zone.modified_on = now;
  return {200, success_envelope(setting(now, mapping_json(m, *route.flavor))), 1, 0};
}

OpResult upsert_one(Store& store, const Route& route, std::string_view body, orc::WallTime now) {
  auto parsed = upsert_input(route, body);
  if (auto* refused = std::get_if<OpResult>(&parsed)) return std::move(*refused);
  const auto& input = std::get<MappingInput>(parsed);
  auto addr = validate_write(input);
  if (!addr) return invalid_write(input, addr.error);

  auto zone_it = store.find(route.zone);
  const std::size_t held = zone_it == store.end() ? 0 : zone_it->second.mappings.size();
  const bool known = zone_it != store.end() && zone_it->second.mappings.contains(*addr.value);
  if (!known && held >= kMaxMappingsPerZone) return fail(zone_limit_error(403));
  Zone& zone = store[route.zone];
  const Mapping& m =
      zone.mappings[*addr.value] = {orc::to_string(*addr.value), input.vendor, input.region, now};
  zone.modified_on = now;
  json result = is_v1(route) ? setting(now, all_mappings(&zone, *route.flavor))
                             : mapping_json(m, *route.flavor);
  return {200, success_envelope(std::move(result)), 1, 0};
}

// Flat in both generations.
OpResult regions() {
  return {200, success_envelope(supported_regions())};
}

void add_string(std::vector<std::string>& out, const json& value) {
  if (value.is_string()) out.push_back(value.get<std::string>());
}

}  // namespace

OpResult list_zones(const ZoneNames& zones, const QueryParams& query, bool deny) {
  if (deny) return fail(403, 9109, "Unauthorized to access requested resource");
  PageRequest request;
  if (auto it = query.find("page"); it != query.end()) {
    auto parsed = parse_page_request({{"page", it->second}});
    if (!parsed) return bad_request(parsed.error);
    request.page = parsed.value->page;
  }
  if (auto it = query.find("per_page"); it != query.end()) {
    auto parsed = parse_page_request({{"per_page", it->second}});
    if (!parsed || parsed.value->per_page < 5 || parsed.value->per_page > 50) {
      return bad_request("per_page must be a whole number from 5 to 50");
    }
    request.per_page = parsed.value->per_page;
  }
  const auto name = query.find("name");
  json matching = json::array();
  for (const auto& [id, zone_name] : zones) {
    if (name != query.end() && zone_name != name->second) continue;
    matching.push_back({{"id", id}, {"name", zone_name}, {"status", "active"}});
  }
  const Page page = page_bounds(matching.size(), request);
  json items = json::array();
  for (auto i = page.begin; i < page.end; ++i) items.push_back(matching[i]);
  json envelope = success_envelope(std::move(items));
  envelope["result_info"] = result_info(request, page, matching.size());
  return {200, std::move(envelope)};
}

OpResult run_operation(Store& store, const Route& route, const QueryParams& query,
                       std::string_view body, const ForcedFailures& forced, orc::WallTime now,
                       const Quirks& quirks) {
  switch (*route.operation) {
    case Operation::kList:
      return is_v1(route) ? list_v1(store, route, quirks) : list_v2(store, route, query);
    case Operation::kGet:
      return get_one(store, route);
    case Operation::kDelete:
      return delete_one(store, route, now);
    case Operation::kBatchDelete:
      return batch_delete(store, route, body, forced, now);
    case Operation::kBatchUpsert:
      return batch_upsert(store, route, body, forced, now);
    case Operation::kUpsert:
      return upsert_one(store, route, body, now);
    case Operation::kSupportedRegions:
      return regions();
    case Operation::kCreate:
      return create_one(store, route, body, now);
    case Operation::kZones:
      break;  // list_zones: the zone list is not a mapping operation
  }
  return bad_request("unsupported operation");
}

std::vector<std::string> request_ips(const Route& route, std::string_view body) {
  std::vector<std::string> ips;
  if (!route.ip.empty()) {
    ips.push_back(route.ip);
    return ips;
  }
  const Operation op = route.operation.value_or(Operation::kList);
  const bool single = op == Operation::kUpsert || op == Operation::kCreate;
  if (op != Operation::kBatchDelete && op != Operation::kBatchUpsert && !single) return ips;
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const std::string key = is_v1(route) ? "ip" : "origin_ip";
  if (single && doc.is_object()) add_string(ips, doc.value(key, json()));
  if (!doc.is_array()) return ips;
  for (const auto& item : doc) {
    if (op == Operation::kBatchDelete) {
      add_string(ips, item);
    } else if (item.is_object()) {
      add_string(ips, item.value(key, json()));
    }
  }
  return ips;
}

}  // namespace standin
