#include "net/rate_limit_headers.h"

#include "base/text.h"
#include "net/http_date.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <vector>

namespace orc {
namespace {

constexpr long long kOneDay = 24 * 60 * 60;
constexpr long long kMostCount = 1'000'000'000;
// A reset number larger than this is a Unix time, not a delta (2001-09-09).
constexpr long long kUnixTimeFrom = 1'000'000'000;

// A non-negative whole number (a decimal fraction is cut to its whole part).
std::optional<long long> whole(std::string_view s) {
  s = trim_ows(s);
  long long n = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, n);
  if (s.empty() || ec != std::errc() || n < 0) return std::nullopt;
  if (ptr != end && *ptr == '.') {
    ++ptr;
    while (ptr != end && *ptr >= '0' && *ptr <= '9') ++ptr;
  }
  if (ptr != end) return std::nullopt;
  return n;
}

// Splits at `sep` outside double quotes.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == sep && !quoted) {
      out.push_back(trim_ows(s.substr(from, i - from)));
      from = i + 1;
    }
  }
  out.push_back(trim_ows(s.substr(from)));
  return out;
}

// One member of a structured-field list: `"name";k=v;k=v` (the name may be a bare token or a
// number, as in the older `100;w=60`).
struct Member {
  std::string name;
  std::map<std::string, std::string, std::less<>> params;
};

std::vector<Member> members(std::string_view header) {
  std::vector<Member> out;
  for (std::string_view part : split(header, ',')) {
    if (part.empty()) continue;
    const auto pieces = split(part, ';');
    Member m;
    std::string_view name = pieces.front();
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    if (name.find('=') != std::string_view::npos) {
      // The dictionary form `limit=100, remaining=50, reset=5`: the member is a parameter.
      const auto eq = name.find('=');
      m.params.emplace(std::string(trim_ows(name.substr(0, eq))), std::string(name.substr(eq + 1)));
    } else {
      m.name = name;
    }
    for (std::size_t i = 1; i < pieces.size(); ++i) {
      const auto eq = pieces[i].find('=');
      if (eq == std::string_view::npos) continue;
      m.params.emplace(std::string(trim_ows(pieces[i].substr(0, eq))),
                       std::string(trim_ows(pieces[i].substr(eq + 1))));
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<long long> param(const Member& m, std::string_view key) {
  auto it = m.params.find(key);
  if (it == m.params.end()) return std::nullopt;
  return whole(it->second);
}

std::optional<long long> header_number(const std::map<std::string, std::string>& headers,
                                       const std::string& name) {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return whole(it->second);
}

std::optional<std::chrono::seconds> seconds_up_to_a_day(std::optional<long long> v) {
  // A larger value is not a delta (X-RateLimit-Reset is a Unix time in some descriptions).
  if (!v || *v > kOneDay) return std::nullopt;
  return std::chrono::seconds(*v);
}

ServerBudget clamp(long long remaining, std::optional<long long> reset,
                   std::optional<long long> quota, std::optional<long long> window) {
  ServerBudget b;
  if (quota && *quota < 1) quota.reset();
  if (quota) b.quota = static_cast<int>(std::min(*quota, kMostCount));
  b.remaining = static_cast<int>(std::min<long long>(remaining, b.quota.value_or(kMostCount)));
  b.reset = seconds_up_to_a_day(reset);
  if (window && *window >= 1) b.window = seconds_up_to_a_day(window);
  return b;
}

// The IETF draft form: Ratelimit with r (and t), Ratelimit-Policy with q (and w), matched by
// name; or the dictionary form with limit, remaining and reset.
std::optional<ServerBudget> from_structured(const std::map<std::string, std::string>& headers) {
  auto limit = headers.find("ratelimit");
  if (limit == headers.end()) return std::nullopt;
  const std::vector<Member> limits = members(limit->second);
  std::vector<Member> policies;
  if (auto p = headers.find("ratelimit-policy"); p != headers.end()) {
    policies = members(p->second);
  }
  std::optional<ServerBudget> best;
  for (const Member& m : limits) {
    const auto r = param(m, "r");
    if (!r) continue;
    // Only the policy of the item's own name describes it (the draft's rule): Cloudflare's
    // documented pair names them "default" and "burst", which are not one policy.
    std::optional<long long> q, w;
    for (const Member& p : policies) {
      if (p.name == m.name) {
        q = param(p, "q");
        w = param(p, "w");
      }
    }
    ServerBudget b = clamp(*r, param(m, "t"), q, w);
    if (!best || b.remaining < best->remaining) best = b;
  }
  if (best) return best;
  // `limit=100, remaining=50, reset=5`
  std::optional<long long> remaining, reset, quota;
  for (const Member& m : limits) {
    if (auto v = param(m, "remaining")) remaining = v;
    if (auto v = param(m, "reset")) reset = v;
    if (auto v = param(m, "limit")) quota = v;
  }
  if (!remaining) return std::nullopt;
  std::optional<long long> window;
  for (const Member& p : policies) {
    if (auto w = param(p, "w")) window = w;
  }
  return clamp(*remaining, reset, quota, window);
}

// The separate-header forms: `<prefix>remaining` (and -limit, -reset). An older draft's
// `RateLimit-Policy: 100;w=60` names the window of the limit it repeats.
std::optional<ServerBudget> from_separate(
    const std::map<std::string, std::string>& headers, const std::string& prefix,
    std::optional<std::chrono::system_clock::time_point> now) {
  const auto remaining = header_number(headers, prefix + "remaining");
  if (!remaining) return std::nullopt;
  std::optional<long long> reset;
  if (auto it = headers.find(prefix + "reset"); it != headers.end()) {
    if (const auto d = reset_delay(it->second, now)) reset = d->count();
  }
  const auto quota = header_number(headers, prefix + "limit");
  std::optional<long long> window;
  if (auto p = headers.find(prefix + "policy"); p != headers.end() && quota) {
    for (const Member& m : members(p->second)) {
      if (!m.name.empty() && whole(m.name) == quota) window = param(m, "w");
    }
  }
  return clamp(*remaining, reset, quota, window);
}

}  // namespace

std::optional<std::chrono::seconds> reset_delay(
    std::string_view value, std::optional<std::chrono::system_clock::time_point> now) {
  using std::chrono::seconds;
  if (const auto n = whole(value)) {
    if (*n <= kOneDay) return seconds(*n);
    if (*n < kUnixTimeFrom || !now) return std::nullopt;
    const auto at = std::chrono::system_clock::time_point(seconds(*n));
    if (at <= *now) return seconds(0);
    return std::chrono::ceil<seconds>(at - *now);
  }
  const auto at = parse_http_date(trim_ows(value));
  if (!at || !now) return std::nullopt;
  if (*at <= *now) return seconds(0);
  return std::chrono::ceil<seconds>(*at - *now);
}

std::optional<ServerBudget> read_server_budget(
    const std::map<std::string, std::string>& headers,
    std::optional<std::chrono::system_clock::time_point> now) {
  if (auto b = from_structured(headers)) return b;
  for (const std::string_view p : {"ratelimit-", "x-ratelimit-"}) {
    if (auto b = from_separate(headers, std::string(p), now)) return b;
  }
  return std::nullopt;
}

}  // namespace orc
