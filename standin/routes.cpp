#include "routes.h"

#include <vector>

namespace standin {
namespace {

enum class Resource { kCollection, kBatch, kSupportedRegions, kItem };

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto pos = text.find(sep, start);
    parts.push_back(text.substr(start, pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

std::optional<ApiFlavor> flavor_of(std::string_view group, std::string_view name) {
  if (group == "cache" && name == "origin_cloud_regions") return ApiFlavor::kCacheV1;
  if (group == "origin" && name == "cloud_regions") return ApiFlavor::kOriginV2;
  return std::nullopt;
}

Resource resource_of(std::optional<std::string_view> last) {
  if (!last) return Resource::kCollection;
  if (*last == "batch") return Resource::kBatch;
  if (*last == "supported_regions") return Resource::kSupportedRegions;
  return Resource::kItem;
}

// The operation each (generation, resource, method) names; nullopt: wrong method.
std::optional<Operation> operation_of(ApiFlavor flavor, Resource resource,
                                      std::string_view method) {
  const bool v1 = flavor == ApiFlavor::kCacheV1;
  const std::string_view upsert_method = v1 ? "PATCH" : "PUT";
  switch (resource) {
    case Resource::kCollection:
      if (method == "GET") return Operation::kList;
      if (v1 && method == "PATCH") return Operation::kUpsert;
      if (v1 && method == "POST") return Operation::kCreate;
      break;
    case Resource::kBatch:
      if (method == "DELETE") return Operation::kBatchDelete;
      if (method == upsert_method) return Operation::kBatchUpsert;
      break;
    case Resource::kSupportedRegions:
      if (method == "GET") return Operation::kSupportedRegions;
      break;
    case Resource::kItem:
      if (method == "GET") return Operation::kGet;
      if (method == "DELETE") return Operation::kDelete;
      if (!v1 && method == "PUT") return Operation::kUpsert;
      break;
  }
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view strip_base_prefix(std::string_view path) {
  constexpr std::string_view kBasePrefix = "/client/v4/";
  if (path.starts_with(kBasePrefix)) path.remove_prefix(kBasePrefix.size() - 1);
  return path;
}

Route match_route(std::string_view method, std::string_view path) {
  path = strip_base_prefix(path);
  if (path.size() > 1 && path.ends_with('/')) path.remove_suffix(1);
  if (!path.starts_with('/')) return {};
  const auto segs = split(path.substr(1), '/');
  if (segs.size() == 1 && segs[0] == "zones") {  // the zone list, not a mapping route
    Route route;
    route.operation = Operation::kZones;
    route.status =
        (method == "GET" || method == "HEAD") ? RouteStatus::kMatched : RouteStatus::kWrongMethod;
    if (route.status != RouteStatus::kMatched) route.operation.reset();
    return route;
  }
  if (segs.size() < 4 || segs.size() > 5 || segs[0] != "zones") return {};

  Route route;
  route.flavor = flavor_of(segs[2], segs[3]);
  if (!route.flavor) return {};
  route.zone = percent_decode(segs[1], false);

  std::optional<std::string_view> last;
  if (segs.size() == 5) last = segs[4];
  const Resource resource = resource_of(last);
  if (resource == Resource::kItem) route.ip = percent_decode(*last, false);

  route.operation = operation_of(*route.flavor, resource, method == "HEAD" ? "GET" : method);
  route.status = route.operation ? RouteStatus::kMatched : RouteStatus::kWrongMethod;
  return route;
}

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

QueryParams parse_query(std::string_view query) {
  QueryParams params;
  if (query.empty()) return params;
  for (auto pair : split(query, '&')) {
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value =
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    params.emplace(std::move(name), std::move(value));
  }
  return params;
}

}  // namespace standin
