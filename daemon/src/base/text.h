// Trimming text, the two ways the daemon needs it: HTTP's optional whitespace around header
// values, and any whitespace around what a file or an environment variable holds.
#pragma once

#include <string_view>

namespace orc {

// RFC 9110's OWS: spaces and tabs.
constexpr std::string_view trim_ows(std::string_view s) {
  const auto ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && ows(s.back())) s.remove_suffix(1);
  return s;
}

// Spaces, tabs and line ends (a token file's trailing newline, a value with a stray CR).
constexpr std::string_view trim_space(std::string_view s) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace orc
