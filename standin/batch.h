// What the API's mutating requests do to one zone, apart from HTTP and envelopes: parsing
// request bodies, and the per-item semantics of batch delete and batch upsert.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "store.h"
#include "types.h"

namespace standin {

inline constexpr std::string_view kNotFound = "origin IP not found";
inline constexpr std::string_view kInvalidIp = "invalid IP address";

// A mapping as a request body gives it; `ip` is as sent, not yet validated.
struct MappingInput {
  std::string ip;
  std::string vendor;
  std::string region;
};

// One mapping object {ip_key, "vendor", "region"} (other fields are ignored); ip_key may be
// absent (ip left empty) unless `ip_required`. Does not validate the values.
Parsed<MappingInput> mapping_from_json(const nlohmann::json& obj, std::string_view ip_key,
                                       bool ip_required);

// Body of a batch delete: a JSON array of 1..100 strings.
Parsed<std::vector<std::string>> parse_ip_list(std::string_view body);

// Body of a batch upsert: a JSON array of 1..100 objects {ip_key, "vendor", "region"}.
Parsed<std::vector<MappingInput>> parse_mapping_list(std::string_view body,
                                                     std::string_view ip_key);

// Body of a single upsert: one object {ip_key, "vendor", "region"}; ip_key may be absent
// (ip left empty) unless `ip_required`.
Parsed<MappingInput> parse_mapping(std::string_view body, std::string_view ip_key,
                                   bool ip_required);

// The canonical address of a valid item; otherwise why it cannot be stored
// (kInvalidIp, or a message about the vendor or region).
Parsed<orc::IpAddress> validate_item(const MappingInput& item);

struct ItemResult {
  std::string ip;  // canonical when valid, as sent otherwise
  std::string vendor;
  std::string region;
  std::string error;  // failed items only
};

struct BatchOutcome {
  std::vector<ItemResult> succeeded;
  std::vector<ItemResult> failed;
};

// validate_item, and the vendor and region checked against supported_regions() (envelope.h),
// as Cloudflare checks every write made through the API. Seeds only need validate_item.
Parsed<orc::IpAddress> validate_write(const MappingInput& item);

// Canonical IP -> error: a fault rule's way of making chosen IPs fail and stay in place.
using ForcedFailures = std::map<std::string, std::string>;

// Deletes each IP on its own. Not present -> failed (kNotFound); invalid -> failed (kInvalidIp).
BatchOutcome delete_batch(Zone& zone, const std::vector<std::string>& ips,
                          const ForcedFailures& forced, orc::WallTime now);

// Upserts each item that passes validate_write; the others fail on their own, as do the
// `forced` IPs (with the given error; nothing written). When the valid items would take the
// zone past kMaxMappingsPerZone nothing changes and the answer is zone_limit_error().
std::variant<BatchOutcome, ApiError> upsert_batch(Zone& zone,
                                                  const std::vector<MappingInput>& items,
                                                  orc::WallTime now,
                                                  const ForcedFailures& forced = {});

// Code 1164: 400 on batches, 403 on single writes (the schema's statuses).
ApiError zone_limit_error(int http_status = 400);

}  // namespace standin
