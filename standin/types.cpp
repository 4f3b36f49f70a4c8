#include "types.h"

#include <array>

#include "base/enum_names.h"

namespace standin {
namespace {

constexpr std::array kOperationNames = {
    orc::EnumName{Operation::kList, "list"},
    orc::EnumName{Operation::kGet, "get"},
    orc::EnumName{Operation::kDelete, "delete"},
    orc::EnumName{Operation::kBatchDelete, "batch_delete"},
    orc::EnumName{Operation::kBatchUpsert, "batch_upsert"},
    orc::EnumName{Operation::kUpsert, "upsert"},
    orc::EnumName{Operation::kSupportedRegions, "supported_regions"},
    orc::EnumName{Operation::kZones, "zones"},
    orc::EnumName{Operation::kCreate, "create"},
};

}  // namespace

std::string_view to_string(Operation op) {
  return orc::enum_name(kOperationNames, op);
}

std::optional<Operation> parse_operation(std::string_view name) {
  return orc::enum_from_name(kOperationNames, name);
}

std::optional<ApiFlavor> parse_flavor(std::string_view name) {
  return orc::parse_api_flavor(name);
}

}  // namespace standin
