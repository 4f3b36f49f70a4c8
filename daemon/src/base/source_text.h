// Reading the files the daemon is given and quoting their contents in messages: shared by
// the configuration and desired-state parsers, the plan file, and the API clients.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace orc {

// A file's identity and version as stat() sees it through symlinks: which file (device,
// inode), how long, last modified when.
struct FileStamp {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = -1;
  std::int64_t mtime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// One file of a directory read as a whole (a desired.d/ of several files).
struct FilePart {
  std::filesystem::path path;
  std::size_t size = 0;  // its bytes, in order, within FileContents::text
  friend bool operator==(const FilePart&, const FilePart&) = default;
};

// A file's contents and the stamp of the very file they were read from. For a directory: its
// files' contents one after the other, `parts` saying which file each piece is, and a stamp
// that changes whenever any of them does (or one is added or removed).
struct FileContents {
  std::string text;
  FileStamp stamp;
  std::vector<FilePart> parts = {};  // empty for a single file
};

// Reads a whole file, refusing more than `limit` bytes (so a mistaken /dev/zero cannot hang
// start-up). Only a regular file (or a symlink to one) is read: a FIFO, a directory, a device
// or a socket is refused before anything is read from it ("is a FIFO, not a regular file"),
// and the file is opened non-blocking, so nothing the path names can hang the daemon.
// The error is the OS reason, the file type or the size problem.
StatusOr<FileContents> read_file(const std::filesystem::path& path, std::size_t limit);

// A file opened as read_file opens it (the same refusals, with the same messages), read a
// buffer at a time through stream(), for a reader that keeps only what it makes of the text:
// the file is never held whole. A read that fails, or a file found longer than `limit` as it is
// read, ends the stream early and sets error(): look at it once reading is over, whether the
// reader succeeded or not.
class FileStream {
 public:
  static StatusOr<std::unique_ptr<FileStream>> open(const std::filesystem::path& path,
                                                    std::size_t limit);
  FileStream() = default;
  FileStream(const FileStream&) = delete;
  FileStream& operator=(const FileStream&) = delete;
  virtual ~FileStream() = default;
  virtual std::istream& stream() = 0;
  virtual const std::optional<Error>& error() const = 0;
  // The stamp of the file as opened.
  virtual const FileStamp& stamp() const = 0;
};

// The stamp of a regular file (through symlinks). An error when it cannot be stat()ed
// (missing, a dangling link, no access) or is not a regular file.
StatusOr<FileStamp> stat_file(const std::filesystem::path& path);

// A value as it appears in a message: control characters escaped (\x0a), cut after
// `max_chars` characters with "...".
std::string shown(std::string_view value, std::size_t max_chars = 120);

// shown(value) between single quotes, as messages quote a value: '10.0.0.300'.
std::string in_quotes(std::string_view value);

}  // namespace orc
