#include "service/export.h"

#include <cstdio>
#include <iostream>

#include "service/plan_report.h"

namespace orc {
namespace {

constexpr std::size_t kQuietUpTo = 3;  // zones exported without progress lines

}  // namespace

int run_export(ZoneApi& api, const ExportRun& run) {
  std::vector<ExportedZone> zones;
  zones.reserve(run.zones.size());
  const bool progress = run.zones.size() > kQuietUpTo;
  std::size_t done = 0;
  for (const auto& target : run.zones) {
    auto listed = api.list(target.zone_id);
    ++done;
    const std::string label =
        target.zone_name ? target.zone_id + " (" + *target.zone_name + ")" : target.zone_id;
    if (!listed.ok()) {
      std::cerr << "origin-reconciler: export: zone " << label
                << ": listing mappings failed: " << listed.error().describe()
                << "; nothing written\n";
      return 1;
    }
    if (progress) {
      std::cerr << "export: zone " << done << " of " << run.zones.size() << ": " << label << ": "
                << listed.value().size() << " mappings\n";
    }
    zones.push_back({target.zone_id, target.zone_name, std::move(listed).value()});
  }
  const ExportText text = format_export(run.source, std::move(zones));
  for (const auto& w : text.warnings) std::cerr << "origin-reconciler: export: " << w << "\n";
  if (run.out == "-") {
    std::fwrite(text.text.data(), 1, text.text.size(), stdout);
    std::fflush(stdout);
    return 0;
  }
  if (const Status written = write_whole(run.out, text.text); !written.ok()) {
    std::cerr << "origin-reconciler: " << run.out
              << ": cannot write the export: " << written.error().message << "\n";
    return 2;
  }
  std::cerr << "origin-reconciler: export: " << run.zones.size() << " zones, " << text.origins
            << " origins written to " << run.out << "\n";
  return 0;
}

}  // namespace orc
