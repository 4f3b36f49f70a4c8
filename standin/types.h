// Vocabulary shared by the stand-in's pure modules: the operations of the origin cloud region
// API, an API error as the envelope reports it, and a small "value or message" result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "model/api_flavor.h"  // orc::ApiFlavor and its names ("cache-v1", "origin-v2")

namespace standin {

using orc::ApiFlavor;

enum class Operation {
  kList,
  kGet,
  kDelete,
  kBatchDelete,
  kBatchUpsert,
  kUpsert,
  kSupportedRegions,
  kCreate,  // generation 1 only: POST, refused when the IP already has a mapping
  kZones,   // GET /zones?name=: Cloudflare's zone list (no API generation)
};

// "list", "get", "delete", "batch_delete", "batch_upsert", "upsert", "supported_regions",
// "create", "zones".
std::string_view to_string(Operation op);
std::optional<Operation> parse_operation(std::string_view name);
std::optional<ApiFlavor> parse_flavor(std::string_view name);

// One entry of the envelope's "errors" array, with the HTTP status it is sent with.
struct ApiError {
  int http_status = 400;
  int code = 0;
  std::string message;
};

// A parsed value, or the reason there is none.
template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;

  static Parsed ok(T v) { return Parsed{std::move(v), {}}; }
  static Parsed fail(std::string message) { return Parsed{std::nullopt, std::move(message)}; }
  explicit operator bool() const { return value.has_value(); }
};

}  // namespace standin
