// Seed documents: the stand-in's initial store (--seed, PUT /__admin/state) and its dump
// (GET /__admin/state).
//
//   {"zones": {"<zone id>": [{"ip": "192.0.2.1", "vendor": "aws", "region": "us-east-1"}, ...]}}
//
// or, per zone, a generator for large zones (consecutive addresses from `start`):
//
//   {"zones": {"<zone id>": {"generate": {"count": 1000, "start": "10.0.0.1",
//                                         "vendor": "aws", "region": "us-east-1"},
//                            "mappings": [...optional extra mappings...]}}}
#pragma once

#include <nlohmann/json.hpp>

#include "store.h"
#include "types.h"

namespace standin {

// IPs are canonicalized; every mapping is stamped `now`. Errors name the zone and the
// offending value: invalid zone ids, IPs or vendors, duplicate IPs, more than 3,500 mappings.
Parsed<Store> parse_seed(const nlohmann::json& doc, orc::WallTime now);

// {"zones": {zone: [{"ip", "vendor", "region"}, ...]}} in stored order; parse_seed reads it back.
nlohmann::json state_json(const Store& store);

}  // namespace standin
