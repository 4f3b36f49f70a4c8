// --export FILE|-: writes a desired-state file from the live mappings of the given zones
// (model/export.h formats it). Every zone is listed (all pages, within the request budget)
// before anything is written; a zone that cannot be listed writes nothing and fails the run.
#pragma once

#include <string>
#include <vector>

#include "model/export.h"
#include "service/cloudflare_session.h"

namespace orc {

struct ExportTarget {
  std::string zone_id;
  std::optional<std::string> zone_name;  // written as `zone: NAME`
};

struct ExportRun {
  std::vector<ExportTarget> zones;
  std::string out;  // a path, or "-" for standard output
  ExportSource source;
};

// Returns the exit status: 0 written, 1 a zone could not be listed (nothing written), 2 the
// file cannot be written. Progress goes to stderr when there are more than a few zones.
int run_export(ZoneApi& api, const ExportRun& run);

}  // namespace orc
