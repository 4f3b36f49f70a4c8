// The JSON the API answers with: the v4 envelope, generation 1's setting object, and the
// mapping and batch-item objects of both generations (generation 1 spells the key "origin-ip",
// generation 2 "origin_ip").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "batch.h"
#include "store.h"
#include "types.h"

namespace standin {

using nlohmann::json;

std::string rfc3339(orc::WallTime t);         // 2026-03-01T12:00:00Z
std::string rfc3339_millis(orc::WallTime t);  // 2026-03-01T12:00:00.123Z

// Compact text; invalid UTF-8 from a request (e.g. a decoded path) is replaced, not thrown on.
std::string to_text(const json& j);

json success_envelope(json result);
json error_envelope(const ApiError& error);

// Generation 1's result: {"id": "origin_public_cloud_region", "editable", "modified_on", "value"}.
json setting(std::optional<orc::WallTime> modified_on, json value);

std::string_view ip_key(ApiFlavor flavor);
json mapping_json(const Mapping& m, ApiFlavor flavor);
json outcome_json(const BatchOutcome& outcome, ApiFlavor flavor);

// {"obtained_codes": true, "vendors": {vendor: [{"name", "upper_tier_colos"}]}}: a small
// fixed table, not Cloudflare's real one. Flat in both generations. Writes through the API
// (create, upserts) must name a region from it (validate_write in batch.h).
json supported_regions();

}  // namespace standin
