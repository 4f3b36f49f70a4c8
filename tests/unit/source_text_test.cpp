#include "base/source_text.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include "base/text.h"
#include "temp_dir.h"

namespace orc {
namespace {

namespace fs = std::filesystem;

class ReadFile : public testing::TempDirTest {
 protected:
  // read_file's error, or "" when it succeeded.
  static std::string error_of(const fs::path& p, std::size_t limit = 1 << 20) {
    const auto read = read_file(p, limit);
    return read.ok() ? std::string() : read.error().message;
  }
};

TEST_F(ReadFile, ReadsARegularFileAndItsStamp) {
  const fs::path p = write("f", "hello\n");
  const auto read = read_file(p, 100);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->text, "hello\n");
  const FileStamp stamp = read->stamp;
  EXPECT_EQ(stamp.size, 6);
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(stamp.inode, static_cast<std::uint64_t>(st.st_ino));
  const auto by_stat = stat_file(p);
  ASSERT_TRUE(by_stat.ok());
  EXPECT_EQ(*by_stat, stamp);
}

TEST_F(ReadFile, FollowsSymlinksToRegularFiles) {
  // The Kubernetes ConfigMap layout: name -> ..data/name, ..data -> folder.
  fs::create_directories(dir_ / "folder1");
  write("folder1/desired.yaml", "one");
  fs::create_directory_symlink("folder1", dir_ / "..data");
  fs::create_symlink("..data/desired.yaml", dir_ / "desired.yaml");
  const auto first = read_file(dir_ / "desired.yaml", 100);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->text, "one");
  // The kubelet's swap: a new folder, ..data renamed over.
  fs::create_directories(dir_ / "folder2");
  write("folder2/desired.yaml", "two");
  fs::create_directory_symlink("folder2", dir_ / "..data_tmp");
  fs::rename(dir_ / "..data_tmp", dir_ / "..data");
  const auto second = read_file(dir_ / "desired.yaml", 100);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->text, "two");
  EXPECT_NE(first->stamp, second->stamp);
}

TEST_F(ReadFile, AFifoIsRefusedWithoutWaitingForAWriter) {
  const fs::path p = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  EXPECT_EQ(error_of(p), "is a FIFO, not a regular file");
  const auto stamp = stat_file(p);
  ASSERT_FALSE(stamp.ok());
  EXPECT_EQ(stamp.error().message, "is a FIFO, not a regular file");
  // Through a symlink too.
  fs::create_symlink("fifo", dir_ / "link");
  EXPECT_EQ(error_of(dir_ / "link"), "is a FIFO, not a regular file");
}

TEST_F(ReadFile, DirectoriesDevicesAndSocketsAreRefused) {
  EXPECT_EQ(error_of(dir_), "is a directory, not a regular file");
  EXPECT_EQ(error_of("/dev/null"), "is a character device, not a regular file");
  EXPECT_EQ(error_of("/dev/zero"), "is a character device, not a regular file");

  const fs::path sock = dir_ / "s";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.string().size(), sizeof(addr.sun_path));
  std::strncpy(addr.sun_path, sock.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(error_of(sock), "is a socket, not a regular file");
  ::close(fd);
}

TEST_F(ReadFile, MissingFilesAndSizeLimits) {
  EXPECT_EQ(error_of(dir_ / "nope"), "No such file or directory");
  fs::create_symlink("nowhere", dir_ / "dangling");
  EXPECT_EQ(error_of(dir_ / "dangling"), "No such file or directory");
  const fs::path p = write("big", std::string(101, 'x'));
  EXPECT_EQ(error_of(p, 100), "larger than 100 bytes");
  EXPECT_EQ(error_of(p, 101), "");
}

// What a FileStream gives, read to its end, and its error ("" when none).
std::pair<std::string, std::string> read_stream(FileStream& in) {
  std::string text((std::istreambuf_iterator<char>(in.stream())), std::istreambuf_iterator<char>());
  return {text, in.error() ? in.error()->message : ""};
}

TEST_F(ReadFile, AFileStreamGivesTheFileABufferAtATime) {
  std::string content;
  for (int i = 0; i < 200'000; ++i) content += static_cast<char>('a' + i % 26);  // 4 buffers
  const auto opened = FileStream::open(write("f", content), 1 << 20);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(read_stream(**opened), std::pair(content, std::string()));
}

TEST_F(ReadFile, AFileStreamRefusesWhatReadFileRefuses) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  const fs::path big = write("big", std::string(101, 'x'));
  for (const auto& [path, why] : {std::pair{dir_ / "fifo", "is a FIFO, not a regular file"},
                                  std::pair{dir_, "is a directory, not a regular file"},
                                  std::pair{dir_ / "nope", "No such file or directory"},
                                  std::pair{big, "larger than 100 bytes"}}) {
    const auto opened = FileStream::open(path, 100);
    ASSERT_FALSE(opened.ok()) << path;
    EXPECT_EQ(opened.error().message, why) << path;
  }
}

TEST_F(ReadFile, AFileThatGrowsPastTheLimitAsItIsReadEndsTheStreamWithAnError) {
  const fs::path p = write("f", std::string(100, 'x'));
  const auto opened = FileStream::open(p, 100);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  std::ofstream(p, std::ios::app) << std::string(70'000, 'y');
  const auto [text, error] = read_stream(**opened);
  EXPECT_EQ(error, "larger than 100 bytes");
  EXPECT_LE(text.size(), 100u);
}

TEST(Trim, OwsIsSpacesAndTabsOnly) {
  EXPECT_EQ(trim_ows(" \t 50 \t"), "50");
  EXPECT_EQ(trim_ows("\r\n50\n"), "\r\n50\n");  // a line end is not a header's whitespace
  EXPECT_EQ(trim_ows("  "), "");
}

TEST(Trim, SpaceAlsoTakesLineEnds) {
  EXPECT_EQ(trim_space("token-abc\n"), "token-abc");
  EXPECT_EQ(trim_space("\r\n\t apps \r\n"), "apps");
  EXPECT_EQ(trim_space("a b"), "a b");  // inside stays
  EXPECT_EQ(trim_space("\n"), "");
}

}  // namespace
}  // namespace orc
