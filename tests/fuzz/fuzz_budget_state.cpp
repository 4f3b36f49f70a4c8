// libFuzzer target: the API budget a restart reads back (api-budget.json) through
// parse_budget_state and into the request budget. A file that is not one the daemon wrote is
// refused with a short, printable reason; one it accepts holds values in the ranges the
// headers are read in, reads back the same once written out (to_budget_state_text), and,
// restored at any moment, never holds a start back longer than kMaxAnnouncedWait.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "net/budget_state.h"
#include "net/rate_limiter.h"

using orc::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto saved = orc::parse_budget_state(text);
  if (!saved.ok()) {
    // Said after the file's name in a warning: short and printable, whatever the input.
    orc::fuzz::check_message("api-budget.json: " + saved.error().message, "api-budget.json");
    return 0;
  }
  if (saved->answer) {
    const orc::ServerBudget& s = saved->answer->server;
    const auto day = std::chrono::hours(24);
    check(s.remaining >= 0, "a negative remaining count");
    if (s.quota) check(s.remaining <= *s.quota, "remaining above the quota");
    if (s.reset)
      check(*s.reset >= std::chrono::seconds(0) && *s.reset <= day, "a reset beyond a day");
    if (s.window) {
      check(*s.window > std::chrono::seconds(0) && *s.window <= day, "a window beyond a day");
    }
  }
  const auto again = orc::parse_budget_state(orc::to_budget_state_text(*saved));
  check(again.ok() && *again == *saved, "an accepted file does not read back the same");

  // Restored at the moment of its answer, long after, and long before (a clock set back).
  const orc::MonoTime t0{std::chrono::hours(1)};
  const orc::WallTime at =
      saved->answer ? saved->answer->at : saved->paused_until.value_or(orc::WallTime{});
  for (const auto shift :
       {std::chrono::hours(0), std::chrono::hours(-48), std::chrono::hours(48)}) {
    orc::RequestBudget budget(4.0, orc::kDefaultBudgetHeadroom);
    budget.restore(t0, at + shift, *saved);
    if (const auto wait = budget.announced_wait(t0)) {
      check(wait->until <= t0 + orc::kMaxAnnouncedWait, "an announced wait beyond an hour");
    }
    check(budget.try_start(t0) <= orc::kMaxAnnouncedWait, "a start held back beyond an hour");
  }
  return 0;
}
