// Enumerator names written once, as a table, rather than as a switch for each direction:
//   constexpr std::array kNames = {EnumName{Color::kRed, "red"}, EnumName{Color::kBlue, "blue"}};
//   enum_name(kNames, Color::kRed) == "red"
//   enum_from_name(kNames, "blue") == Color::kBlue
// The compiler flags an enumerator a switch leaves out, not one a table leaves out: give each
// table a test that every enumerator has a name and reads back.
#pragma once

#include <optional>
#include <string_view>

namespace orc {

template <typename Enum>
struct EnumName {
  using enum_type = Enum;
  Enum value;
  std::string_view name;
};
// Spelled out for compilers without class template argument deduction for aggregates (clang
// before 17, which the fuzz preset may use).
template <typename Enum>
EnumName(Enum, const char*) -> EnumName<Enum>;

// The name `value` has in `table`, or `fallback` for a value the table does not list.
template <typename Table, typename Enum>
constexpr std::string_view enum_name(const Table& table, Enum value,
                                     std::string_view fallback = "unknown") {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return fallback;
}

// The enumerator named `name` in `table`, or nullopt.
template <typename Table>
constexpr std::optional<typename Table::value_type::enum_type> enum_from_name(
    const Table& table, std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

}  // namespace orc
