#include "base/source_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <streambuf>
#include <system_error>
#include <utility>

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
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
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

// A regular file, opened, and its stat() as opened.
struct OpenedFile {
  Fd fd;
  struct stat st;
};

// Opens `path` for reading if it is a regular file of at most `limit` bytes.
StatusOr<OpenedFile> open_regular(const std::filesystem::path& path, std::size_t limit) {
  // Look before opening: opening a device or a FIFO can have effects of its own.
  if (auto before = stat_file(path); !before.ok()) return std::move(before).error();
  // O_NONBLOCK: should a FIFO be swapped in between the stat and the open, the open does not
  // wait for a writer; the fstat below then refuses it.
  OpenedFile out{Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)), {}};
  if (out.fd.get() < 0) return os_error();
  if (::fstat(out.fd.get(), &out.st) != 0) return os_error();
  if (const char* why = not_regular(out.st.st_mode)) return Error{why};
  if (out.st.st_size > 0 && static_cast<std::uint64_t>(out.st.st_size) > limit) {
    return too_large(limit);
  }
  return out;
}

// read(2) that retries when a signal interrupts it.
ssize_t read_some(int fd, char* buf, std::size_t size) {
  for (;;) {
    const ssize_t n = ::read(fd, buf, size);
    if (n >= 0 || errno != EINTR) return n;
  }
}

}  // namespace

StatusOr<FileContents> read_file(const std::filesystem::path& path, std::size_t limit) {
  auto opened = open_regular(path, limit);
  if (!opened.ok()) return std::move(opened).error();
  const int fd = opened->fd.get();
  const struct stat& st = opened->st;
  FileContents out;
  if (st.st_size > 0) out.text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = read_some(fd, buf, sizeof(buf));
    if (n < 0) return os_error();
    if (n == 0) break;
    if (out.text.size() + static_cast<std::size_t>(n) > limit) return too_large(limit);
    out.text.append(buf, static_cast<std::size_t>(n));
  }
  out.stamp = stamp_from(st);
  return out;
}

namespace {

// The bytes of an open file, a buffer at a time; the stream ends early, with `error` set, when
// a read fails or the file holds more than `limit` bytes.
class FileBuffer final : public std::streambuf {
 public:
  FileBuffer(Fd fd, std::size_t limit) : fd_(std::move(fd)), limit_(limit) {}
  const std::optional<Error>& error() const { return error_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (error_) return traits_type::eof();
    const ssize_t n = read_some(fd_.get(), buf_.data(), buf_.size());
    if (n < 0) {
      error_ = os_error();
      return traits_type::eof();
    }
    if (n == 0) return traits_type::eof();
    read_ += static_cast<std::size_t>(n);
    if (read_ > limit_) {
      error_ = too_large(limit_);
      return traits_type::eof();
    }
    setg(buf_.data(), buf_.data(), buf_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  Fd fd_;
  std::size_t limit_;
  std::size_t read_ = 0;
  std::optional<Error> error_;
  std::array<char, 65536> buf_{};
};

class OpenFileStream final : public FileStream {
 public:
  OpenFileStream(Fd fd, std::size_t limit, FileStamp stamp)
      : buffer_(std::move(fd), limit), stream_(&buffer_), stamp_(stamp) {}
  std::istream& stream() override { return stream_; }
  const std::optional<Error>& error() const override { return buffer_.error(); }
  const FileStamp& stamp() const override { return stamp_; }

 private:
  FileBuffer buffer_;
  std::istream stream_;
  FileStamp stamp_;
};

}  // namespace

StatusOr<std::unique_ptr<FileStream>> FileStream::open(const std::filesystem::path& path,
                                                       std::size_t limit) {
  auto opened = open_regular(path, limit);
  if (!opened.ok()) return std::move(opened).error();
  return std::unique_ptr<FileStream>(
      std::make_unique<OpenFileStream>(std::move(opened->fd), limit, stamp_from(opened->st)));
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

std::string in_quotes(std::string_view value) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) about "'" + std::string&&.
  std::string out(1, '\'');
  out += shown(value);
  out += '\'';
  return out;
}

}  // namespace orc
