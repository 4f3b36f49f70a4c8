// The origin cloud region API's operations on the store, for both generations: given a matched
// route, the request body and the time, what changes and which envelope answers. No HTTP,
// no locking, no faults beyond the forced batch failures a fault rule hands in.
#pragma once

#include <map>

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "batch.h"
#include "routes.h"
#include "store.h"

namespace standin {

struct OpResult {
  int status = 200;
  nlohmann::json envelope;
  int succeeded = 0;  // mappings deleted or upserted
  int failed = 0;     // items or single requests that found nothing or were invalid
};

// Answers that differ from Cloudflare's schema on purpose, chosen at start-up.
struct Quirks {
  // Generation 1 lists of a zone without mappings answer 404 code 1142, as the
  // reference pages of the seed documents show, instead of the schema's 200 "value": [].
  bool v1_empty_zone_404 = false;
};

// `route` must be kMatched with a valid zone id.
OpResult run_operation(Store& store, const Route& route, const QueryParams& query,
                       std::string_view body, const ForcedFailures& forced, orc::WallTime now,
                       const Quirks& quirks = {});

// The account's zones for GET /zones: zone id -> name (a name may repeat: a token reaching two
// accounts can see two zones of one name).
using ZoneNames = std::map<std::string, std::string>;

// GET /zones?name=&page=&per_page=: the zones of exactly that name (every zone without one), in
// id order, as `{"id", "name", "status": "active"}` with result_info paging (per_page 5 to 50,
// default 20, as Cloudflare's). `deny`: 403 code 9109, what a token without Zone:Read gets.
OpResult list_zones(const ZoneNames& zones, const QueryParams& query, bool deny);

// The IPs a request names, for the request log: the body's IPs for batches, the path's (or
// for generation 1's upsert, the body's) for single mappings; best effort on broken bodies.
std::vector<std::string> request_ips(const Route& route, std::string_view body);

}  // namespace standin
