// What the API said about the user's request budget, kept across a restart: the numbers of the
// last answer's rate-limit headers while they hold requests back (none left, reset in a while),
// and a 429's Retry-After while it runs. The daemon writes it to a small file in its state
// directory (api-budget.json) and reads it at start, so that a restart inside the server's
// window waits for the reset the server named instead of sending at once. Pure: text in, text
// out; the file is read and written by the caller.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "net/rate_limit_headers.h"

namespace orc {

inline constexpr std::string_view kBudgetStateFormat = "origin-reconciler-api-budget";
inline constexpr int kBudgetStateVersion = 1;
// The file's name in the state directory, and the most of it that is read (it is a few
// hundred bytes; anything larger is not one of ours).
inline constexpr std::string_view kBudgetStateFile = "api-budget.json";
inline constexpr std::size_t kMaxBudgetStateBytes = 4096;

struct SavedBudget {
  // The rate-limit headers of the answer in force: when it came (the wall clock, to the
  // millisecond) and what they said (its reset counts from that moment).
  struct Answer {
    WallTime at{};
    ServerBudget server;
    friend bool operator==(const Answer&, const Answer&) = default;
  };
  std::optional<Answer> answer;
  std::optional<WallTime> paused_until;  // a 429's Retry-After ends then
  friend bool operator==(const SavedBudget&, const SavedBudget&) = default;
};

// The file's text: one JSON object, times in milliseconds since 1970 (UTC).
//   {"format": "origin-reconciler-api-budget", "version": 1,
//    "answer": {"at_ms": 1796000000123, "remaining": 0, "reset_seconds": 5, "quota": 1200,
//               "window_seconds": 300},
//    "paused_until_ms": 1796000030000}
std::string to_budget_state_text(const SavedBudget& saved);

// Reads the file's text strictly (a file this daemon did not write, cut short or edited, is not
// trusted): an Error saying which key is wrong and why, never quoting the text. Values are kept
// in the ranges the rate-limit headers are read in: a reset or a window longer than a day is a
// day (the wait it makes is capped further, at an hour, by the request budget), remaining at
// most the quota.
StatusOr<SavedBudget> parse_budget_state(std::string_view text);

}  // namespace orc
