// Reading the desired-state file. An invalid file is rejected whole (DesiredStateError): an
// invalid desired state must never lead to a deletion.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "model/desired_state.h"

namespace orc {

class DesiredStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses desired-state text; `path` is used in messages ("desired.yaml: zones[2].origins[5]:
// '10.0.0.300' is not an IPv4 or IPv6 address"). Throws DesiredStateError.
DesiredState parse_desired_state(std::string_view text, const std::filesystem::path& path);

// Reads and parses the file. Throws DesiredStateError (including for an unreadable file).
DesiredState load_desired_state(const std::filesystem::path& path);

// A directory of desired-state files (reconcile.desired_state naming a directory): every
// `*.yaml` in it whose name does not start with '.', so hidden files, editor backups
// (`desired.yaml~`, `.desired.yaml.swp`) and Kubernetes' `..data` links are left out.
bool is_desired_file_name(std::string_view name);

// Several files read as one desired state, each parsed on its own (its messages name it), their
// zones one after the other in the order given. A zone in two files (by id, or by name) is an
// error naming both files. Throws DesiredStateError.
struct DesiredFilePart {
  std::filesystem::path path;
  std::string_view text;
};
DesiredState parse_desired_files(const std::vector<DesiredFilePart>& files);

}  // namespace orc
