// Cloudflare's per-user request budget as a sliding window: the values of the Ratelimit
// headers every API answer carries and, when enforced (--rate-limit), the 429 past the quota.
// As at Cloudflare, a request past the quota locks the user out: every request is refused
// for one whole window from then (the refused ones are not counted).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include "base/clock.h"  // orc::MonoTime

namespace standin {

inline constexpr int kCloudflareQuota = 1200;  // requests per window
inline constexpr std::chrono::seconds kCloudflareWindow{300};

// What the Ratelimit-Policy header says. Cloudflare's limits page documents the pair
// `Ratelimit: "default";r=50;t=30` / `Ratelimit-Policy: "burst";q=100;w=60`: the policy need not
// carry the item's name (nor describe the window the item counts).
struct RatePolicyHeader {
  std::string name = "default";  // the policy's name; the Ratelimit item is always "default"
  bool documented = false;       // send the documented "burst";q=100;w=60 verbatim
};

class SlidingWindow {
 public:
  // `enforce` false: only count (for the headers), never refuse.
  SlidingWindow(int quota, std::chrono::seconds window, bool enforce, RatePolicyHeader policy = {});

  struct Verdict {
    bool allowed = true;
    int remaining = 0;      // requests left in the window
    int reset_seconds = 0;  // until the oldest counted request leaves the window
  };

  // Counts a request at `now` unless it is refused.
  Verdict admit(orc::MonoTime now);
  // The window as it stands, counting nothing.
  Verdict peek(orc::MonoTime now);

  std::string ratelimit_header(const Verdict& v) const;  // "default";r=R;t=T
  std::string policy_header() const;                     // "NAME";q=Q;w=W

 private:
  void expire(orc::MonoTime now);
  Verdict verdict(orc::MonoTime now, bool allowed) const;

  int quota_;
  std::chrono::seconds window_;
  bool enforce_;
  RatePolicyHeader policy_;
  std::deque<orc::MonoTime> times_;  // at most quota_ entries: more would not change a header
  std::optional<orc::MonoTime> locked_until_;  // enforced: refused until then
};

}  // namespace standin
