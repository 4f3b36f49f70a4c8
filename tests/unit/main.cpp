// Unit test entry point: the code under test logs through spdlog; keep the test output
// readable unless ORC_TEST_LOGS is set.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (std::getenv("ORC_TEST_LOGS") == nullptr) spdlog::set_level(spdlog::level::off);
  return RUN_ALL_TESTS();
}
