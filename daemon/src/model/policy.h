// The named policies a zone is reconciled under (external-dns's plan/policy.go is the model):
//   prune  deletes live mappings the desired state does not keep; never creates or updates;
//   sync   also creates the desired origins that name a vendor and region and have no mapping,
//          and updates mappings whose vendor or region differs from the desired origin's.
#pragma once

#include <optional>
#include <string_view>

#include "base/enum_names.h"

namespace orc {

enum class Policy { kPrune, kSync };
inline constexpr auto kPolicyNames = enum_names<Policy>("prune", "sync");

std::string_view to_string(Policy policy);  // prune | sync
// "prune" or "sync"; nullopt for anything else.
std::optional<Policy> parse_policy(std::string_view text);

}  // namespace orc
