// One check for every enumerator-name table (base/enum_names.h): the compiler does not flag an
// enumerator a table leaves out, so each table's test lists the names, in enumerator order.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include "base/enum_names.h"

namespace orc::testing {

// Enumerator i (0, 1, ...) is named names[i] in `table` and by `to_string`, reads back from that
// name, and the table lists nothing else.
template <typename Table, typename ToString>
void expect_enum_names(const Table& table, const std::vector<std::string_view>& names,
                       ToString to_string) {
  using Enum = typename Table::value_type::enum_type;
  EXPECT_EQ(table.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto value = static_cast<Enum>(i);
    EXPECT_EQ(to_string(value), names[i]) << "enumerator " << i;
    EXPECT_EQ(enum_from_name(table, names[i]), value) << names[i];
  }
  EXPECT_EQ(enum_from_name(table, ""), std::nullopt);
}

}  // namespace orc::testing
