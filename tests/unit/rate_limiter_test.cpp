#include "net/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "fakes.h"
#include "log_capture.h"

namespace orc {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

const MonoTime t0{std::chrono::hours(1)};

// The most starts in any half-open interval [t, t + span); `starts` ascending.
int max_in_any(const std::vector<MonoTime>& starts, nanoseconds span) {
  int best = 0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    j = std::max(j, i);
    while (j < starts.size() && starts[j] < starts[i] + span) ++j;
    best = std::max(best, static_cast<int>(j - i));
  }
  return best;
}

// A small deterministic generator for the simulations (no hidden randomness in tests).
class Lcg {
 public:
  explicit Lcg(std::uint64_t seed) : state_(seed) {}
  int below(int n) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((state_ >> 33) % static_cast<std::uint64_t>(n));
  }

 private:
  std::uint64_t state_;
};

// Simulates `callers` zones sharing one budget, each wanting `per_caller` requests, all
// asking at t0. Each started request takes a pseudo-random 0..latency_ms to answer before
// the caller asks again; a caller that is told to wait sleeps (whole milliseconds, rounded
// up, as RateLimiter does) and asks again. `gap_every`/`gap` add idle pauses to make the
// demand bursty. Returns every start, ascending.
struct Demand {
  int callers = 1;
  int per_caller = 1;
  int latency_ms = 0;
  int gap_every = 0;  // after this many of its requests a caller idles for `gap`
  milliseconds gap{0};
};

std::vector<MonoTime> simulate(RequestBudget& budget, const Demand& d, std::uint64_t seed = 1) {
  Lcg rng(seed);
  using Event = std::pair<MonoTime, int>;  // when, caller
  std::priority_queue<Event, std::vector<Event>, std::greater<>> ready;
  std::vector<int> done(static_cast<std::size_t>(d.callers), 0);
  for (int c = 0; c < d.callers; ++c) ready.push({t0, c});
  std::vector<MonoTime> starts;
  while (!ready.empty()) {
    const auto [now, c] = ready.top();
    ready.pop();
    const nanoseconds wait = budget.try_start(now);
    if (wait > nanoseconds::zero()) {
      ready.push({now + std::chrono::ceil<milliseconds>(wait), c});
      continue;
    }
    starts.push_back(now);
    int& n = done[static_cast<std::size_t>(c)];
    if (++n == d.per_caller) continue;
    MonoTime next = now + milliseconds(d.latency_ms > 0 ? rng.below(d.latency_ms + 1) : 0);
    if (d.gap_every > 0 && n % d.gap_every == 0) next += d.gap;
    ready.push({next, c});
  }
  return starts;
}

TEST(BudgetLimits, FromRateAndHeadroom) {
  const BudgetLimits dflt = budget_limits(4, 0.05);
  EXPECT_EQ(dflt.burst, 4);
  EXPECT_EQ(dflt.burst_span, seconds(1));
  EXPECT_EQ(dflt.window_cap, 1140);  // min(4 x 300, 1200) less 5 %
  EXPECT_EQ(budget_limits(4, 0).window_cap, 1200);
  EXPECT_EQ(budget_limits(4, 0).burst_span, seconds(1));
  EXPECT_EQ(budget_limits(1000, 0.05).window_cap, 1140);  // Cloudflare's 1,200 caps fast rates
  EXPECT_EQ(budget_limits(1000, 0.05).burst, 1000);
  EXPECT_EQ(budget_limits(2, 0.05).window_cap, 570);  // 600 less 5 %
  EXPECT_EQ(budget_limits(2.5, 0.05).burst, 2);       // never more than 2.5 in a second
  EXPECT_EQ(budget_limits(2.5, 0.05).window_cap, 712);
  const BudgetLimits slow = budget_limits(0.5, 0.1);
  EXPECT_EQ(slow.burst, 1);
  EXPECT_EQ(slow.burst_span, seconds(2));
  EXPECT_EQ(slow.window_cap, 135);
  EXPECT_EQ(budget_limits(0.001, 0.9).window_cap, 1);  // never zero
}

TEST(RequestBudget, BurstOfTheRateThenTheNextSecond) {
  RequestBudget budget(4, 0.05);
  const nanoseconds span = budget.limits().burst_span;  // 1 s
  for (int i = 0; i < 4; ++i) EXPECT_EQ(budget.try_start(t0), nanoseconds::zero()) << i;
  // A fifth waits until the first one's span is over.
  EXPECT_EQ(budget.try_start(t0), span);
  EXPECT_EQ(budget.try_start(t0 + milliseconds(400)), span - milliseconds(400));
  EXPECT_EQ(budget.in_window(t0 + milliseconds(400)), 4);  // refusals are not counted
  EXPECT_EQ(budget.try_start(t0 + span - nanoseconds(1)), nanoseconds(1));
  EXPECT_EQ(budget.try_start(t0 + span), nanoseconds::zero());
}

