#include "core/source_text.h"

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

bool stat_file(const std::filesystem::path& path, FileStamp& stamp, std::string& error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = std::system_category().message(errno);
    return false;
  }
  if (const char* why = not_regular(st.st_mode)) {
    error = why;
    return false;
  }
  stamp = stamp_from(st);
  return true;
}

bool read_file(const std::filesystem::path& path, std::size_t limit, std::string& out,
               std::string& error, FileStamp* stamp) {
  // Look before opening: opening a device or a FIFO can have effects of its own.
  FileStamp before;
  if (!stat_file(path, before, error)) return false;
  // O_NONBLOCK: should a FIFO be swapped in between the stat and the open, the open does not
  // wait for a writer; the fstat below then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    error = std::system_category().message(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = std::system_category().message(errno);
    ::close(fd);
    return false;
  }
  if (const char* why = not_regular(st.st_mode)) {
    error = why;
    ::close(fd);
    return false;
  }
  if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) > limit) {
    error = "larger than " + std::to_string(limit) + " bytes";
    ::close(fd);
    return false;
  }
  out.clear();
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::system_category().message(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > limit) {
      error = "larger than " + std::to_string(limit) + " bytes";
      ::close(fd);
      return false;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (stamp != nullptr) *stamp = stamp_from(st);
  return true;
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

std::string where(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return file;
  return file + ":" + std::to_string(mark.line + 1);
}

}  // namespace orc
