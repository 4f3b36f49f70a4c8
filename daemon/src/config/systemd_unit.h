// What --check-config reads from the systemd unit: the LoadCredential= setting that hands the
// daemon its API token (systemd.exec(5)). Pure functions over the unit's text, as
// systemd.syntax(7) writes it, and the places systemd would look for the credential's file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orc {

// The systemd credential the daemon reads ($CREDENTIALS_DIRECTORY/cloudflare-api-token).
inline constexpr std::string_view kTokenCredential = "cloudflare-api-token";
// The unit the Debian package installs.
inline constexpr std::string_view kUnitName = "origin-reconciler.service";

// The PATH that `LoadCredential=ID:PATH` in [Service] gives credential `id`, reading `texts`
// in order (the unit, then its drop-ins): the last setting for `id` wins, an empty
// `LoadCredential=` clears the ones before it. "" for `LoadCredential=ID` without a path;
// nullopt when no setting names `id`.
std::optional<std::string> load_credential(const std::vector<std::string>& texts,
                                           std::string_view id);

// Where systemd takes credential `id` from, for the PATH `written` in its LoadCredential=:
// an absolute path as it is; otherwise (a relative path, or none: then the id itself) the
// first that exists of /etc/credstore/, /run/credstore/ and /usr/lib/credstore/, which
// systemd searches in that order. All candidates, in that order, below `root`.
std::vector<std::filesystem::path> credential_candidates(const std::string& written,
                                                         std::string_view id,
                                                         const std::filesystem::path& root = "/");

// The unit's own file and its drop-ins, as systemd finds them for `name` below `root`: the
// first of /etc/systemd/system/, /run/systemd/system/, /lib/systemd/system/ and
// /usr/lib/systemd/system/ holding the unit, then every `<name>.d/*.conf` of those folders in
// file-name order (a name in an earlier folder hides the same name in a later one). Empty
// when no folder holds the unit.
std::vector<std::filesystem::path> unit_files(std::string_view name,
                                              const std::filesystem::path& root = "/");

}  // namespace orc
