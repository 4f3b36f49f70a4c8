// The two generations of Cloudflare's origin cloud region API, by the names the configuration
// and the stand-in use. Beside api.h: the API client, the configuration and the stand-in all
// name them, none of them through another's header.
#pragma once

#include <optional>
#include <string_view>

#include "base/enum_names.h"

namespace orc {

enum class ApiFlavor { kCacheV1, kOriginV2 };
inline constexpr auto kApiFlavorNames = enum_names<ApiFlavor>("cache-v1", "origin-v2");

// "cache-v1" | "origin-v2".
constexpr std::string_view to_string(ApiFlavor flavor) {
  return enum_name(kApiFlavorNames, flavor);
}

// The flavor of a name to_string gives; nullopt for any other text.
constexpr std::optional<ApiFlavor> parse_api_flavor(std::string_view name) {
  return enum_from_name(kApiFlavorNames, name);
}

}  // namespace orc