TEST(RequestBudget, FullWindowWaitsForTheOldestStartToAgeOut) {
  RequestBudget budget(BudgetLimits{10, seconds(1), 25});
  std::vector<MonoTime> starts;
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 10; ++i) {
      const MonoTime now = t0 + seconds(s) + milliseconds(i);
      if (budget.try_start(now) == nanoseconds::zero()) starts.push_back(now);
    }
  }
  ASSERT_EQ(starts.size(), 25u);
  EXPECT_EQ(budget.in_window(t0 + seconds(3)), 25);
  EXPECT_EQ(budget.window_limit(t0 + seconds(3)), 25);
  // The 26th may start when the first one leaves the window: t0 + 300 s.
  EXPECT_EQ(budget.try_start(t0 + seconds(3)), seconds(297));
  EXPECT_EQ(budget.try_start(t0 + seconds(300) - nanoseconds(1)), nanoseconds(1));
  EXPECT_EQ(budget.try_start(t0 + seconds(300)), nanoseconds::zero());
  EXPECT_EQ(budget.in_window(t0 + seconds(300)), 25);  // the first has left, one came in
  EXPECT_EQ(budget.in_window(t0 + seconds(400)), 1);
  EXPECT_EQ(budget.in_window(t0 + seconds(600)), 0);
}

// The issue this budget exists for: many zones asking at once over a long run.
TEST(RequestBudget, ManyZonesAtOnceNeverExceedTheWindowOrTheSecond) {
  RequestBudget budget(4, 0.05);
  const auto starts = simulate(budget, {.callers = 64, .per_caller = 40, .latency_ms = 300});
  ASSERT_EQ(starts.size(), 2560u);
  EXPECT_EQ(max_in_any(starts, seconds(300)), 1140);
  EXPECT_EQ(max_in_any(starts, seconds(1)), 4);
  // Not slower than the rules force: 1,140 per 300 s, 4 per second. 2,560 starts need
  // two full windows and 280 more at 4 per second: the last one at about 600 + 70 s.
  EXPECT_LE(starts.back() - t0, seconds(600 + 71));
}

TEST(RequestBudget, BurstyDemandWithIdleGapsStaysWithinBothWindows) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    // At 10 per second the 5-minute cap, not the rate, is what holds the demand back.
    RequestBudget budget(10, 0.05);
    const Demand d{.callers = 16,
                   .per_caller = 150,
                   .latency_ms = 2000,
                   .gap_every = 40,
                   .gap = milliseconds(5'000)};
    const auto starts = simulate(budget, d, seed);
    ASSERT_EQ(starts.size(), 2400u);
    // The demand is high enough that the cap is reached, not merely respected.
    EXPECT_EQ(max_in_any(starts, seconds(300)), 1140) << seed;
    EXPECT_LE(max_in_any(starts, seconds(1)), 10) << seed;
  }
}

TEST(RequestBudget, FastRateIsStillCappedByCloudflaresWindow) {
  RequestBudget budget(1000, 0.05);
  const auto starts = simulate(budget, {.callers = 32, .per_caller = 100});
  ASSERT_EQ(starts.size(), 3200u);
  EXPECT_EQ(max_in_any(starts, seconds(300)), 1140);
  EXPECT_EQ(max_in_any(starts, seconds(1)), 1000);
  EXPECT_EQ(max_in_any(starts, seconds(299)), 1140);  // the window slides, it is not a bucket
  EXPECT_LE(starts.back() - t0, seconds(601));
}

TEST(RequestBudget, FractionalRatesNeverBurstAboveTheRate) {
  RequestBudget two_and_a_half(2.5, 0.05);
  const auto a = simulate(two_and_a_half, {.callers = 8, .per_caller = 100});
  EXPECT_EQ(max_in_any(a, seconds(1)), 2);
  EXPECT_LE(max_in_any(a, seconds(300)), 712);

  RequestBudget half(0.5, 0.05);
  const auto b = simulate(half, {.callers = 4, .per_caller = 20});
  for (std::size_t i = 1; i < b.size(); ++i) EXPECT_GE(b[i] - b[i - 1], seconds(2)) << i;
  EXPECT_LE(max_in_any(b, seconds(300)), 142);
}

TEST(RequestBudget, A429PausesEveryoneAndHalvesTheWindowForFiveMinutes) {
  RequestBudget budget(4, 0.05);
  auto starts = simulate(budget, {.callers = 4, .per_caller = 100});  // 400 by t0 + 100 s
  const MonoTime hit = starts.back();
  EXPECT_EQ(budget.window_limit(hit), 1140);
  budget.rate_limited(hit, seconds(60));
  EXPECT_EQ(budget.window_limit(hit), 570);
  EXPECT_TRUE(budget.shrunk(hit));
  // Nobody starts during the Retry-After, though the window itself has room.
  EXPECT_EQ(budget.try_start(hit), seconds(60));
  EXPECT_EQ(budget.try_start(hit + seconds(30)), seconds(30));

  // Demand far above the budget from the end of the pause on.
  const MonoTime resume = hit + seconds(60);
  const MonoTime shrink_end = resume + seconds(300);
  std::vector<MonoTime> after;
  int at_shrink_end = -1;
  for (MonoTime now = resume; now < resume + seconds(900); now += milliseconds(1)) {
    if (budget.try_start(now) == nanoseconds::zero()) after.push_back(now);
    if (now == shrink_end - milliseconds(50)) at_shrink_end = budget.in_window(now);
  }
  // Until five minutes after the pause every 300-s window (old starts included) holds at most
  // half the cap.
  std::vector<MonoTime> all = starts;
  all.insert(all.end(), after.begin(), after.end());
  // The windows that begin after the 429 and end by shrink_end.
  std::vector<MonoTime> since_429;
  for (const auto& s : all) {
    if (s > hit && s < shrink_end) since_429.push_back(s);
  }
  EXPECT_LE(max_in_any(since_429, seconds(300)), 570);
  EXPECT_EQ(at_shrink_end, 570);
  EXPECT_FALSE(budget.shrunk(shrink_end));
  EXPECT_EQ(budget.window_limit(shrink_end), 1140);
  // Then the full budget again, and never above it.
  EXPECT_GT(budget.in_window(resume + seconds(900)), 1100);
  EXPECT_LE(max_in_any(all, seconds(300)), 1140);
  EXPECT_EQ(max_in_any(all, seconds(1)), 4);
}

