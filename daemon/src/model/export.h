// --export: a desired-state file written from what the zones hold now, so that a team starts
// from the live state instead of typing it (Terraform's import, octoDNS's dump). Pure: the
// caller lists the zones; this orders, checks and formats them.
//
// The file lists every live mapping with its vendor and region, zones by id (or by the name
// they were asked for), origins in address order (IPv4 before IPv6), so that two exports of
// the same state are the same bytes, and reconciling against it right away changes nothing
// under either policy.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/change_set.h"

namespace orc {

struct ExportedZone {
  std::string zone_id;
  std::optional<std::string> zone_name;  // written as `zone: NAME` when the zone was named
  std::vector<Mapping> mappings;         // as listed
};

// Where and when the state came from, for the header comment.
struct ExportSource {
  std::string generator;   // "origin-reconciler 0.1.0"
  std::string api_base;    // https://api.cloudflare.com/client/v4
  std::string api_flavor;  // origin-v2
  std::string date;        // the UTC day of the export, "2026-12-07"
};

struct ExportText {
  std::string text;
  std::size_t origins = 0;
  // Live mappings that could not be written as they are (an IP that is not an address, a
  // second record of one origin, a vendor the desired state does not accept), for stderr.
  std::vector<std::string> warnings;
};

// Zones in id order (a zone listed twice is written once). Within a zone:
// - each origin once, in canonical origin form (`::ffff:10.0.0.1` is `10.0.0.1`), with the
//   vendor and region of its first record in address order; further records of the same
//   origin are kept by the desired state anyway and are reported;
// - a mapping whose vendor is not one of aws, azure, gcp, oci, or whose region is empty, is
//   written without vendor and region (kept if present, never created) and reported;
// - a live IP that is not an address is left out (the daemon never deletes those) and reported.
ExportText format_export(const ExportSource& source, std::vector<ExportedZone> zones);

}  // namespace orc
