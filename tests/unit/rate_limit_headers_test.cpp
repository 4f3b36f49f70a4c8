#include "core/rate_limit_headers.h"

#include <gtest/gtest.h>

namespace orc {
namespace {

using std::chrono::seconds;
using Headers = std::map<std::string, std::string>;

ServerBudget budget(int remaining, std::optional<int> reset, std::optional<int> quota,
                    std::optional<int> window) {
  ServerBudget b;
  b.remaining = remaining;
  if (reset) b.reset = seconds(*reset);
  b.quota = quota;
  if (window) b.window = seconds(*window);
  return b;
}

TEST(ServerBudget, CloudflaresDraftFormWithItsPolicy) {
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"default\";r=50;t=30"},
                                {"ratelimit-policy", "\"default\";q=1200;w=300"}}),
            budget(50, 30, 1200, 300));
  // Without the policy the quota and window are unknown (the limiter assumes Cloudflare's).
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"default\";r=1199;t=300"}}),
            budget(1199, 300, std::nullopt, std::nullopt));
  // Spaces, a bare token name and parameters in another order.
  EXPECT_EQ(read_server_budget({{"ratelimit", " default ; t=3 ; r=7 "},
                                {"ratelimit-policy", "default;w=6;q=120"}}),
            budget(7, 3, 120, 6));
}

TEST(ServerBudget, SeveralPoliciesTheOneWithFewestRemainingWins) {
  const auto b =
      read_server_budget({{"ratelimit", "\"burst\";r=40;t=1, \"user\";r=12;t=200"},
                          {"ratelimit-policy", "\"burst\";q=50;w=1, \"user\";q=1200;w=300"}});
  EXPECT_EQ(b, budget(12, 200, 1200, 300));
}

TEST(ServerBudget, OlderDraftForms) {
  EXPECT_EQ(read_server_budget({{"ratelimit", "limit=100, remaining=50, reset=5"}}),
            budget(50, 5, 100, std::nullopt));
  EXPECT_EQ(
      read_server_budget(
          {{"ratelimit-limit", "100"}, {"ratelimit-remaining", "9"}, {"ratelimit-reset", "12"}}),
      budget(9, 12, 100, std::nullopt));
  // `RateLimit-Policy: 100;w=60` names the quota as the item itself.
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"x\";r=5;t=2"}, {"ratelimit-policy", "100;w=60"}}),
            budget(5, 2, 100, 60));
}

TEST(ServerBudget, XRateLimitHeaders) {
  EXPECT_EQ(read_server_budget({{"x-ratelimit-limit", "1200"},
                                {"x-ratelimit-remaining", "1100"},
                                {"x-ratelimit-reset", "42"}}),
            budget(1100, 42, 1200, std::nullopt));
  // A reset that is a Unix time, not a delta, is not taken as seconds to wait.
  EXPECT_EQ(
      read_server_budget({{"x-ratelimit-remaining", "3"}, {"x-ratelimit-reset", "1795000000"}}),
      budget(3, std::nullopt, std::nullopt, std::nullopt));
  // The draft form wins when both are present.
  EXPECT_EQ(read_server_budget({{"x-ratelimit-remaining", "3"}, {"ratelimit", "\"d\";r=8;t=1"}}),
            budget(8, 1, std::nullopt, std::nullopt));
}

TEST(ServerBudget, NothingToReadIsNothing) {
  EXPECT_EQ(read_server_budget({}), std::nullopt);
  EXPECT_EQ(read_server_budget({{"content-type", "application/json"}}), std::nullopt);
  EXPECT_EQ(read_server_budget({{"ratelimit-policy", "\"default\";q=1200;w=300"}}), std::nullopt);
  for (const char* bad : {"", "\"default\";r=;t=3", "\"default\";r=-1", "\"default\";r=x",
                          "\"default\";t=5", ";;;", "\"unterminated;r=5"}) {
    EXPECT_EQ(read_server_budget({{"ratelimit", bad}}), std::nullopt) << bad;
  }
  EXPECT_EQ(read_server_budget({{"x-ratelimit-remaining", "many"}}), std::nullopt);
}

TEST(ServerBudget, ValuesAreClamped) {
  // More remaining than the quota: the quota.
  EXPECT_EQ(read_server_budget(
                {{"ratelimit", "\"d\";r=5000;t=1"}, {"ratelimit-policy", "\"d\";q=1200;w=300"}}),
            budget(1200, 1, 1200, 300));
  // Absurd windows and resets (over a day) and a zero quota are not believed.
  EXPECT_EQ(read_server_budget(
                {{"ratelimit", "\"d\";r=5;t=999999"}, {"ratelimit-policy", "\"d\";q=0;w=999999"}}),
            budget(5, std::nullopt, std::nullopt, std::nullopt));
  // A fraction is cut to whole requests and seconds.
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"d\";r=5.9;t=2.5"}}),
            budget(5, 2, std::nullopt, std::nullopt));
  // Larger than any int: capped, never overflowing.
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"d\";r=99999999999999;t=1"}})->remaining,
            1'000'000'000);
}

}  // namespace
}  // namespace orc
