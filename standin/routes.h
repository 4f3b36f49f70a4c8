// Which API operation a request names: pure parsing of the method and the request target.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "types.h"

namespace standin {

enum class RouteStatus { kMatched, kNoRoute, kWrongMethod };

struct Route {
  RouteStatus status = RouteStatus::kNoRoute;
  std::optional<ApiFlavor> flavor;     // known once the path prefix matched
  std::string zone;                    // URL-decoded, not yet validated
  std::optional<Operation> operation;  // set when kMatched
  std::string ip;                      // URL-decoded path IP, as sent (get, delete, v2 upsert)
};

// `path` is the raw path of the request target (no query), with or without the
// "/client/v4" prefix of Cloudflare's base URL. HEAD is treated as GET.
Route match_route(std::string_view method, std::string_view path);

// The path without the "/client/v4" of Cloudflare's base URL, when it has one.
std::string_view strip_base_prefix(std::string_view path);

// Decodes %XX escapes; malformed escapes are kept as they are.
std::string percent_decode(std::string_view text, bool plus_as_space);

// Splits "a=1&b=2" into decoded pairs; the first occurrence of a name wins.
using QueryParams = std::map<std::string, std::string>;
QueryParams parse_query(std::string_view query);

}  // namespace standin
