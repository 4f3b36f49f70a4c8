#include "base/source_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

namespace orc {

namespace {

// Why a file of this type is not read, or nullptr for a regular file.
const char* not_regular(mode_t mode) {
  if (S_ISREG(mode)) return nullptr;
  if (S_ISDIR(mode)) return "is a directory, not a regular file";
  if (S_ISFIFO(mode)) return "is a FIFO, not a regular file";
  if (S_ISCHR(mode)) return "is a character device, not a regular file";
  if (S_ISBLK(mode)) return "is a block device, not a regular file";
  if (S_ISSOCK(mode)) return "is a socket, not a regular file";
  return "is not a regular file";
}

FileStamp stamp_from(const struct stat& st) {
  return FileStamp{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                   static_cast<std::int64_t>(st.st_size),
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

StatusOr<FileStamp> stat_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{std::system_category().message(errno)};
  if (const char* why = not_regular(st.st_mode)) return Error{why};
  return stamp_from(st);
}

namespace {

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Error os_error() {
  return Error{std::system_category().message(errno)};
}

Error too_large(std::size_t limit) {
  return Error{"larger than " + std::to_string(limit) + " bytes"};
}

}  // namespace

StatusOr<FileContents> read_file(const std::filesystem::path& path, std::size_t limit) {
  // Look before opening: opening a device or a FIFO can have effects of its own.
  if (auto before = stat_file(path); !before.ok()) return std::move(before).error();
  // O_NONBLOCK: should a FIFO be swapped in between the stat and the open, the open does not
  // wait for a writer; the fstat below then refuses it.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return os_error();
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return os_error();
  if (const char* why = not_regular(st.st_mode)) return Error{why};
  if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) > limit) return too_large(limit);
  FileContents out;
  if (st.st_size > 0) out.text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error();
    }
    if (n == 0) break;
    if (out.text.size() + static_cast<std::size_t>(n) > limit) return too_large(limit);
    out.text.append(buf, static_cast<std::size_t>(n));
  }
  out.stamp = stamp_from(st);
  return out;
}

std::string shown(std::string_view value, std::size_t max_chars) {
  std::string out;
  const std::size_t n = std::min(value.size(), max_chars);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > n) out += "...";
  return out;
}

}  // namespace orc
