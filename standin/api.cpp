#include "api.h"

#include <iterator>

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

OpResult invalid_ip(const std::string& ip) {
  return fail(400, 1165, "Invalid origin IP address \"" + ip + "\"");
}

OpResult no_setting() {
  return fail(404, 1142,
              "Unable to retrieve origin_public_cloud_region setting value. The zone setting "
              "does not exist.");
}

OpResult no_mapping(const std::string& ip) {
  return fail(404, 1163, "No origin cloud region mapping exists for origin IP " + ip);
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

OpResult list_v1(const Store& store, const Route& route) {
  const Zone* zone = find_zone(store, route.zone);
  if (zone == nullptr) return no_setting();
  return {200, success_envelope(setting(zone->modified_on, all_mappings(zone, *route.flavor)))};
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

OpResult get_one(const Store& store, const Route& route) {
  auto addr = orc::parse_ip(route.ip);
  if (!addr) return invalid_ip(route.ip);
  const Zone* zone = find_zone(store, route.zone);
  if (zone == nullptr && is_v1(route)) return no_setting();
  if (zone == nullptr || !zone->mappings.contains(*addr)) return no_mapping(orc::to_string(*addr));

  json mapping = mapping_json(zone->mappings.at(*addr), *route.flavor);
  if (!is_v1(route)) return {200, success_envelope(std::move(mapping))};
  return {200, success_envelope(setting(zone->modified_on, std::move(mapping)))};
}

OpResult delete_one(Store& store, const Route& route, orc::WallTime now) {
  auto addr = orc::parse_ip(route.ip);
  if (!addr) return invalid_ip(route.ip);
  auto zone_it = store.find(route.zone);
  if (zone_it == store.end() || !zone_it->second.mappings.contains(*addr)) {
    auto r = no_mapping(orc::to_string(*addr));
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

OpResult batch_upsert(Store& store, const Route& route, std::string_view body, orc::WallTime now) {
  auto items = parse_mapping_list(body, is_v1(route) ? "ip" : "origin_ip");
  if (!items) return bad_request(items.error);
  auto outcome = upsert_batch(store[route.zone], *items.value, now);
  drop_if_empty(store, route.zone);
  if (const auto* error = std::get_if<ApiError>(&outcome)) return fail(*error);
  return batch_answer(route, std::get<BatchOutcome>(outcome), now);
}

// Generation 2 names the IP in the path; a body "origin_ip", when given, must agree with it.
Parsed<MappingInput> upsert_input(const Route& route, std::string_view body) {
  if (is_v1(route)) return parse_mapping(body, "ip", /*ip_required=*/true);
  auto input = parse_mapping(body, "origin_ip", /*ip_required=*/false);
  if (!input) return input;
  if (!input.value->ip.empty() &&
      orc::canonicalize_ip(input.value->ip) != orc::canonicalize_ip(route.ip)) {
    return Parsed<MappingInput>::fail("origin_ip in the body does not match the path");
  }
  input.value->ip = route.ip;
  return input;
}

OpResult upsert_one(Store& store, const Route& route, std::string_view body, orc::WallTime now) {
  auto input = upsert_input(route, body);
  if (!input) return bad_request(input.error);
  auto addr = validate_item(*input.value);
  if (!addr)
    return addr.error == kInvalidIp ? invalid_ip(input.value->ip) : bad_request(addr.error);

  Zone& zone = store[route.zone];  // a zone at the limit is never a new, empty one
  if (!zone.mappings.contains(*addr.value) && zone.mappings.size() >= kMaxMappingsPerZone) {
    return fail(zone_limit_error());
  }
  const Mapping& m = zone.mappings[*addr.value] = {orc::to_string(*addr.value), input.value->vendor,
                                                   input.value->region, now};
  zone.modified_on = now;
  json result = is_v1(route) ? setting(now, all_mappings(&zone, *route.flavor))
                             : mapping_json(m, *route.flavor);
  return {200, success_envelope(std::move(result)), 1, 0};
}

OpResult regions(const Route& route) {
  json result = supported_regions();
  if (is_v1(route)) result = setting(std::nullopt, std::move(result));
  return {200, success_envelope(std::move(result))};
}

void add_string(std::vector<std::string>& out, const json& value) {
  if (value.is_string()) out.push_back(value.get<std::string>());
}

}  // namespace

OpResult run_operation(Store& store, const Route& route, const QueryParams& query,
                       std::string_view body, const ForcedFailures& forced, orc::WallTime now) {
  switch (*route.operation) {
    case Operation::kList:
      return is_v1(route) ? list_v1(store, route) : list_v2(store, route, query);
    case Operation::kGet:
      return get_one(store, route);
    case Operation::kDelete:
      return delete_one(store, route, now);
    case Operation::kBatchDelete:
      return batch_delete(store, route, body, forced, now);
    case Operation::kBatchUpsert:
      return batch_upsert(store, route, body, now);
    case Operation::kUpsert:
      return upsert_one(store, route, body, now);
    case Operation::kSupportedRegions:
      return regions(route);
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
  if (op != Operation::kBatchDelete && op != Operation::kBatchUpsert && op != Operation::kUpsert) {
    return ips;
  }
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const std::string key = is_v1(route) ? "ip" : "origin_ip";
  if (op == Operation::kUpsert && doc.is_object()) add_string(ips, doc.value(key, json()));
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
