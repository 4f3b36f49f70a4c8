// The message of the exception a call throws, for tests that compare whole error texts:
//   EXPECT_EQ(thrown_message<ConfigError>([&] { load_config(p); }), "config.yaml: ...");
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace orc::testing {

// What `call` throws as `Error`; a call that returns fails the test (and yields "").
template <typename Error, typename Call>
std::string thrown_message(Call&& call) {
  try {
    static_cast<void>(call());
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception thrown";
  return {};
}

}  // namespace orc::testing
