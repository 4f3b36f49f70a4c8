#include "types.h"

#include <array>

namespace standin {
namespace {

constexpr std::array<Operation, 8> kOperations = {Operation::kList,
                                                  Operation::kGet,
                                                  Operation::kDelete,
                                                  Operation::kBatchDelete,
                                                  Operation::kBatchUpsert,
                                                  Operation::kUpsert,
                                                  Operation::kSupportedRegions,
                                                  Operation::kCreate};

}  // namespace

std::string_view to_string(Operation op) {
  switch (op) {
    case Operation::kList:
      return "list";
    case Operation::kGet:
      return "get";
    case Operation::kDelete:
      return "delete";
    case Operation::kBatchDelete:
      return "batch_delete";
    case Operation::kBatchUpsert:
      return "batch_upsert";
    case Operation::kUpsert:
      return "upsert";
    case Operation::kSupportedRegions:
      return "supported_regions";
    case Operation::kCreate:
      return "create";
  }
  return "unknown";
}

std::optional<Operation> parse_operation(std::string_view name) {
  for (auto op : kOperations) {
    if (to_string(op) == name) return op;
  }
  return std::nullopt;
}

std::optional<ApiFlavor> parse_flavor(std::string_view name) {
  return orc::parse_api_flavor(name);
}

}  // namespace standin
