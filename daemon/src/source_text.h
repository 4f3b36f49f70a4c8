// Reading the files the daemon is given and quoting their contents in messages: shared by
// the configuration and desired-state parsers, and by the API client for odd answers.
#pragma once

#include <yaml-cpp/mark.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace orc {

// Reads a whole file, refusing more than `limit` bytes (so a mistaken /dev/zero cannot hang
// start-up). On failure returns false and sets `error` to the OS reason or the size problem.
bool read_file(const std::filesystem::path& path, std::size_t limit, std::string& out,
               std::string& error);

// A value as it appears in a message: control characters escaped (\x0a), cut after
// `max_chars` characters with "...".
std::string shown(std::string_view value, std::size_t max_chars = 120);

// "file:line" for a YAML position (1-based line), or just "file" when there is none.
std::string where(const std::string& file, const YAML::Mark& mark);

}  // namespace orc
