// The desired-state file as /healthz reports it ("desired_state": valid | held | invalid |
// unreadable).
#pragma once

#include <array>
#include <string_view>

#include "base/enum_names.h"

namespace orc {

enum class DesiredCondition { kValid, kHeld, kInvalid, kUnreadable };
inline constexpr std::array kDesiredConditionNames = {
    EnumName{DesiredCondition::kValid, "valid"},
    EnumName{DesiredCondition::kHeld, "held"},
    EnumName{DesiredCondition::kInvalid, "invalid"},
    EnumName{DesiredCondition::kUnreadable, "unreadable"},
};

constexpr std::string_view to_string(DesiredCondition c) {
  return enum_name(kDesiredConditionNames, c);
}

}  // namespace orc