TEST(RequestBudget, ALater429ExtendsTheShrinkButDoesNotHalveAgain) {
  RequestBudget budget(4, 0.05);
  budget.rate_limited(t0, seconds(10));
  budget.rate_limited(t0 + seconds(5), seconds(20));  // another zone's answer to the same lockout
  EXPECT_EQ(budget.window_limit(t0 + seconds(6)), 570);
  EXPECT_EQ(budget.try_start(t0 + seconds(6)), seconds(19));
  EXPECT_TRUE(budget.shrunk(t0 + seconds(25 + 299)));
  EXPECT_FALSE(budget.shrunk(t0 + seconds(25 + 300)));
  // A shorter Retry-After never shortens a pause already in force.
  budget.rate_limited(t0 + seconds(7), seconds(1));
  EXPECT_EQ(budget.try_start(t0 + seconds(8)), seconds(17));
}

// The limiter's clock and sleeper, on simulated time.
class RateLimiterTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  testing::FakeSleeper sleeper_{clock_};
};

TEST_F(RateLimiterTest, SleepsUntilTheBudgetAllowsAndCountsEveryStart) {
  RateLimiter limiter(2.0, clock_, sleeper_);
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  EXPECT_TRUE(sleeper_.sleeps().empty());  // two per second
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  ASSERT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_EQ(sleeper_.sleeps()[0], milliseconds(1000));
  EXPECT_EQ(limiter.usage().in_window, 3);
  EXPECT_EQ(limiter.usage().limit, 570);
  clock_.advance(seconds(300));
  EXPECT_EQ(limiter.usage().in_window, 0);
}

TEST_F(RateLimiterTest, A429PausesEveryCallerAndShowsTheSmallerLimit) {
  RateLimiter limiter(4.0, clock_, sleeper_);
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  limiter.pause_for(milliseconds(5000));
  EXPECT_EQ(limiter.usage().limit, 570);
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  ASSERT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_EQ(sleeper_.sleeps()[0], milliseconds(5000));
  clock_.advance(seconds(300));
  EXPECT_EQ(limiter.usage().limit, 1140);
}

TEST_F(RateLimiterTest, AStopDuringTheWaitSendsNothing) {
  RateLimiter limiter(1.0, clock_, sleeper_);
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  sleeper_.stop_during_sleep(1);
  EXPECT_FALSE(limiter.acquire(sleeper_.token()));
  EXPECT_EQ(limiter.usage().in_window, 1);
  EXPECT_FALSE(limiter.acquire(sleeper_.token()));  // and no more after the stop
  EXPECT_EQ(limiter.usage().in_window, 1);
}

// A real stop request wakes a caller that waits for a window which would take minutes to drain.
class ProbeSleeper final : public Sleeper {
 public:
  bool sleep_for(Millis d, std::stop_token stop) override {
    {
      std::lock_guard lock(mu_);
      asked_ = d;
      if (!told_) entered_.set_value();
      told_ = true;
    }
    return real_.sleep_for(d, stop);
  }
  std::future<void> entered() { return entered_.get_future(); }
  Millis asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

 private:
  SystemSleeper real_;
  std::mutex mu_;
  std::promise<void> entered_;
  bool told_ = false;
  Millis asked_{0};
};

TEST(RateLimiter, StopRequestCancelsALongWaitAtOnce) {
  testing::FakeClock clock;  // time stands still: only the stop can end the wait
  ProbeSleeper sleeper;
  std::stop_source stop;
  RateLimiter limiter(1.0, clock, sleeper, 0.99);  // a window of 3 requests
  for (int i = 0; i < 3; ++i) {
    clock.advance(seconds(1));
    ASSERT_TRUE(limiter.acquire(stop.get_token()));
  }
  auto entered = sleeper.entered();
  auto waiter = std::async(std::launch::async, [&] { return limiter.acquire(stop.get_token()); });
  entered.wait();
  EXPECT_EQ(sleeper.asked(), seconds(298));
  const auto before = std::chrono::steady_clock::now();
  stop.request_stop();
  EXPECT_FALSE(waiter.get());
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(5));
}

TEST_F(RateLimiterTest, ConcurrentCallersShareOneBudget) {
  RateLimiter limiter(4.0, clock_, sleeper_);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (limiter.acquire(sleeper_.token())) ++granted;
        const auto u = limiter.usage();
        EXPECT_LE(u.in_window, u.limit);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1600);
  EXPECT_LE(limiter.usage().in_window, 1140);
}

// --- The server's view of the budget (rate-limit headers), shared with another client ---

ServerBudget told(int remaining, int reset_s, int quota, int window_s) {
  ServerBudget b;
  b.remaining = remaining;
  b.reset = seconds(reset_s);
  b.quota = quota;
  b.window = seconds(window_s);
  return b;
}

