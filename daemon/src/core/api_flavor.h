// The two generations of Cloudflare's origin cloud region API, by the names the configuration
// and the stand-in use. Beside api.h: the API client, the configuration and the stand-in all
// name them, none of them through another's header.
#pragma once

#include <optional>
#include <string_view>

namespace orc {

enum class ApiFlavor { kCacheV1, kOriginV2 };

// "cache-v1" | "origin-v2".
constexpr std::string_view to_string(ApiFlavor flavor) {
  switch (flavor) {
    case ApiFlavor::kCacheV1:
      return "cache-v1";
    case ApiFlavor::kOriginV2:
      return "origin-v2";
  }
  return "unknown";
}

// The flavor of a name to_string gives; nullopt for any other text.
constexpr std::optional<ApiFlavor> parse_api_flavor(std::string_view name) {
  for (const ApiFlavor flavor : {ApiFlavor::kCacheV1, ApiFlavor::kOriginV2}) {
    if (to_string(flavor) == name) return flavor;
  }
  return std::nullopt;
}

}  // namespace orc
