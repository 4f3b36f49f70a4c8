// libFuzzer target: a set of answer headers ("Name: value" lines) through read_server_budget
// and into the request budget. Nothing may crash; what is read is consistent (remaining within
// the quota, resets and windows at most a day), and however the server's numbers read, the
// budget never holds requests back longer than kMaxAnnouncedWait from the answer.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "net/rate_limit_headers.h"
#include "net/rate_limiter.h"

using orc::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> headers;  // lower-case names, as the HTTP client keeps them
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      headers[name] = std::string(value);
    }
    start = end + 1;
  }
  const auto server = orc::read_server_budget(headers);
  if (!server) return 0;
  check(server->remaining >= 0, "a negative remaining count");
  if (server->quota) check(server->remaining <= *server->quota, "remaining above the quota");
  const auto day = std::chrono::hours(24);
  if (server->reset)
    check(*server->reset >= std::chrono::seconds(0) && *server->reset <= day,
          "a reset beyond a day");
  if (server->window)
    check(*server->window > std::chrono::seconds(0) && *server->window <= day,
          "a window beyond a day");

  orc::RequestBudget budget(4.0, orc::kDefaultBudgetHeadroom);
  const orc::MonoTime t0{std::chrono::hours(1)};
  check(budget.try_start(t0) == std::chrono::nanoseconds::zero(), "the first start waited");
  budget.observe(t0, t0, *server);
  const orc::MonoTime now = t0 + std::chrono::milliseconds(1);
  if (const auto wait = budget.announced_wait(now)) {
    check(wait->until <= t0 + orc::kMaxAnnouncedWait, "an announced wait beyond an hour");
  }
  const auto wait = budget.try_start(now);
  check(wait <= orc::kMaxAnnouncedWait, "a start held back beyond an hour");
  return 0;
}
