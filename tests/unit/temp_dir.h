// A fresh folder per test for the tests that read real files, removed afterwards. The folder's
// name carries the suite, the test and the process, so parallel ctest runs never share one.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace orc::testing {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           (std::string("orc_") + info->test_suite_name() + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Writes `content` to `name` (folders created as needed) below the test's folder.
  std::filesystem::path write(const std::string& name, const std::string& content) {
    const std::filesystem::path p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << content;
    out.close();
    EXPECT_TRUE(out.good()) << p;
    return p;
  }

  // Makes a FIFO named `name` below the test's folder: what opens it for reading blocks until
  // a writer comes, so readers of regular files must refuse it.
  std::filesystem::path make_fifo(const std::string& name) {
    const std::filesystem::path p = dir_ / name;
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0) << p;
    return p;
  }

  std::filesystem::path dir_;
};

}  // namespace orc::testing
