// Durations as written in the configuration: "500ms", "30s", "5m", "1h".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace orc {

using Millis = std::chrono::milliseconds;

// A whole, non-negative number followed by one unit: ms, s, m or h. Nothing else
// (no spaces, no fractions, no compound forms like "1m30s"). nullopt on anything else
// and on values that overflow.
std::optional<Millis> parse_duration(std::string_view text);

// The shortest exact form: 1500ms -> "1500ms", 60000ms -> "1m", 0 -> "0s".
std::string format_duration(Millis d);

}  // namespace orc
