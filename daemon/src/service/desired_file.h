// The desired-state file as the loop sees it: a stat and a read, nothing more, so that tests
// hand the loop an in-memory file whose versions they control. The real one (DesiredStateFile)
// is stat_file and read_file (base/source_text.h) on the configured path, with the same
// contracts; the decisions about what a version means stay in DesiredWatch.
#pragma once

#include <filesystem>
#include <memory>
#include <utility>

#include "base/source_text.h"
#include "service/desired_watch.h"

namespace orc {

class DesiredFileAccess {
 public:
  virtual ~DesiredFileAccess() = default;
  // The file's stamp, or why it cannot be stat()ed or is not a regular file (see stat_file).
  virtual StatusOr<FileStamp> stat() = 0;
  // The whole file (at most kMaxDesiredStateBytes) and the stamp of what was read, or why it
  // cannot be read (see read_file).
  virtual StatusOr<FileContents> read() = 0;
};

class DesiredStateFile final : public DesiredFileAccess {
 public:
  explicit DesiredStateFile(std::filesystem::path path) : path_(std::move(path)) {}
  StatusOr<FileStamp> stat() override { return stat_file(path_); }
  StatusOr<FileContents> read() override { return read_file(path_, kMaxDesiredStateBytes); }

 private:
  std::filesystem::path path_;
};

// A directory of desired-state files (desired.d/): every file is_desired_file_name() accepts,
// in name order, read as one (FileContents::parts). Its stamp combines the directory's and each
// file's (through symlinks, as a Kubernetes ConfigMap mount has them), so that a change to any
// file, or a file added or removed, is a change of the whole that settles like one file does.
// The whole is at most kMaxDesiredStateBytes.
class DesiredStateDirectory final : public DesiredFileAccess {
 public:
  explicit DesiredStateDirectory(std::filesystem::path path) : path_(std::move(path)) {}
  StatusOr<FileStamp> stat() override;
  StatusOr<FileContents> read() override;

 private:
  std::filesystem::path path_;
};

// The one for `path`: a directory or a file.
std::unique_ptr<DesiredFileAccess> desired_access(const std::filesystem::path& path);

}  // namespace orc
