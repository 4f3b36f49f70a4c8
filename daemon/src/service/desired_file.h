// The desired-state file as the loop sees it: a stat and a read, nothing more, so that tests
// hand the loop an in-memory file whose versions they control. The real one (DesiredStateFile)
// is stat_file and read_file (core/source_text.h) on the configured path, with the same
// contracts; the decisions about what a version means stay in DesiredWatch.
#pragma once

#include <filesystem>
#include <utility>

#include "core/source_text.h"
#include "service/desired_watch.h"

namespace orc {

class DesiredFileAccess {
 public:
  virtual ~DesiredFileAccess() = default;
  // The file's stamp, or why it cannot be stat()ed or is not a regular file (see stat_file).
  virtual StatusOr<FileStamp> stat() = 0;
  // The whole file (at most kMaxDesiredFileBytes) and the stamp of what was read, or why it
  // cannot be read (see read_file).
  virtual StatusOr<FileContents> read() = 0;
};

class DesiredStateFile final : public DesiredFileAccess {
 public:
  explicit DesiredStateFile(std::filesystem::path path) : path_(std::move(path)) {}
  StatusOr<FileStamp> stat() override { return stat_file(path_); }
  StatusOr<FileContents> read() override { return read_file(path_, kMaxDesiredFileBytes); }

 private:
  std::filesystem::path path_;
};

}  // namespace orc
