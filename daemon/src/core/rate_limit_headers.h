// What an API answer says about the user's request budget, read from its rate-limit headers.
// Cloudflare sends the IETF draft form (`Ratelimit: "default";r=50;t=30` with
// `Ratelimit-Policy: "default";q=1200;w=300`); older descriptions name `X-RateLimit-Limit`,
// `-Remaining` and `-Reset`, and earlier drafts `RateLimit-Limit`/`-Remaining`/`-Reset` or
// `RateLimit: limit=100, remaining=50, reset=5`. All are read; pure, no I/O.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace orc {

struct ServerBudget {
  int remaining = 0;  // requests the user may still send in the current window (all clients)
  std::optional<std::chrono::seconds> reset;   // until the window frees requests again (t)
  std::optional<int> quota;                    // requests per window (q)
  std::optional<std::chrono::seconds> window;  // the window's length (w)
  friend bool operator==(const ServerBudget&, const ServerBudget&) = default;
};

// `headers` as HttpResponse keeps them: names lower-cased. nullopt when no header states a
// remaining count, or it cannot be read. With several policies in one header the one with the
// fewest requests remaining wins (it binds first); values are clamped to sane ranges
// (remaining <= quota when both are known, windows and resets at most one day).
std::optional<ServerBudget> read_server_budget(const std::map<std::string, std::string>& headers);

}  // namespace orc
