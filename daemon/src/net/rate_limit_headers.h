// What an API answer says about the user's request budget, read from its rate-limit headers.
// Pure, no I/O.
//
// Cloudflare's limits page documents the IETF draft form (draft-ietf-httpapi-ratelimit-headers)
// with this very example:
//   Ratelimit: "default";r=50;t=30            (r: requests remaining, t: seconds to reset)
//   Ratelimit-Policy: "burst";q=100;w=60      (q: quota, w: window in seconds)
// In the draft an item belongs to the policy *of the same name*: here the "default" item has no
// policy of its name, so it says how many requests remain and when, but nothing about the quota
// or the window (the limiter then assumes Cloudflare's published 1,200 per 5 minutes). Several
// items and policies may be listed; each item is paired by name and the tightest one (the
// fewest requests remaining) binds. Older forms are read too: the dictionary
// `RateLimit: limit=100, remaining=50, reset=5`, the separate `RateLimit-Limit`/`-Remaining`/
// `-Reset` headers (with an optional `RateLimit-Policy: 100;w=60` naming the limit's window),
// and `X-RateLimit-Limit`/`-Remaining`/`-Reset`, whose Reset older descriptions give as a number
// of seconds, a Unix time or an HTTP date (RFC 1123).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace orc {

struct ServerBudget {
  int remaining = 0;  // requests the user may still send in the current window (all clients)
  std::optional<std::chrono::seconds> reset;   // until the window frees requests again (t)
  std::optional<int> quota;                    // requests per window (q)
  std::optional<std::chrono::seconds> window;  // the window's length (w)
  friend bool operator==(const ServerBudget&, const ServerBudget&) = default;
};

// `headers` as HttpResponse keeps them: names lower-cased. `now` is the time the answer speaks
// of (its own Date header, else when it arrived): the reference for a reset given as a Unix
// time or an HTTP date; without it such a reset is ignored. nullopt when no header states a
// remaining count, or it cannot be read. Values are clamped to sane ranges (remaining <= quota
// when both are known, windows and resets at most one day).
std::optional<ServerBudget> read_server_budget(
    const std::map<std::string, std::string>& headers,
    std::optional<std::chrono::system_clock::time_point> now = std::nullopt);

// A reset header's value as a wait from `now`: delay-seconds ("30"), a Unix time
// ("1795000030") or an HTTP date ("Wed, 19 Nov 2026 10:00:30 GMT"). A time in the past is no
// wait; nullopt when malformed, or a time is given without `now`. Not clamped.
std::optional<std::chrono::seconds> reset_delay(
    std::string_view value, std::optional<std::chrono::system_clock::time_point> now);

}  // namespace orc
