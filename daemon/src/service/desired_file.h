// The desired-state file as the loop sees it: a stat and a read, nothing more, so that tests
// hand the loop an in-memory file whose versions they control. The real one (DesiredStateFile)
// is stat_file and read_file (core/source_text.h) on the configured path, with the same
// contracts; the decisions about what a version means stay in DesiredWatch.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

#include "core/source_text.h"
#include "service/desired_watch.h"

namespace orc {

class DesiredFileAccess {
 public:
  virtual ~DesiredFileAccess() = default;
  // The file's stamp; false with `error` set when it cannot be stat()ed or is not a regular
  // file (see stat_file).
  virtual bool stat(FileStamp& stamp, std::string& error) = 0;
  // The whole file (at most kMaxDesiredFileBytes) and the stamp of what was read; false with
  // `error` set when it cannot be read (see read_file).
  virtual bool read(std::string& text, std::string& error, FileStamp& stamp) = 0;
};

class DesiredStateFile final : public DesiredFileAccess {
 public:
  explicit DesiredStateFile(std::filesystem::path path) : path_(std::move(path)) {}
  bool stat(FileStamp& stamp, std::string& error) override {
    return stat_file(path_, stamp, error);
  }
  bool read(std::string& text, std::string& error, FileStamp& stamp) override {
    return read_file(path_, kMaxDesiredFileBytes, text, error, &stamp);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace orc
