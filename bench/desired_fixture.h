// A production-sized desired-state file (35 zones x 3,500 origins, the zone limit), half the
// origins plain IPv4 scalars and half IPv6 maps with a vendor. Shared by the unit test that
// checks such a file parses completely and by the benchmark that times it.
#pragma once

#include <cstdio>
#include <string>

namespace orc::fixtures {

inline std::string big_desired_state(int zones, int origins_per_zone) {
  std::string text = "zones:\n";
  text.reserve(static_cast<std::size_t>(zones) * origins_per_zone * 24);
  for (int z = 0; z < zones; ++z) {
    char id[33];
    std::snprintf(id, sizeof(id), "%032x", z + 1);
    text += "  - zone_id: ";
    text += id;
    text += "\n    origins:\n";
    for (int o = 0; o < origins_per_zone; ++o) {
      char line[80];
      if (o % 2 == 0) {
        std::snprintf(line, sizeof(line), "      - 10.%d.%d.%d\n", o / 65536, o / 256 % 256,
                      o % 256);
      } else {
        std::snprintf(line, sizeof(line), "      - ip: 2001:db8::%x\n        vendor: aws\n", o);
      }
      text += line;
    }
  }
  return text;
}

}  // namespace orc::fixtures