TEST(RequestBudget, AnotherClientsUseIsTakenOffTheCap) {
  RequestBudget budget(BudgetLimits{1000, seconds(1), 1140, 0.05});
  for (int i = 0; i < 100; ++i) ASSERT_EQ(budget.try_start(t0), nanoseconds::zero());
  // Cloudflare counted 700 in its window: our 100 and 600 of someone else's.
  budget.observe(t0, t0, told(500, 10, 1200, 300));
  ASSERT_TRUE(budget.shared(t0));
  EXPECT_EQ(budget.shared(t0)->others, 600);
  EXPECT_EQ(budget.shared(t0)->cap, 540);  // 1,140 less the 600
  EXPECT_EQ(budget.server_remaining(), 500);
  int more = 0;
  while (budget.try_start(t0 + milliseconds(1)) == nanoseconds::zero()) ++more;
  EXPECT_EQ(more, 440);  // 540 in the window in all, not the own 1,140
  // Then one request may ask again at the reset the server named (a fresh answer)...
  EXPECT_EQ(budget.try_start(t0 + seconds(2)), seconds(8));
  EXPECT_EQ(budget.try_start(t0 + seconds(10)), nanoseconds::zero());
  // ...and only one: the next waits for our oldest start to leave the window.
  EXPECT_EQ(budget.try_start(t0 + seconds(10)), seconds(290));
  // A fresh answer: the other client is gone (only our 541 counted): the own cap again.
  budget.observe(t0 + seconds(10), t0 + seconds(10), told(1200 - 541, 290, 1200, 300));
  EXPECT_EQ(budget.shared(t0 + seconds(10))->others, 0);
  EXPECT_EQ(budget.try_start(t0 + seconds(11)), nanoseconds::zero());
}

TEST(RequestBudget, NothingLeftWaitsForTheResetThenProbesOnce) {
  RequestBudget budget(BudgetLimits{10, seconds(1), 1140, 0.05});
  ASSERT_EQ(budget.try_start(t0), nanoseconds::zero());
  budget.observe(t0, t0, told(0, 30, 1200, 300));  // someone else took it all
  EXPECT_EQ(budget.shared(t0)->cap, 1140 - 1199);
  EXPECT_EQ(budget.try_start(t0 + seconds(1)), seconds(29));
  EXPECT_EQ(budget.try_start(t0 + seconds(30)), nanoseconds::zero());
  // No answer yet: nothing more until the window the server spoke of has passed.
  EXPECT_EQ(budget.try_start(t0 + seconds(31)), seconds(269));
  EXPECT_FALSE(budget.shared(t0 + seconds(300)));  // the estimate expires with the window
  EXPECT_EQ(budget.try_start(t0 + seconds(300)), nanoseconds::zero());
}

// "Nothing left, reset in a day": one request asks again after an hour, like a Retry-After.
TEST(RequestBudget, AResetADayAwayIsAskedAboutAgainEveryHour) {
  RequestBudget budget(BudgetLimits{10, seconds(1), 1140, 0.05});
  ASSERT_EQ(budget.try_start(t0), nanoseconds::zero());
  budget.observe(t0, t0, told(0, 86400, 1200, 86400));
  EXPECT_EQ(budget.try_start(t0 + seconds(1)), seconds(3599));
  const auto wait = budget.announced_wait(t0 + seconds(1));
  ASSERT_TRUE(wait);
  EXPECT_TRUE(wait->from_headers);
  EXPECT_EQ(wait->until, t0 + kMaxAnnouncedWait);
  EXPECT_EQ(budget.try_start(t0 + kMaxAnnouncedWait), nanoseconds::zero());  // the probe
  // Its answer did not come (no headers): one more an hour later, not a day.
  EXPECT_EQ(budget.try_start(t0 + kMaxAnnouncedWait + seconds(1)), seconds(3599));
  EXPECT_EQ(budget.try_start(t0 + 2 * kMaxAnnouncedWait), nanoseconds::zero());
}

TEST(RequestBudget, AnnouncedWaitSaysWhichAndNothingWhenNoneHoldsBack) {
  RequestBudget budget(BudgetLimits{10, seconds(1), 1140, 0.05});
  EXPECT_FALSE(budget.announced_wait(t0));
  ASSERT_EQ(budget.try_start(t0), nanoseconds::zero());
  budget.observe(t0, t0, told(500, 30, 1200, 300));  // plenty left: nothing held back
  EXPECT_FALSE(budget.announced_wait(t0));
  budget.rate_limited(t0, seconds(20));
  auto wait = budget.announced_wait(t0 + seconds(1));
  ASSERT_TRUE(wait);
  EXPECT_FALSE(wait->from_headers);
  EXPECT_EQ(wait->until, t0 + seconds(20));
  EXPECT_FALSE(budget.announced_wait(t0 + seconds(20)));
  budget.observe(t0, t0, told(0, 30, 1200, 300));  // and now the headers say nothing is left
  wait = budget.announced_wait(t0 + seconds(21));
  ASSERT_TRUE(wait);
  EXPECT_TRUE(wait->from_headers);
  EXPECT_EQ(wait->until, t0 + seconds(30));
}

TEST(RequestBudget, TheOwnBudgetStaysTheCeilingAndOldAnswersAreIgnored) {
  RequestBudget budget(BudgetLimits{1000, seconds(1), 50, 0.05});
  // A generous server (an enterprise quota) does not lift the own cap.
  budget.observe(t0, t0, told(9999, 1, 10000, 300));
  int started = 0;
  while (budget.try_start(t0) == nanoseconds::zero()) ++started;
  EXPECT_EQ(started, 50);
  // An answer to an earlier request arriving late does not replace a newer one.
  budget.observe(t0 + seconds(2), t0 + seconds(2), told(1200 - 50, 298, 1200, 300));
  budget.observe(t0 + seconds(1), t0 + seconds(1), told(0, 298, 1200, 300));
  EXPECT_EQ(budget.shared(t0 + seconds(2))->others, 0);
  EXPECT_EQ(budget.server_remaining(), 1150);
}

