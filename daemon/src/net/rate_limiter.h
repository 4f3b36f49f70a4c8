// The client-side request budget shared by every zone (cloudflare.requests_per_second and
// cloudflare.budget_headroom). RequestBudget is the pure arithmetic; RateLimiter adds the
// clock, the wait and a lock. Every request the daemon sends (retries, follow-up GETs, list
// pages, every zone) passes through the one RateLimiter in the request executor.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>

#include "base/clock.h"
#include "base/duration.h"
#include "net/budget_state.h"
#include "net/rate_limit_headers.h"

namespace orc {

// Cloudflare's per-user limit: 1,200 requests in any sliding 5-minute window; past it every
// request of the user (every tool on the token) is refused for five minutes.
inline constexpr int kCloudflareWindowQuota = 1200;
inline constexpr std::chrono::seconds kBudgetWindow{300};
inline constexpr double kDefaultBudgetHeadroom = 0.05;

// The longest a server's rate-limit headers make every request wait before one more is sent
// to ask again (a Retry-After is capped the same way, api_parse.h): an answer saying "nothing
// left, reset in a day" costs at most an hour per probe.
inline constexpr std::chrono::hours kMaxAnnouncedWait{1};

// requests_per_second 0: no client-side limit (benchmarks against a stand-in on loopback).
inline constexpr int kUnlimited = 1 << 30;

// The limits derived from the settings.
struct BudgetLimits {
  // Burst rule: at most `burst` starts in any half-open interval of `burst_span`. For a
  // whole-number rate r that is "r per second"; a fractional rate above 1 is rounded down
  // (2.5 allows 2 per second); a rate below 1 means one request every 1/r seconds.
  int burst = 1;
  std::chrono::nanoseconds burst_span{std::chrono::seconds(1)};
  // Window rule: at most `window_cap` starts in any half-open interval of kBudgetWindow:
  // min(r x 300, 1,200) less the headroom, rounded down, at least 1.
  int window_cap = 1;
  // Part of the server's quota left unused when other clients share it (see observe()).
  double headroom = kDefaultBudgetHeadroom;
};
BudgetLimits budget_limits(double requests_per_second, double headroom);

class RequestBudget {
 public:
  RequestBudget(double requests_per_second, double headroom);
  explicit RequestBudget(BudgetLimits limits);

  // Starts one request at `now` when both rules (and any pause) allow it, and counts it:
  // returns zero. Otherwise counts nothing and returns how long until the earliest moment a
  // start could be allowed (ask again then; another caller may have taken the slot).
  // `now` must not go backwards between calls.
  std::chrono::nanoseconds try_start(MonoTime now);

  // A 429 answer at `now` with this Retry-After: nothing starts before now + retry_after, and
  // from then until kBudgetWindow after the pause ends the window cap is halved (another client
  // is using the same budget). A later 429 extends both; the cap is not halved twice.
  void rate_limited(MonoTime now, std::chrono::nanoseconds retry_after);

  // Requests started in the window ending at `now`: (now - 300 s, now]. `now` no earlier than
  // the last try_start (older starts are forgotten).
  int in_window(MonoTime now) const;
  // The cap in force at `now` (halved after a 429).
  int window_limit(MonoTime now) const;
  bool shrunk(MonoTime now) const { return now < shrunk_until_; }
  const BudgetLimits& limits() const { return limits_; }

  // What an answer's rate-limit headers said (read_server_budget) about the user's budget,
  // for a request this client started at `sent` and read the answer of at `answered`. The
  // server counts every client of the user; what it counted beyond this client's own starts
  // in its window is another client's use. Which of this client's own requests in flight it
  // had seen is unknown: counting only the starts up to `sent` gives the most the others can
  // have used, counting those up to `answered` the least. From now on this client starts at
  // most quota x (1 - headroom) less that most in any window of the server's length, so that
  // together they stay under the quota and no 429 comes back. When that allows nothing more, one
  // request may go at the reset the server named (its answer brings fresh numbers); the estimate is
  // dropped once the server's window has passed since `sent` (all it counted has left). An answer
  // older than the one in force is ignored. The own rules above stay in force whatever the server
  // says. Requests counted that were sent before this client's first start are not its own,
  // but not certainly another client's either (a restart): SharedUse::before_start.
  void observe(MonoTime sent, MonoTime answered, const ServerBudget& server);
  // As of the last observe(): the server's remaining count, and the starts per server window
  // it leaves this client (nullopt before any answer said, or once that has expired).
  std::optional<int> server_remaining() const { return server_remaining_; }
  struct SharedUse {
    int others = 0;           // most requests other clients can have in the server's window
    int others_at_least = 0;  // and the fewest: own requests in flight may explain the rest
    // Of those fewest, how many may have been sent before this client's first start (its own
    // earlier process, restarted, on the same token): until the server's window has passed
    // since that start, the fewest "others" any answer since has shown (they only leave).
    int before_start = 0;
    int cap = 0;    // starts this client may have in any such window (may be <= 0)
    int quota = 0;  // the server's quota
    std::chrono::nanoseconds window{};
  };
  std::optional<SharedUse> shared(MonoTime now) const;

