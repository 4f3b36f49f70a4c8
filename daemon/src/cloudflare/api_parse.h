// Reading Cloudflare's answers: the v4 envelope, mapping lists, batch results, and the one
// place where an HTTP outcome is classified as retryable or permanent. Pure functions over
// untrusted text: they never throw on malformed input.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"
#include "net/http_date.h"
#include "reconcile/zone_api.h"

namespace orc {

struct Envelope {
  bool success = false;
  std::vector<int> codes;
  std::string messages;  // "[1142] The zone setting does not exist; [...] ..."
  nlohmann::json result;
  nlohmann::json result_info;
};

// nullopt when the body is not JSON or not an envelope (no boolean "success").
std::optional<Envelope> parse_envelope(std::string_view body);

// Transient versus permanent, decided once for every operation:
//   no answer (transport, timeout)         -> retryable, transport
//   an answer over max_response_bytes      -> permanent (it will not shrink on a retry)
//   429                                    -> retryable, rate_limited (+ Retry-After)
//   5xx                                    -> retryable, server_error (+ Retry-After if sent)
//   2xx that is not a well-formed envelope,
//     or says "success": false             -> retryable, server_error
//   any other status                       -> permanent
// `envelope` is the parse of response.body (nullopt if it did not parse).
ApiError classify_failure(const HttpResponse& response, const std::optional<Envelope>& envelope);

// A retryable error for a 2xx answer whose envelope is fine but whose result has the wrong
// shape (a truncated or otherwise damaged answer).
ApiError malformed_result(const HttpResponse& response, std::string what);

// Mapping objects, keyed "origin-ip" (cache-v1) or "origin_ip" (origin-v2).
std::optional<std::vector<Mapping>> parse_mappings(const nlohmann::json& array,
                                                   std::string_view ip_key);

// A list answer read in one pass without a document tree (simdjson's On-Demand API): the
// mappings go straight into `mappings`, everything else in the answer is skipped as it is read.
// Only what a successful list needs is kept; any answer that is not one (success false, an
// error status, a malformed result) is left to parse_envelope and the messages built from it.
struct ListAnswer {
  // success true, the result well-formed (and, paged, result_info.total_pages an integer in
  // 0..100000): the same answers parse_envelope + parse_mappings + parse_total_pages accept.
  bool usable = false;
  std::vector<Mapping> mappings;
  std::optional<int> total_pages;  // paged answers
  // Set when a limit stopped the reading: the answer is unusable and must not be read again
  // into a tree ("nested deeper than 32 levels", "more than 10000 mappings").
  std::string limit;
};

// Where a list answer's mappings sit: the result itself (origin-v2, paged), or the "value" of
// the result object (cache-v1's setting record).
enum class ListShape { kResultArray, kResultValue };

inline constexpr int kMaxListDepth = 32;             // objects and arrays inside each other
inline constexpr std::size_t kMaxListItems = 10000;  // mappings in one answer (a zone: 3,500)

// `readable`: the bytes that may be read from body.data() (the capacity of the body's buffer;
// at least body.size()). With 64 of them past the text (simdjson reads ahead that far) the
// body is parsed where it is; else it is first copied into a padded buffer.
ListAnswer parse_list_answer(std::string_view body, std::string_view ip_key, ListShape shape,
                             std::size_t readable = 0);

// A batch answer read without a tree, for the usual success: "success": true and a payload
// (the result itself in origin-v2, its "value" in cache-v1, as `shape` says) whose "failed"
// is empty and whose "succeeded" items each name their IP under ip_key. The result is then
// what parse_envelope + parse_batch_result give for the same text; nullopt for any other
// answer (read by those then). `readable` as for parse_list_answer.
std::optional<BatchResult> parse_batch_answer(std::string_view body, std::string_view ip_key,
                                              ListShape shape, std::size_t readable = 0);

// Keeps the first mapping of each IP text (as the API spelled it), in order: pages read one
// after the other may repeat an item when the zone changes in between. Sorts indices, not
// strings: no allocation per mapping.
void drop_repeated_ips(std::vector<Mapping>& mappings);

// {"succeeded": [...], "failed": [...]} items keyed by ip_key, as one typed outcome per item:
// succeeded items are applied; a failed item's "error" (a string, or an object with "code" and
// "message") is its refusal, except that a failed item of a batch delete (`op`
// kBatchDelete) whose error says the mapping is not there (says_not_found, or code 1142 or
// 1163) is absent. Upsert items are never absent.
std::optional<BatchResult> parse_batch_result(const nlohmann::json& value, std::string_view ip_key,
                                              Operation op);

// The supported_regions result (flat in both generations): {"vendors": {vendor: [{"name"},
// ...]}}. nullopt when it has another shape; entries without a string name are skipped.
std::optional<SupportedRegions> parse_supported_regions(const nlohmann::json& result);

// origin-v2 paging: result_info.total_pages (0 for an empty zone).
std::optional<int> parse_total_pages(const nlohmann::json& result_info);

// Cloudflare's codes for "nothing there" (both generations).
inline constexpr int kCodeSettingMissing = 1142;  // no mappings in the zone; also "no mapping"
inline constexpr int kCodeNoMapping = 1163;       // no mapping for that IP
inline constexpr int kCodeZoneLimit = 1164;       // the zone holds its maximum of mappings

// A single get or delete answered "no mapping for that IP": 404 with code 1142 (the schema's
// example, both generations) or 1163 (its descriptions). Any other 404 (a wrong route or zone)
// is not absence.
bool says_no_mapping(const HttpResponse& response, const std::optional<Envelope>& envelope);

// A generation-1 list answered "this zone has no mappings" the old way: 404 with code 1142
// (the schema's answer, 200 with "value": [], needs no special case).
bool says_zone_empty(const HttpResponse& response, const std::optional<Envelope>& envelope);
// Whether a failed batch item's error text says the IP has no mapping (goal already met).
bool says_not_found(std::string_view item_error);

}  // namespace orc