TEST(RequestBudget, OwnRequestsInFlightAreNotTakenForAnotherClient) {
  RequestBudget budget(BudgetLimits{1000, seconds(1), 1140, 0.05});
  ASSERT_EQ(budget.try_start(t0), nanoseconds::zero());
  // Two more of ours start after it and reach the server first: it counted 3 when answering.
  ASSERT_EQ(budget.try_start(t0 + milliseconds(1)), nanoseconds::zero());
  ASSERT_EQ(budget.try_start(t0 + milliseconds(2)), nanoseconds::zero());
  budget.observe(t0, t0 + milliseconds(5), told(1200 - 3, 300, 1200, 300));
  ASSERT_TRUE(budget.shared(t0 + milliseconds(5)));
  const auto use = *budget.shared(t0 + milliseconds(5));
  EXPECT_EQ(use.others_at_least, 0);  // all three can be ours
  EXPECT_EQ(use.others, 2);           // but the cap assumes the worst
  EXPECT_EQ(use.cap, 1140 - 2);
  // Another client's share is still seen through the own requests in flight.
  budget.observe(t0 + milliseconds(1), t0 + milliseconds(6), told(1200 - 43, 300, 1200, 300));
  EXPECT_EQ(budget.shared(t0 + milliseconds(6))->others_at_least, 40);
  EXPECT_EQ(budget.shared(t0 + milliseconds(6))->others, 41);
}

// Cloudflare's window as the server keeps it: every client's requests, a lockout past it.
class SharedServer {
 public:
  SharedServer(int quota, seconds window) : quota_(quota), window_(window) {}
  bool arrive(MonoTime now) {
    while (!times_.empty() && times_.front() + window_ <= now) times_.pop_front();
    if (now < locked_until_) return false;
    if (static_cast<int>(times_.size()) >= quota_) {
      locked_until_ = now + window_;
      return false;
    }
    times_.push_back(now);
    return true;
  }
  ServerBudget headers(MonoTime now) const {
    const auto left = times_.empty() ? window_ : times_.front() + window_ - now;
    return told(quota_ - static_cast<int>(times_.size()),
                static_cast<int>(std::chrono::ceil<seconds>(left).count()), quota_,
                static_cast<int>(window_.count()));
  }

 private:
  int quota_;
  seconds window_;
  std::deque<MonoTime> times_;
  MonoTime locked_until_{};
};

struct SharedRun {
  int ours = 0;
  int ours_refused = 0;
  int others_refused = 0;
};

// The scaled-down window of the integration test (120 per 6 s: Cloudflare's 1,200 per 300 s
// with a tenth of the requests in a fiftieth of the time). Another client steadily sends half
// the quota, 10 per second, from one window before ours starts; ours wants as many as its own
// budget allows (20 per second: the quota's average rate, as 4 per second is Cloudflare's),
// each answered after `latency`, `concurrency` at a time, and reads the answer's headers only
// when `read_headers`.
SharedRun share_with_another_client(bool read_headers, milliseconds latency, int concurrency) {
  RequestBudget budget(BudgetLimits{20, seconds(1), 1140, 0.05});
  SharedServer server(120, seconds(6));
  SharedRun run;
  struct InFlight {
    MonoTime sent;
    MonoTime arrives;
    bool arrived = false;
  };
  std::vector<InFlight> flying;
  for (MonoTime now = t0 - seconds(6); now < t0 + seconds(60); now += milliseconds(1)) {
    if ((now - t0) % milliseconds(100) == milliseconds(0) && !server.arrive(now)) {
      ++run.others_refused;
    }
    if (now < t0) continue;
    for (auto it = flying.begin(); it != flying.end();) {
      if (!it->arrived && it->arrives <= now) {
        it->arrived = true;
        if (!server.arrive(now)) ++run.ours_refused;
      }
      // The answer comes back as long after as the request took to get there.
      if (it->arrived && it->arrives + (it->arrives - it->sent) <= now) {
        if (read_headers) budget.observe(it->sent, now, server.headers(it->arrives));
        it = flying.erase(it);
      } else {
        ++it;
      }
    }
    while (static_cast<int>(flying.size()) < concurrency &&
           budget.try_start(now) == nanoseconds::zero()) {
      ++run.ours;
      flying.push_back({now, now + latency / 2});
    }
  }
  return run;
}

TEST(RequestBudget, AnotherClientTakingHalfTheBudgetCausesNo429) {
  for (auto [latency, concurrency] : {std::pair{milliseconds(0), 1},
                                      {milliseconds(20), 4},
                                      {milliseconds(200), 4},
                                      {milliseconds(60), 16}}) {
    const SharedRun run = share_with_another_client(true, latency, concurrency);
    EXPECT_EQ(run.ours_refused, 0) << latency.count() << " ms, " << concurrency;
    EXPECT_EQ(run.others_refused, 0) << latency.count() << " ms, " << concurrency;
    // What is left to us, 114 - 60 = 54 per 6 s, is used: at least 4/5 of it over 60 s.
    EXPECT_GE(run.ours, 540 * 4 / 5) << latency.count() << " ms, " << concurrency;
    EXPECT_LE(run.ours, 10 * 60) << latency.count() << " ms, " << concurrency;
  }
  // Without the headers the own budget alone runs into the server's limit.
  EXPECT_GT(share_with_another_client(false, milliseconds(20), 4).ours_refused, 0);
}