  // A wait the API announced, in force at `now`: a 429's Retry-After, or the server's budget
  // spent (its headers), whichever ends later; nullopt when neither holds a start back.
  struct AnnouncedWait {
    MonoTime until;
    bool from_headers = false;  // the rate-limit headers, else a Retry-After
  };
  std::optional<AnnouncedWait> announced_wait(MonoTime now) const;

  // What is worth keeping across a restart at `now` (`wall`: the wall clock at that moment):
  // the last answer's numbers while they hold starts back, and a 429's pause while it runs;
  // nullopt when neither does. Times are rounded up to the millisecond, never early.
  std::optional<SavedBudget> saved(MonoTime now, WallTime wall) const;
  // A budget an earlier process saved, taken at the start (`now`, `wall`: the clocks then): its
  // answer is observed as if it had come at its time (one that lies in the future came now; one
  // a whole server window old is over), and its pause waits out what is left of it, at most
  // kMaxAnnouncedWait. The wait that follows is capped as the headers' is: one start may go at
  // most kMaxAnnouncedWait after the answer.
  void restore(MonoTime now, WallTime wall, const SavedBudget& saved);

 private:
  // When the server's budget (observe()) lets the next start go: nullopt when it does not
  // hold starts back at `now`.
  std::optional<MonoTime> shared_block(MonoTime now) const;
  void forget_old(MonoTime now);
  int in_span(MonoTime now, std::chrono::nanoseconds span) const;  // starts in (now-span, now]

  // The estimate from the last answer that carried rate-limit headers.
  struct Shared {
    MonoTime sent;        // when this client started the request it answered
    MonoTime answered;    // and read its answer: the server's reset counts from no earlier
    ServerBudget server;  // what the headers said
    SharedUse use;
    MonoTime probe_at;  // when blocked by `cap`, one start is allowed from then on (and one
                        // more every kMaxAnnouncedWait while no answer brings new numbers)
  };
  std::optional<Shared> shared_;
  std::optional<int> server_remaining_;
  std::optional<MonoTime> first_start_;  // this client's first start
  std::optional<int> before_start_;      // most requests counted from before it (observe())

  BudgetLimits limits_;
  std::deque<MonoTime> starts_;  // ascending; only as many as a rule can still look at
  MonoTime paused_until_{};
  MonoTime shrunk_until_{};
};

class RateLimiter {
 public:
  RateLimiter(double requests_per_second, const Clock& clock, Sleeper& sleeper,
              double headroom = kDefaultBudgetHeadroom);

  // Waits until the budget allows one more request and counts it; false when `stop` was
  // requested before or during the wait (nothing is sent then).
  bool acquire(std::stop_token stop);
  // A 429 answer: every caller waits `d` (the Retry-After), and the budget shrinks for the
  // following five minutes (RequestBudget::rate_limited).
  void pause_for(Millis d);

  // An answer's rate-limit headers (nullopt: it had none), read now: RequestBudget::observe,
  // and a log line when another client certainly starts, or stops, taking a noticeable share
  // of the budget.
  void observe(MonoTime sent, const std::optional<ServerBudget>& server);

  struct Usage {
    int in_window = 0;                    // requests started in the last 5 minutes
    int limit = 0;                        // the cap in force now
    std::optional<int> server_remaining;  // the last answer's rate-limit headers said
  };
  Usage usage() const;

  // The wait the API announced that holds requests back now (RequestBudget::announced_wait).
  std::optional<RequestBudget::AnnouncedWait> announced_wait() const;
  // Called (outside the lock) each time acquire() starts waiting on an announced wait, with
  // its end: the daemon counts it as an announced quiet period, not a stall.
  void on_announced_wait(std::function<void(MonoTime until)> callback);

  // A budget saved by an earlier process (RequestBudget::restore, on the clock's time now).
  void restore(const SavedBudget& saved);
  // Called (outside the lock, on the thread of the answer) whenever what is worth keeping
  // across a restart changes (RequestBudget::saved): an answer's headers or a 429 begin to
  // hold starts back (a SavedBudget to keep), or an answer says they no longer do (nullopt:
  // nothing to keep).
  void on_saved_budget(std::function<void(const std::optional<SavedBudget>&)> callback);

 private:
  mutable std::mutex mu_;
  RequestBudget budget_;
  const Clock& clock_;
  Sleeper& sleeper_;
  bool sharing_logged_ = false;  // the "another client" warning is in force
  std::function<void(MonoTime)> on_announced_wait_;
  bool earlier_logged_ = false;  // the requests from before this start were named
  std::function<void(const std::optional<SavedBudget>&)> on_saved_;
  std::optional<SavedBudget> last_saved_;  // as last told to on_saved_ (or restored)
  // observe() under mu_: the budget, and the log lines about other clients.
  void observe_locked(MonoTime sent, const ServerBudget& server);
  // What to keep now, when it differs from what was last told (mu_ held); the callback to tell
  // it to is returned with it, to be called once the lock is released.
  std::optional<
      std::pair<std::function<void(const std::optional<SavedBudget>&)>, std::optional<SavedBudget>>>
  saved_change();
};

}  // namespace orc
