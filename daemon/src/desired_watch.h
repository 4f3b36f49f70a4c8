// Noticing that the desired-state file changed: its identity and size/mtime as stat() sees it
// through symlinks, so a Kubernetes ConfigMap update (the kubelet swaps the `..data` symlink
// to a new folder) counts as a change just like an in-place edit or a rename over the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace orc {

struct FileStamp {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = -1;
  std::int64_t mtime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// nullopt when the file cannot be stat()ed (missing, a dangling link mid-swap, no access).
std::optional<FileStamp> stamp_of(const std::filesystem::path& path);

}  // namespace orc
