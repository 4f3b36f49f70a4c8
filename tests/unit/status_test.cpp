#include "base/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace orc {
namespace {

StatusOr<int> half(int n) {
  if (n % 2 != 0) return Error{std::to_string(n) + " is odd"};
  return n / 2;
}

Status even(int n) {
  if (n % 2 != 0) return Error{"odd"};
  return ok_status();
}

TEST(StatusOr, HoldsAValueOrAnError) {
  const auto a = half(8);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 4);
  EXPECT_EQ(a.value(), 4);
  const auto b = half(7);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "7 is odd");
}

TEST(StatusOr, MovesItsValueAndItsError) {
  StatusOr<std::unique_ptr<int>> p = std::make_unique<int>(3);
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> taken = std::move(p).value();
  EXPECT_EQ(*taken, 3);
  StatusOr<std::string> s = Error{"gone"};
  const Error e = std::move(s).error();
  EXPECT_EQ(e, Error{"gone"});
}

TEST(StatusOr, TakesAnotherErrorType) {
  struct Refusal {
    int code = 0;
  };
  StatusOr<std::string, Refusal> r = Refusal{1142};
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 1142);
  r = std::string("fine");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 4u);
}

TEST(Status, IsSuccessOrAnError) {
  EXPECT_TRUE(even(2).ok());
  const Status s = even(3);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "odd");
}

}  // namespace
}  // namespace orc
