// Reading the desired-state file. An invalid file is rejected whole (DesiredStateError): an
// invalid desired state must never lead to a deletion.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "base/source_text.h"
#include "config/yaml_reader.h"
#include "model/desired_state.h"

namespace orc {

class DesiredStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses desired-state text; `path` is used in messages ("desired.yaml: zones[2].origins[5]:
// '10.0.0.300' is not an IPv4 or IPv6 address"). Throws DesiredStateError. A text written as
// JSON is read by parse_desired_json, any other (or one in error) by libyaml.
DesiredState parse_desired_state(std::string_view text, const std::filesystem::path& path);

// A desired state written as JSON, read on RapidJSON (yaml::Reader::read_json): the state YAML
// reads from it, or nothing when YAML could read it otherwise or it is in error (then
// parse_desired_stream or parse_desired_state give the state or the message).
std::optional<DesiredState> parse_desired_json(const yaml::Source& source,
                                               const std::filesystem::path& path);

// The most read of a desired-state file (or of a directory's files together).
inline constexpr std::size_t kMaxDesiredStateBytes = 256u << 20;

// As parse_desired_state on libyaml alone, the text taken from `source` a piece at a time
// (yaml_reader.h), never held whole; `whole_text` gives the text only to quote a syntax error.
DesiredState parse_desired_stream(const yaml::Source& source, const std::filesystem::path& path,
                                  const std::function<std::string()>& whole_text);

// A desired-state file as load_desired_state read it: its state, the stamp of the file read and
// the SHA-256 of its bytes.
struct LoadedDesiredState {
  DesiredState state;
  FileStamp stamp;
  Sha256Digest sha256{};
};

// Reads and parses a file (a regular file, see read_file) a buffer at a time: at fleet scale
// the text (41 MB for 1,000 zones of 3,150 origins) is never held beside the state made of it.
// Throws DesiredStateError (including for an unreadable file, or one larger than
// kMaxDesiredStateBytes), with the messages parse_desired_state gives for the same bytes.
LoadedDesiredState load_desired_state(const std::filesystem::path& path);

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
