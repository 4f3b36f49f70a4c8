// A desired-state file in memory for the tests of what reads it (DesiredStateSource, the
// service loop), whose versions the test writes.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "config/desired_state_parser.h"
#include "service/desired_file.h"

namespace orc::testing {

// The desired-state file in memory: each write is a new version, as a write and an atomic
// rename make it; it can also vanish, or change without its stamp changing.
class MemoryDesiredFile final : public DesiredFileAccess {
 public:
  MemoryDesiredFile() = default;  // absent until the first write
  explicit MemoryDesiredFile(std::string text) { write(std::move(text)); }
  void write(std::string text) {
    std::lock_guard lock(mu_);
    text_ = std::move(text);
    present_ = true;
    stamp_.device = 1;
    ++stamp_.inode;
    stamp_.size = static_cast<std::int64_t>(text_.size());
    stamp_.mtime_ns += 1'000'000;
  }
  // New content under the old stamp (an edit of the same size within the same mtime tick):
  // only reading the file tells.
  void write_keeping_stamp(std::string text) {
    std::lock_guard lock(mu_);
    text_ = std::move(text);
  }
  // rm desired.yaml
  void remove() {
    std::lock_guard lock(mu_);
    present_ = false;
  }
  DesiredFile parsed() {
    std::lock_guard lock(mu_);
    return {parse_desired_state(text_, "desired.yaml"), {stamp_, content_hash(text_)}, {}};
  }
  StatusOr<FileStamp> stat() override {
    std::lock_guard lock(mu_);
    if (!present_) return Error{"No such file or directory"};
    return stamp_;
  }
  StatusOr<FileContents> read() override {
    std::lock_guard lock(mu_);
    if (!present_) return Error{"No such file or directory"};
    return FileContents{text_, stamp_};
  }

 private:
  std::mutex mu_;
  std::string text_;
  FileStamp stamp_;
  bool present_ = false;
};

}  // namespace orc::testing
