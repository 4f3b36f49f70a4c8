// The desired-state file as /healthz reports it ("desired_state": valid | held | invalid |
// unreadable).
#pragma once

#include <string_view>

#include "base/enum_names.h"

namespace orc {

enum class DesiredCondition { kValid, kHeld, kInvalid, kUnreadable };
inline constexpr auto kDesiredConditionNames =
    enum_names<DesiredCondition>("valid", "held", "invalid", "unreadable");

constexpr std::string_view to_string(DesiredCondition c) {
  return enum_name(kDesiredConditionNames, c);
}

}  // namespace orc
