#include "service/desired_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>
#include <utility>
#include <vector>

namespace orc {
namespace {

// The directory's desired-state files, in name order.
StatusOr<std::vector<std::filesystem::path>> desired_files(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return Error{ec.message()};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : it) {
    if (is_desired_file_name(entry.path().filename().string())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  // Empty is more likely a mount that failed than a decision: "manage nothing" is a file
  // saying `zones: []`.
  if (files.empty()) {
    return Error{
        "holds no desired-state files (names ending in .yaml, not starting with a dot); write "
        "one with 'zones: []' to manage no zones"};
  }
  return files;
}

// One stamp for the directory and its files: the directory's device, and a hash of every
// file's name and stamp for the rest, so that any change shows.
class StampOfAll {
 public:
  explicit StampOfAll(std::uint64_t device) {
    stamp_.device = device;
    stamp_.size = 0;
  }
  void add(const std::filesystem::path& file, const FileStamp& s) {
    mix(std::hash<std::string>{}(file.filename().string()));
    mix(s.device);
    mix(s.inode);
    mix(static_cast<std::uint64_t>(s.size));
    mix(static_cast<std::uint64_t>(s.mtime_ns));
    stamp_.size += s.size;
    stamp_.mtime_ns = std::max(stamp_.mtime_ns, s.mtime_ns);
  }
  FileStamp stamp() const { return stamp_; }

 private:
  void mix(std::uint64_t v) { stamp_.inode = (stamp_.inode ^ v) * 0x100000001b3ULL; }
  FileStamp stamp_;
};

StatusOr<std::uint64_t> directory_device(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Error{std::system_category().message(errno)};
  if (!S_ISDIR(st.st_mode)) return Error{"is not a directory"};
  return static_cast<std::uint64_t>(st.st_dev);
}

// A directory's desired-state files, in name order, and the device it is on.
struct DirectoryListing {
  std::uint64_t device = 0;
  std::vector<std::filesystem::path> files;
};

StatusOr<DirectoryListing> list_directory(const std::filesystem::path& dir) {
  const auto device = directory_device(dir);
  if (!device.ok()) return device.error();
  auto files = desired_files(dir);
  if (!files.ok()) return files.error();
  return DirectoryListing{*device, std::move(*files)};
}

}  // namespace

StatusOr<FileStamp> DesiredStateDirectory::stat() {
  const auto listing = list_directory(path_);
  if (!listing.ok()) return listing.error();
  StampOfAll all(listing->device);
  for (const auto& f : listing->files) {
    const auto s = stat_file(f);
    if (!s.ok()) return Error{f.filename().string() + ": " + s.error().message};
    all.add(f, *s);
  }
  return all.stamp();
}

StatusOr<FileContents> DesiredStateDirectory::read() {
  const auto listing = list_directory(path_);
  if (!listing.ok()) return listing.error();
  StampOfAll all(listing->device);
  FileContents out;
  for (const auto& f : listing->files) {
    auto one =
        read_file(f, kMaxDesiredStateBytes - std::min(kMaxDesiredStateBytes, out.text.size()));
    if (!one.ok()) return Error{f.filename().string() + ": " + one.error().message};
    all.add(f, one->stamp);
    out.parts.push_back({f, one->text.size()});
    out.text += one->text;
  }
  out.stamp = all.stamp();
  return out;
}

std::unique_ptr<DesiredFileAccess> desired_access(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return std::make_unique<DesiredStateDirectory>(path);
  }
  return std::make_unique<DesiredStateFile>(path);
}

}  // namespace orc
