// Enumerator names written once, as a table, rather than as a switch for each direction:
//   enum class Color { kRed, kBlue };
//   constexpr auto kNames = enum_names<Color>("red", "blue");
//   enum_name(kNames, Color::kRed) == "red"
//   enum_from_name(kNames, "blue") == Color::kBlue
// An enum whose enumerators are not numbered 0, 1, ... lists each one beside its name:
//   constexpr std::array kNames = {EnumName{Flag::kOn, "on"}, EnumName{Flag::kOff, "off"}};
// The compiler flags an enumerator a switch leaves out, not one a table leaves out: give each
// table a test that every enumerator has a name and reads back.
#pragma once

#include <array>
#include <cstddef>
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

// The table of an enum numbered 0, 1, ... in the order declared (no enumerator given a value):
// enumerator i is named names[i]. The names alone, so that no entry restates its enumerator.
template <typename Enum, typename... Names>
constexpr std::array<EnumName<Enum>, sizeof...(Names)> enum_names(const Names&... names) {
  const std::array<std::string_view, sizeof...(Names)> in_order = {names...};
  std::array<EnumName<Enum>, sizeof...(Names)> table{};
  for (std::size_t i = 0; i < table.size(); ++i) {
    table[i] = EnumName<Enum>{static_cast<Enum>(i), in_order[i]};
  }
  return table;
}

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
