#include "net/rate_limit_headers.h"

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

TEST(ServerBudget, CloudflaresDocumentedExample) {
  // The limits page's own pair: the item is "default", the policy "burst". In the draft an
  // item belongs to the policy of its name only, so this says 50 requests remain for 30 s and
  // nothing about the quota or window (the limiter keeps Cloudflare's 1,200 per 5 minutes): it
  // is not a quota of 100 per minute.
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"default\";r=50;t=30"},
                                {"ratelimit-policy", "\"burst\";q=100;w=60"}}),
            budget(50, 30, std::nullopt, std::nullopt));
}

TEST(ServerBudget, AnItemPairsWithThePolicyOfItsName) {
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
  // A policy of another name among several is not the item's either.
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"default\";r=9;t=3"},
                                {"ratelimit-policy", "\"burst\";q=100;w=60, \"day\";q=5;w=86400"}}),
            budget(9, 3, std::nullopt, std::nullopt));
}

TEST(ServerBudget, SeveralItemsAndPoliciesTheTightestBinds) {
  const auto b =
      read_server_budget({{"ratelimit", "\"burst\";r=40;t=1, \"user\";r=12;t=200"},
                          {"ratelimit-policy", "\"user\";q=1200;w=300, \"burst\";q=50;w=1"}});
  EXPECT_EQ(b, budget(12, 200, 1200, 300));
  // The binding item keeps its own policy, not the other item's.
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"user\";r=800;t=200, \"burst\";r=3;t=1"},
                                {"ratelimit-policy", "\"user\";q=1200;w=300, \"burst\";q=50;w=1"}}),
            budget(3, 1, 50, 1));
  // The tightest item may have no policy of its name: it still binds, without a quota.
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"default\";r=5;t=30, \"burst\";r=90;t=60"},
                                {"ratelimit-policy", "\"burst\";q=100;w=60"}}),
            budget(5, 30, std::nullopt, std::nullopt));
}

TEST(ServerBudget, OlderDraftForms) {
  EXPECT_EQ(read_server_budget({{"ratelimit", "limit=100, remaining=50, reset=5"}}),
            budget(50, 5, 100, std::nullopt));
  EXPECT_EQ(
      read_server_budget(
          {{"ratelimit-limit", "100"}, {"ratelimit-remaining", "9"}, {"ratelimit-reset", "12"}}),
      budget(9, 12, 100, std::nullopt));
  // `RateLimit-Policy: 100;w=60` names the window of the limit it repeats.
  EXPECT_EQ(read_server_budget({{"ratelimit-limit", "100"},
                                {"ratelimit-remaining", "9"},
                                {"ratelimit-reset", "12"},
                                {"ratelimit-policy", "100;w=60"}}),
            budget(9, 12, 100, 60));
  EXPECT_EQ(read_server_budget({{"ratelimit-limit", "100"},
                                {"ratelimit-remaining", "9"},
                                {"ratelimit-policy", "50;w=60"}}),
            budget(9, std::nullopt, 100, std::nullopt));
  // A bare `100;w=60` policy is no named item's policy in the structured form.
  EXPECT_EQ(read_server_budget({{"ratelimit", "\"x\";r=5;t=2"}, {"ratelimit-policy", "100;w=60"}}),
            budget(5, 2, std::nullopt, std::nullopt));
}

TEST(ServerBudget, XRateLimitHeaders) {
  EXPECT_EQ(read_server_budget({{"x-ratelimit-limit", "1200"},
                                {"x-ratelimit-remaining", "1100"},
                                {"x-ratelimit-reset", "42"}}),
            budget(1100, 42, 1200, std::nullopt));
  // The draft form wins when both are present.
  EXPECT_EQ(read_server_budget({{"x-ratelimit-remaining", "3"}, {"ratelimit", "\"d\";r=8;t=1"}}),
            budget(8, 1, std::nullopt, std::nullopt));
}

TEST(ServerBudget, XRateLimitResetAsSecondsUnixTimeOrHttpDate) {
  // 2026-11-19T10:00:00Z, the time the answer speaks of (its Date header).
  const auto now = std::chrono::system_clock::time_point(seconds(1795082400));
  const Headers unix_time = {{"x-ratelimit-remaining", "3"}, {"x-ratelimit-reset", "1795082430"}};
  EXPECT_EQ(read_server_budget(unix_time, now), budget(3, 30, std::nullopt, std::nullopt));
  // Without a reference a time cannot become a wait: the reset is unknown, not 50 years.
  EXPECT_EQ(read_server_budget(unix_time), budget(3, std::nullopt, std::nullopt, std::nullopt));
  // RFC 1123, as an older changelog documents it.
  EXPECT_EQ(read_server_budget({{"x-ratelimit-remaining", "3"},
                                {"x-ratelimit-reset", "Thu, 19 Nov 2026 10:01:00 GMT"}},
                               now),
            budget(3, 60, std::nullopt, std::nullopt));
  // Delay-seconds need no reference.
  EXPECT_EQ(read_server_budget({{"x-ratelimit-remaining", "3"}, {"x-ratelimit-reset", "17"}}, now),
            budget(3, 17, std::nullopt, std::nullopt));
  // A time already past is no wait; more than a day ahead is not believed.
  EXPECT_EQ(read_server_budget(
                {{"x-ratelimit-remaining", "3"}, {"x-ratelimit-reset", "1795082000"}}, now),
            budget(3, 0, std::nullopt, std::nullopt));
  EXPECT_EQ(read_server_budget(
                {{"x-ratelimit-remaining", "3"}, {"x-ratelimit-reset", "1795282400"}}, now),
            budget(3, std::nullopt, std::nullopt, std::nullopt));
  // Neither a delay nor a plausible time nor a date.
  for (const char* bad : {"5000000", "soon", "Thu, 31 Nov 2026 10:01:00 GMT", ""}) {
    EXPECT_EQ(read_server_budget({{"x-ratelimit-remaining", "3"}, {"x-ratelimit-reset", bad}}, now),
              budget(3, std::nullopt, std::nullopt, std::nullopt))
        << bad;
  }
}

TEST(ServerBudget, ResetDelay) {
  const auto now = std::chrono::system_clock::time_point(seconds(1795082400));
  EXPECT_EQ(reset_delay("0", now), seconds(0));
  EXPECT_EQ(reset_delay(" 86400 ", std::nullopt), seconds(86400));
  EXPECT_EQ(reset_delay("1795082401", now), seconds(1));
  EXPECT_EQ(reset_delay("Thursday, 19-Nov-26 10:00:05 GMT", now), seconds(5));
  EXPECT_EQ(reset_delay("Thu Nov 19 10:00:07 2026", now), seconds(7));
  EXPECT_EQ(reset_delay("Thu Nov 19 10:00:07 2026", std::nullopt), std::nullopt);
  EXPECT_EQ(reset_delay("-3", now), std::nullopt);
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
