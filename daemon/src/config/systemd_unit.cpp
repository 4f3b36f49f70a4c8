#include "config/systemd_unit.h"

#include <algorithm>
#include <array>
#include <map>
#include <system_error>

#include "base/text.h"

namespace fs = std::filesystem;

namespace orc {

namespace {

// systemd's unit folders, highest priority first.
constexpr std::array<std::string_view, 4> kUnitDirs = {
    "etc/systemd/system", "run/systemd/system", "lib/systemd/system", "usr/lib/systemd/system"};
constexpr std::array<std::string_view, 3> kCredstores = {"etc/credstore", "run/credstore",
                                                         "usr/lib/credstore"};

// The unit's logical lines: comments dropped, a trailing backslash joins the next line.
std::vector<std::string> logical_lines(const std::string& text) {
  std::vector<std::string> out;
  std::string pending;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = trim_space(std::string_view(text).substr(at, end - at));
    at = end + 1;
    if (pending.empty() && (line.starts_with('#') || line.starts_with(';'))) continue;
    if (line.ends_with('\\')) {
      pending += std::string(line.substr(0, line.size() - 1)) + " ";
      continue;
    }
    out.push_back(pending + std::string(line));
    pending.clear();
  }
  if (!pending.empty()) out.push_back(pending);
  return out;
}

}  // namespace

std::optional<std::string> load_credential(const std::vector<std::string>& texts,
                                           std::string_view id) {
  std::optional<std::string> found;
  for (const auto& text : texts) {
    bool service = false;
    for (const auto& line : logical_lines(text)) {
      if (line.starts_with('[')) {
        service = line == "[Service]";
        continue;
      }
      const auto eq = line.find('=');
      if (!service || eq == std::string::npos) continue;
      if (trim_space(std::string_view(line).substr(0, eq)) != "LoadCredential") continue;
      const std::string_view value = trim_space(std::string_view(line).substr(eq + 1));
      if (value.empty()) {  // "LoadCredential=" empties the list
        found.reset();
        continue;
      }
      const auto colon = value.find(':');
      if (value.substr(0, colon) != id) continue;
      found =
          colon == std::string_view::npos ? std::string() : std::string(value.substr(colon + 1));
    }
  }
  return found;
}

std::vector<fs::path> credential_candidates(const std::string& written, std::string_view id,
                                            const fs::path& root) {
  const fs::path path(written.empty() ? std::string(id) : written);
  if (path.is_absolute()) return {root / path.relative_path()};
  std::vector<fs::path> out;
  for (const auto dir : kCredstores) out.push_back(root / dir / path);
  return out;
}

std::vector<fs::path> unit_files(std::string_view name, const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto dir : kUnitDirs) {
    const fs::path unit = root / dir / name;
    if (fs::is_regular_file(unit, ec)) {
      out.push_back(unit);
      break;
    }
  }
  if (out.empty()) return out;
  std::map<std::string, fs::path> dropins;  // by file name: the first folder's wins
  for (const auto dir : kUnitDirs) {
    const fs::path folder = root / dir / (std::string(name) + ".d");
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& file = it->path();
      if (file.extension() == ".conf" && fs::is_regular_file(file, ec)) {
        dropins.try_emplace(file.filename().string(), file);
      }
    }
    ec.clear();
  }
  for (auto& [file_name, path] : dropins) out.push_back(std::move(path));
  return out;
}

}  // namespace orc