TEST_F(RateLimiterTest, ReadsTheServersBudgetAndReportsWhatRemains) {
  RateLimiter limiter(1000.0, clock_, sleeper_);
  EXPECT_EQ(limiter.usage().server_remaining, std::nullopt);
  const MonoTime sent = clock_.monotonic();
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  limiter.observe(sent, std::nullopt);  // an answer without headers changes nothing
  EXPECT_EQ(limiter.usage().server_remaining, std::nullopt);
  limiter.observe(sent, told(0, 4, 1200, 300));
  EXPECT_EQ(limiter.usage().server_remaining, 0);
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));  // waits for the reset: the probe
  ASSERT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_EQ(sleeper_.sleeps()[0], milliseconds(4000));
}

// --- the server's numbers across a restart ---------------------------------------------

const WallTime w0{seconds(1'796'000'000)};  // the wall clock at t0

TEST(RequestBudget, TheResetCountsFromTheAnswer) {
  RequestBudget budget(BudgetLimits{10, seconds(1), 1140, 0.05});
  ASSERT_EQ(budget.try_start(t0), nanoseconds::zero());
  budget.observe(t0, t0 + milliseconds(300), told(0, 5, 1200, 300));
  EXPECT_EQ(budget.try_start(t0 + seconds(5)), milliseconds(300));
  EXPECT_EQ(budget.try_start(t0 + milliseconds(5300)), nanoseconds::zero());
}

TEST(RequestBudget, WhatHoldsStartsBackIsSavedAndNothingElse) {
  RequestBudget budget(BudgetLimits{10, seconds(1), 1140, 0.05});
  EXPECT_FALSE(budget.saved(t0, w0));
  ASSERT_EQ(budget.try_start(t0), nanoseconds::zero());
  budget.observe(t0, t0, told(600, 300, 1200, 300));  // another client, but room left
  EXPECT_FALSE(budget.saved(t0, w0));
  budget.observe(t0 + seconds(1), t0 + seconds(2), told(0, 5, 1200, 300));
  auto saved = budget.saved(t0 + seconds(3), w0 + seconds(3));
  ASSERT_TRUE(saved);
  ASSERT_TRUE(saved->answer);
  EXPECT_EQ(saved->answer->at, w0 + seconds(2));  // when the answer was read
  EXPECT_EQ(saved->answer->server, told(0, 5, 1200, 300));
  EXPECT_FALSE(saved->paused_until);
  budget.rate_limited(t0 + seconds(3), seconds(20));
  saved = budget.saved(t0 + seconds(4), w0 + seconds(4));
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->paused_until, w0 + seconds(23));
  // Once neither holds anything back (the answer's window is over), nothing is worth keeping.
  EXPECT_TRUE(budget.saved(t0 + seconds(300), w0 + seconds(300)));
  EXPECT_FALSE(budget.saved(t0 + seconds(301), w0 + seconds(301)));
}

// A second process, started 2 s after the answer said "nothing left, reset in 5 s": it sends
// nothing for the 3 s left, then one request asks again.
TEST(RequestBudget, ARestartWaitsForTheResetTheSavedAnswerNamed) {
  RequestBudget first(BudgetLimits{10, seconds(1), 1140, 0.05});
  ASSERT_EQ(first.try_start(t0), nanoseconds::zero());
  first.observe(t0, t0, told(0, 5, 1200, 300));
  const auto saved = first.saved(t0, w0);
  ASSERT_TRUE(saved);

  const MonoTime t1{std::chrono::hours(7)};  // the new process's monotonic clock
  RequestBudget second(BudgetLimits{10, seconds(1), 1140, 0.05});
  second.restore(t1, w0 + seconds(2), *saved);
  EXPECT_EQ(second.try_start(t1), seconds(3));
  const auto wait = second.announced_wait(t1);
  ASSERT_TRUE(wait);
  EXPECT_TRUE(wait->from_headers);
  EXPECT_EQ(wait->until, t1 + seconds(3));
  EXPECT_EQ(second.server_remaining(), 0);
  EXPECT_EQ(second.try_start(t1 + seconds(3)), nanoseconds::zero());  // the probe
  EXPECT_GT(second.try_start(t1 + seconds(4)), nanoseconds::zero());  // then its answer
}

TEST(RequestBudget, ARestoredWaitIsCappedLikeTheHeadersWait) {
  const MonoTime t1{std::chrono::hours(7)};
  SavedBudget saved;
  saved.answer = SavedBudget::Answer{w0, told(0, 86400, 1200, 86400)};
  // Ten minutes after the answer: the hour from the answer is what is left, not the day.
  RequestBudget later(BudgetLimits{10, seconds(1), 1140, 0.05});
  later.restore(t1, w0 + std::chrono::minutes(10), saved);
  EXPECT_EQ(later.try_start(t1), std::chrono::minutes(50));
  // An answer dated a day from now (a clock set back, or a file not written here) came now:
  // an hour at most.
  saved.answer->at = w0 + std::chrono::hours(24);
  RequestBudget future(BudgetLimits{10, seconds(1), 1140, 0.05});
  future.restore(t1, w0, saved);
  EXPECT_EQ(future.try_start(t1), kMaxAnnouncedWait);
  // A 429's pause saved as ending in a day waits an hour, as a Retry-After is capped.
  SavedBudget paused;
  paused.paused_until = w0 + std::chrono::hours(24);
  RequestBudget pause(BudgetLimits{10, seconds(1), 1140, 0.05});
  pause.restore(t1, w0, paused);
  EXPECT_EQ(pause.try_start(t1), kMaxAnnouncedWait);
  const auto wait = pause.announced_wait(t1);
  ASSERT_TRUE(wait);
  EXPECT_FALSE(wait->from_headers);
}

TEST(RequestBudget, ASavedBudgetWhoseWindowHasPassedHoldsNothingBack) {
  const MonoTime t1{std::chrono::hours(7)};
  SavedBudget saved;
  saved.answer = SavedBudget::Answer{w0, told(0, 5, 1200, 300)};
  saved.paused_until = w0 + seconds(30);
  RequestBudget budget(BudgetLimits{10, seconds(1), 1140, 0.05});
  budget.restore(t1, w0 + seconds(300), saved);
  EXPECT_EQ(budget.try_start(t1), nanoseconds::zero());
  EXPECT_FALSE(budget.announced_wait(t1));
  EXPECT_FALSE(budget.server_remaining());
  // Within the window, but past its reset and its pause: the probe may go at once.
  RequestBudget recent(BudgetLimits{10, seconds(1), 1140, 0.05});
  recent.restore(t1, w0 + seconds(60), saved);
  EXPECT_EQ(recent.try_start(t1), nanoseconds::zero());
}

TEST_F(RateLimiterTest, TellsWhatIsWorthKeepingWhenItChanges) {
  RateLimiter limiter(1000.0, clock_, sleeper_);
  std::vector<std::optional<SavedBudget>> told_saved;
  limiter.on_saved_budget([&](const std::optional<SavedBudget>& s) { told_saved.push_back(s); });
  const MonoTime sent = clock_.monotonic();
  ASSERT_TRUE(limiter.acquire(sleeper_.token()));
  limiter.observe(sent, told(900, 300, 1200, 300));  // room left: nothing to keep, as before
  EXPECT_TRUE(told_saved.empty());
  limiter.observe(sent, told(0, 4, 1200, 300));
  ASSERT_EQ(told_saved.size(), 1u);
  ASSERT_TRUE(told_saved[0] && told_saved[0]->answer);
  EXPECT_EQ(told_saved[0]->answer->at, clock_.wall());
  EXPECT_EQ(told_saved[0]->answer->server, told(0, 4, 1200, 300));
  limiter.observe(sent, told(0, 4, 1200, 300));  // the same again: nothing new to keep
  EXPECT_EQ(told_saved.size(), 1u);
  ASSERT_TRUE(limiter.acquire(sleeper_.token()));  // the probe, after the reset
  limiter.observe(clock_.monotonic(), told(1100, 300, 1200, 300));
  ASSERT_EQ(told_saved.size(), 2u);
  EXPECT_FALSE(told_saved[1]) << "nothing holds starts back any more: nothing to keep";
  limiter.pause_for(std::chrono::seconds(30));
  ASSERT_EQ(told_saved.size(), 3u);
  ASSERT_TRUE(told_saved[2]);
  EXPECT_EQ(told_saved[2]->paused_until, clock_.wall() + seconds(30));
}

TEST_F(RateLimiterTest, ARestoredBudgetHoldsTheFirstRequestBack) {
  RateLimiter limiter(1000.0, clock_, sleeper_);
  std::vector<MonoTime> told_until;
  limiter.on_announced_wait([&](MonoTime until) { told_until.push_back(until); });
  SavedBudget saved;
  saved.answer = SavedBudget::Answer{clock_.wall() - seconds(1), told(0, 5, 1200, 300)};
  limiter.restore(saved);
  const MonoTime start = clock_.monotonic();
  ASSERT_TRUE(limiter.acquire(sleeper_.token()));
  EXPECT_EQ(clock_.monotonic() - start, seconds(4));
  ASSERT_EQ(told_until.size(), 1u);
  EXPECT_EQ(told_until[0], start + seconds(4));
}

TEST_F(RateLimiterTest, TellsWhenItWaitsOnAnAnnouncedWait) {
  RateLimiter limiter(1000.0, clock_, sleeper_);
  std::vector<MonoTime> told_until;
  limiter.on_announced_wait([&](MonoTime until) { told_until.push_back(until); });
  const MonoTime sent = clock_.monotonic();
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  EXPECT_FALSE(limiter.announced_wait());
  limiter.observe(sent, told(0, 86400, 1200, 86400));
  ASSERT_TRUE(limiter.announced_wait());
  EXPECT_TRUE(limiter.acquire(sleeper_.token()));
  ASSERT_EQ(told_until.size(), 1u);
  EXPECT_EQ(told_until[0], sent + kMaxAnnouncedWait);
  ASSERT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_EQ(sleeper_.sleeps()[0], std::chrono::duration_cast<milliseconds>(kMaxAnnouncedWait));
  // Its own pacing is not announced by the API: nothing is told.
  RateLimiter slow(1.0, clock_, sleeper_);
  slow.on_announced_wait([&](MonoTime until) { told_until.push_back(until); });
  EXPECT_TRUE(slow.acquire(sleeper_.token()));
  EXPECT_TRUE(slow.acquire(sleeper_.token()));
  EXPECT_EQ(told_until.size(), 1u);
}

// The lines logged while `body` runs, one per line.
template <class Body>
std::string logged_by(Body body) {
  const testing::LogCapture log;
  body();
  std::string out;
  for (const auto& line : log.lines()) out += line + "\n";
  return out;
}

// `warned` says another client uses the token, and that at least `others` of the requests the
// server counted were its.
void expect_another_client(const std::string& warned, int others) {
  EXPECT_NE(warned.find("another client is using this API user's budget"), std::string::npos)
      << warned;
  EXPECT_NE(warned.find("at least " + std::to_string(others) + " of them sent by others"),
            std::string::npos)
      << warned;
}

TEST_F(RateLimiterTest, WarnsOfAnotherClientOnlyWhenItsShareIsCertain) {
  RateLimiter limiter(1000.0, clock_, sleeper_);
  const MonoTime first = clock_.monotonic();
  ASSERT_TRUE(limiter.acquire(sleeper_.token()));
  // Nothing counted from before this start.
  EXPECT_EQ(logged_by([&] { limiter.observe(first, told(1200 - 1, 300, 1200, 300)); }), "");
  for (int i = 0; i < 19; ++i) {
    clock_.advance(Millis{1});
    ASSERT_TRUE(limiter.acquire(sleeper_.token()));
  }
  // The server counted all 20 when answering the first: ours in flight, not someone else's.
  EXPECT_EQ(logged_by([&] { limiter.observe(first, told(1200 - 20, 300, 1200, 300)); }), "");
  // 40 more than ours: another client, named once.
  expect_another_client(logged_by([&] { limiter.observe(first, told(1200 - 60, 300, 1200, 300)); }),
                        40);
  EXPECT_EQ(logged_by([&] { limiter.observe(first, told(1200 - 60, 300, 1200, 300)); }), "");
  // Gone again.
  const std::string gone =
      logged_by([&] { limiter.observe(first, told(1200 - 20, 300, 1200, 300)); });
  EXPECT_NE(gone.find("no other client's requests"), std::string::npos) << gone;
}

// A restart: Cloudflare still counts what the daemon's earlier process sent on the same token.
TEST(RequestBudget, RequestsFromBeforeTheFirstStartAreKeptApartUntilTheyHaveLeft) {
  RequestBudget budget(BudgetLimits{1000, seconds(1), 1140, 0.05});
  ASSERT_EQ(budget.try_start(t0), nanoseconds::zero());
  budget.observe(t0, t0, told(1200 - 601, 300, 1200, 300));  // 600 from before the start
  auto use = *budget.shared(t0);
  EXPECT_EQ(use.others_at_least, 600);
  EXPECT_EQ(use.before_start, 600) << "not certainly another client's";
  EXPECT_EQ(use.cap, 1140 - 600) << "but they are spent all the same";
  int more = 0;
  while (budget.try_start(t0 + seconds(1)) == nanoseconds::zero()) ++more;
  EXPECT_EQ(more, 539);
  // A minute on, 150 of them have left; someone else sent 50 since.
  budget.observe(t0 + seconds(60), t0 + seconds(60), told(1200 - 540 - 450 - 50, 240, 1200, 300));
  use = *budget.shared(t0 + seconds(60));
  EXPECT_EQ(use.others_at_least, 500);
  EXPECT_EQ(use.before_start, 500) << "at most 600 are from before, and as many as 500 can be";
  EXPECT_EQ(use.cap, 1140 - 500);
  // Two minutes on, 400 have left: the earlier ones are at most 200 now, the other 50 show.
  budget.observe(t0 + seconds(120), t0 + seconds(120), told(1200 - 540 - 200 - 50, 180, 1200, 300));
  use = *budget.shared(t0 + seconds(120));
  EXPECT_EQ(use.before_start, 250) << "the fewest seen since: 500, then 250";
  budget.observe(t0 + seconds(180), t0 + seconds(180), told(1200 - 540 - 50, 120, 1200, 300));
  use = *budget.shared(t0 + seconds(180));
  EXPECT_EQ(use.others_at_least, 50);
  EXPECT_EQ(use.before_start, 50);
  // A window after the first start nothing from before it can be counted.
  // (Our own 540 have left by then too.)
  budget.observe(t0 + seconds(302), t0 + seconds(302), told(1200 - 50, 300, 1200, 300));
  use = *budget.shared(t0 + seconds(302));
  EXPECT_EQ(use.others_at_least, 50);
  EXPECT_EQ(use.before_start, 0);
}

TEST_F(RateLimiterTest, TheDaemonsEarlierProcessIsNotAnotherClient) {
  RateLimiter limiter(1000.0, clock_, sleeper_);
  const MonoTime first = clock_.monotonic();
  ASSERT_TRUE(limiter.acquire(sleeper_.token()));
  // Restarted a minute after the earlier process sent 600 requests on the same token.
  const std::string said =
      logged_by([&] { limiter.observe(first, told(1200 - 601, 240, 1200, 300)); });
  EXPECT_EQ(said.find("another client is using"), std::string::npos) << said;
  EXPECT_NE(said.find("info API budget: Cloudflare counts 600 requests sent before this start in "
                      "its 5m window"),
            std::string::npos)
      << said;
  clock_.advance(seconds(30));
  const MonoTime later = clock_.monotonic();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.acquire(sleeper_.token()));
  EXPECT_EQ(logged_by([&] { limiter.observe(later, told(1200 - 701, 210, 1200, 300)); }), "");
  // Then someone else starts sending: 50 more than ours and the earlier ones.
  expect_another_client(
      logged_by([&] { limiter.observe(later, told(1200 - 751, 210, 1200, 300)); }), 50);
}

TEST(RequestBudget, RateZeroIsNoClientSideBudget) {
  RequestBudget budget(0, 0.05);
  budget.observe(t0, t0, told(0, 300, 1200, 300));  // nor does the server's count hold it back
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(budget.try_start(t0), nanoseconds::zero()) << i;
  EXPECT_EQ(budget.in_window(t0), 20000);
  EXPECT_EQ(budget.server_remaining(), 0);
}

}  // namespace
}  // namespace orc
