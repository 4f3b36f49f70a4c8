#include "config/config.h"

#include "base/rfc3339.h"
#include "base/source_text.h"
#include "base/text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string_view>
#include <system_error>
#include <vector>

#include "config/yaml_reader.h"
#include "model/ip.h"
#include "model/plan_file.h"

namespace orc {

namespace fs = std::filesystem;

std::string_view to_string(ZoneSeriesMode mode) {
  return enum_name(kZoneSeriesModeNames, mode);
}

std::string api_flavor_warning(const Config& config) {
  if (config.cloudflare.api_flavor != ApiFlavor::kCacheV1) return {};
  return config.path.string() +
         ": cloudflare.api_flavor: cache-v1 (/zones/{zone}/cache/origin_cloud_regions) reached "
         "end of life at Cloudflare on 2026-10-01; set 'api_flavor: origin-v2' "
         "(/zones/{zone}/origin/cloud_regions, the default) or remove the key";
}

namespace {

constexpr std::size_t kMaxConfigBytes = 16u << 20;

// reconcile.suspend.until: an RFC 3339 time, in UTC or with an offset (rfc3339.h), as a zone's
// suspend: takes it.
WallTime suspension_end(yaml::Reader& r, const yaml::Value& v) {
  const std::string must = "must be " + std::string(kRfc3339Example);
  if (!v.is_scalar()) r.fail_value(v, must);
  const auto t = parse_rfc3339(v.text);
  if (!t.ok()) r.fail_value(v, must + ": " + t.error().message);
  return *t;
}

constexpr std::size_t kMaxTokenBytes = 64u << 10;

bool has_control_char(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text, int min) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bool is_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// cloudflare.api_base checked and normalized, or what is wrong with it.
StatusOr<std::string> check_api_base(std::string_view url) {
  constexpr std::string_view kHttps = "https://";
  constexpr std::string_view kHttp = "http://";
  bool secure = false;
  std::string_view rest;
  if (url.size() >= kHttps.size() && ascii_iequals(url.substr(0, kHttps.size()), kHttps)) {
    secure = true;
    rest = url.substr(kHttps.size());
  } else if (url.size() >= kHttp.size() && ascii_iequals(url.substr(0, kHttp.size()), kHttp)) {
    rest = url.substr(kHttp.size());
  } else {
    return Error{"must be an http:// or https:// URL"};
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Error{"must be a URL without spaces or control characters"};
    }
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Error{"must be a URL without a query or fragment"};
  }
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return Error{"must not contain user information (credentials never go into the URL)"};
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  bool loopback = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error{"must be a URL with a valid host"};
    host = authority.substr(1, close - 1);
    const auto ip = parse_ip(host);
    if (!ip || ip->family != IpAddress::Family::kV6)
      return Error{"must be a URL with a valid host"};
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Error{"must be a URL with a valid host"};
      has_port = true;
      port_text = after.substr(1);
    }
    loopback = to_string(*ip) == "::1";
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (!is_hostname(host)) return Error{"must be a URL with a valid host"};
    const auto ip = parse_ip(host);
    loopback = ascii_iequals(host, "localhost") ||
               (ip && ip->family == IpAddress::Family::kV4 && ip->bytes[0] == 127);
  }
  if (has_port && !parse_port(port_text, 1)) return Error{"must be a URL with a port 1..65535"};
  if (!secure && !loopback) {
    return Error{
        "must use https:// (plain http:// is only allowed for a loopback host: 127.x.x.x, "
        "localhost or [::1]; the API token must not travel in clear text)"};
  }

  std::string_view normalized = url;
  while (!normalized.empty() && normalized.back() == '/') normalized.remove_suffix(1);
  return std::string(normalized);
}

// `listen` checked, or what is wrong with it.
StatusOr<ListenAddress> check_listen(std::string_view text) {
  ListenAddress out;
  constexpr const char* kForm =
      "must be host:port or [ipv6]:port, e.g. 127.0.0.1:9464 or [::1]:9464";
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{kForm};
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    const auto ip = parse_ip(host);
    if (!ip || ip->family != IpAddress::Family::kV6)
      return Error{"host must be an IPv6 address in []"};
    out.host = to_string(*ip);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error{kForm};
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Error{"an IPv6 host must be written in brackets, e.g. [::1]:9464"};
    }
    if (host == "localhost") {
      out.host = "localhost";
    } else {
      const auto ip = parse_ip(host);
      if (!ip) return Error{"host must be an IP address or localhost, e.g. 127.0.0.1:9464"};
      out.host = to_string(*ip);
    }
  }
  const auto port = parse_port(port_text, 0);
  if (!port) return Error{"port must be a number 0..65535"};
  out.port = *port;
  return out;
}

// --- Values ----------------------------------------------------------------------------------
// Each reads the value under the key being read, or stops with a message naming that key.

// Any scalar, quoted or not.
std::string string(yaml::Reader& r, const yaml::Value& v, const std::string& what) {
  if (!v.is_scalar()) r.fail_value(v, what);
  return std::string(v.text);
}

// An unquoted scalar: numbers and booleans are not strings.
std::string plain(yaml::Reader& r, const yaml::Value& v, const std::string& what) {
  if (!v.is_scalar()) r.fail_value(v, what);
  if (v.quoted) r.fail_value(v, what + ", not a quoted string");
  return std::string(v.text);
}

int integer(yaml::Reader& r, const yaml::Value& v, int lo, int hi) {
  const std::string s = plain(r, v, "must be a whole number");
  long long n = 0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, n);
  const std::string range = "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (ptr != end || s.empty()) r.fail_value(v, "must be a whole number");
  if (ec == std::errc::result_out_of_range) r.fail_value(v, range);
  if (ec != std::errc()) r.fail_value(v, "must be a whole number");
  if (n < lo || n > hi) r.fail_value(v, range);
  return static_cast<int>(n);
}

// A finite number within [lo, hi].
double number(yaml::Reader& r, const yaml::Value& v, double lo, double hi, const char* range) {
  const std::string s = plain(r, v, "must be a number");
  double d = 0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, d);
  if (s.empty() || ptr != end || ec != std::errc() || !std::isfinite(d)) {
    r.fail_value(v, "must be a number");
  }
  if (!(d >= lo && d <= hi)) r.fail_value(v, range);
  return d;
}

bool boolean(yaml::Reader& r, const yaml::Value& v) {
  const std::string s = plain(r, v, "must be true or false");
  if (s == "true") return true;
  if (s == "false") return false;
  r.fail_value(v, "must be true or false");
}

Millis duration(yaml::Reader& r, const yaml::Value& v, Millis lo, Millis hi) {
  constexpr const char* kWhat = "not a duration like 500ms, 30s, 5m or 1h";
  const auto d = parse_duration(string(r, v, kWhat));
  if (!d) r.fail_value(v, kWhat);
  if (*d < lo || *d > hi) {
    r.fail_value(v, "must be between " + format_duration(lo) + " and " + format_duration(hi));
  }
  return *d;
}

// The enumerator `table` names by the value (`what` lists the names).
template <typename Table>
typename Table::value_type::enum_type named(yaml::Reader& r, const yaml::Value& v,
                                            const Table& table, const char* what) {
  const auto value = enum_from_name(table, string(r, v, what));
  if (!value) r.fail_value(v, what);
  return *value;
}

// --- The file's keys -------------------------------------------------------------------------

constexpr Millis kMaxBackoff{60 * 60 * 1000};  // reconcile.retry's backoffs
bool is_dns_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

Status check_dns1123_label(std::string_view name) {
  if (name.empty() || name.size() > 63) return Error{"must be 1 to 63 characters"};
  for (const char c : name) {
    if (!is_dns_alnum(c) && c != '-') {
      return Error{"must be lower-case letters, digits and '-' (a DNS-1123 label)"};
    }
  }
  if (name.front() == '-' || name.back() == '-')
    return Error{"must start and end with a letter or digit"};
  return ok_status();
}

Status check_dns1123_subdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return Error{"must be 1 to 253 characters"};
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty()) return Error{"must be dot-separated labels, none of them empty"};
    for (const char c : label) {
      if (!is_dns_alnum(c) && c != '-') {
        return Error{"must be lower-case letters, digits, '-' and '.' (a DNS-1123 subdomain)"};
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Error{"must start and end each label with a letter or digit"};
    }
    start = dot + 1;
  }
  return ok_status();
}

Status check_lease_identity(std::string_view identity) {
  if (identity.empty() || identity.size() > 253) return Error{"must be 1 to 253 characters"};
  for (const char ch : identity) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) return Error{"must be printable ASCII without spaces"};
  }
  return ok_status();
}

bool events_enabled(const Config& config) {
  return config.events.enabled.value_or(config.leader_election.enabled);
}

StatusOr<std::string> check_server_url(std::string_view url) {
  return check_api_base(url);
}

namespace {

class ConfigParser {
 public:
  ConfigParser(std::string file, fs::path dir, Config& c)
      : reader_(std::move(file)), dir_(std::move(dir)) {
    using yaml::Reader;
    using yaml::Value;
    top_.key("cloudflare", cloudflare_)
        .key("reconcile", reconcile_)
        .key("listen",
             [&c](Reader& r, const Value& v) {
               auto addr = check_listen(string(r, v, "must be host:port"));
               if (!addr.ok()) r.fail_value(v, addr.error().message);
               c.listen = *addr;
             })
        .key("log", log_)
        .key("leader_election", leader_)
        .key("metrics", metrics_)
        .key("state_directory",
             [this, &c](Reader& r, const Value& v) { c.state_directory = file_path(r, v); })
        .key("events", events_);
    cloudflare(c.cloudflare);
    reconcile(c.reconcile);
    retry(c.reconcile.retry);
    log(c.log);
    leader_election(c.leader_election);
    metrics(c.metrics);
    events_.key("enabled",
                [&c](yaml::Reader& r, const yaml::Value& v) { c.events.enabled = boolean(r, v); });
  }

  void parse(std::string_view text) {
    const Status status = reader_.read(text, top_);
    if (!status.ok()) throw ConfigError(status.error().message);
  }

 private:
  // cloudflare: where the API is and how hard to use it.
  void cloudflare(CloudflareConfig& cf) {
    using yaml::Reader;
    using yaml::Value;
    cloudflare_
        .key("api_base",
             [&cf](Reader& r, const Value& v) {
               auto base = check_api_base(string(r, v, "must be an http:// or https:// URL"));
               if (!base.ok()) r.fail_value(v, base.error().message);
               cf.api_base = std::move(*base);
             })
        .key("api_flavor",
             [&cf](Reader& r, const Value& v) {
               cf.api_flavor = named(r, v, kApiFlavorNames, "must be cache-v1 or origin-v2");
             })
        .key("token_file",
             [this, &cf](Reader& r, const Value& v) { cf.token_file = file_path(r, v); })
        .key("request_timeout",
             [&cf](Reader& r, const Value& v) {
               cf.request_timeout = duration(r, v, Millis{1000}, Millis{10 * 60 * 1000});
             })
        .key("requests_per_second",
             [this, &cf](Reader& r, const Value& v) {
               // One request per 100 s at the least: a smaller rate would make the limiter's
               // waits overflow (1e-300 used to mean no limit at all).
               constexpr const char* kRange = "must be between 0.01 and 1000";
               cf.requests_per_second = number(r, v, 0, 1000, kRange);
               // 0: no client-side budget (checked against api_base at the section's end).
               if (cf.requests_per_second != 0 && cf.requests_per_second < 0.01) {
                 r.fail_value(v, kRange);
               }
               requests_per_second_ = yaml::Kept(v);
             })
        .key("page_size",
             [&cf](Reader& r, const Value& v) { cf.page_size = integer(r, v, 1, 100); })
        .key("max_response_bytes",
             [&cf](Reader& r, const Value& v) {
               cf.max_response_bytes =
                   static_cast<std::size_t>(integer(r, v, 64 * 1024, 1024 * 1024 * 1024));
             })
        .key("budget_headroom",
             [&cf](Reader& r, const Value& v) {
               cf.budget_headroom = number(r, v, 0, 0.9, "must be between 0 and 0.9");
             })
        .on_end([this, &cf](Reader& r) {
          // 0: no client-side budget, for benchmarks against a stand-in; plain http:// is only
          // allowed on loopback, so this never reaches Cloudflare.
          if (cf.requests_per_second == 0 && !cf.api_base.starts_with("http://")) {
            r.fail_value(requests_per_second_.value(), r.path() + ".requests_per_second",
                         "0 (no client-side budget) is only allowed with an http:// api_base "
                         "on loopback");
          }
        });
  }

  // reconcile: the desired state, the cycle, its guards and its settling.
  void reconcile(ReconcileConfig& rc) {
    using yaml::Reader;
    using yaml::Value;
    reconcile_
        .key("desired_state",
             [this, &rc](Reader& r, const Value& v) { rc.desired_state = file_path(r, v); })
        .key("interval",
             [&rc](Reader& r, const Value& v) {
               rc.interval = duration(r, v, Millis{1000}, Millis{24 * 60 * 60 * 1000});
             })
        .key("batch_size",
             [&rc](Reader& r, const Value& v) { rc.batch_size = integer(r, v, 1, 100); })
        .key("concurrency",
             [&rc](Reader& r, const Value& v) { rc.concurrency = integer(r, v, 1, 64); })
        .key("dry_run", [&rc](Reader& r, const Value& v) { rc.dry_run = boolean(r, v); })
        .key("max_delete_fraction",
             [&rc](Reader& r, const Value& v) {
               rc.max_delete_fraction = number(r, v, 0, 1, "must be between 0 and 1");
             })
        // The policy (policy.h) and the update guard's limit.
        .key("policy",
             [&rc](Reader& r, const Value& v) {
               rc.policy = named(r, v, kPolicyNames, "must be prune or sync");
             })
        .key("max_update_fraction",
             [&rc](Reader& r, const Value& v) {
               rc.max_update_fraction = number(r, v, 0, 1, "must be between 0 and 1");
             })
        .key("retry", retry_)
        .key("settle_period",
             [&rc](Reader& r, const Value& v) {
               rc.settle_period = duration(r, v, Millis{100}, Millis{10 * 60 * 1000});
             })
        .key("hold_confirm_period",
             [&rc](Reader& r, const Value& v) {
               rc.hold_confirm_period = duration(r, v, Millis{1000}, Millis{24 * 60 * 60 * 1000});
             })
        .key("suspend", suspend_);
    // reconcile.suspend: the whole daemon's freeze, with a required reason.
    suspend_
        .key("reason",
             [&rc](Reader& r, const Value& v) {
               if (!v.is_scalar() || v.text.empty()) r.fail_value(v, "must be a non-empty string");
               rc.suspend->reason.assign(v.text);
             })
        .key("until",
             [&rc](Reader& r, const Value& v) { rc.suspend->until = suspension_end(r, v); })
        .on_begin([&rc](Reader&, const Value&) { rc.suspend = Suspension{}; })
        .on_end([this](Reader& r) {
          if (!suspend_.seen("reason")) {
            r.fail(suspend_.mark(), r.path(),
                   "needs a reason (suspend: {reason: \"...\", until: \"2026-12-24T00:00:00Z\"})");
          }
        });
  }

  // reconcile.retry: attempts and backoffs, with max_backoff at least initial_backoff.
  void retry(RetryPolicy& rp) {
    using yaml::Reader;
    using yaml::Value;
    retry_
        .key("max_attempts",
             [&rp](Reader& r, const Value& v) { rp.max_attempts = integer(r, v, 1, 20); })
        .key("initial_backoff",
             [this, &rp](Reader& r, const Value& v) {
               rp.initial_backoff = duration(r, v, Millis{1}, kMaxBackoff);
               initial_backoff_ = yaml::Kept(v);
             })
        .key("max_backoff",
             [this, &rp](Reader& r, const Value& v) {
               rp.max_backoff = duration(r, v, Millis{1}, kMaxBackoff);
               max_backoff_ = yaml::Kept(v);
             })
        .on_end([this, &rp](Reader& r) {
          if (rp.max_backoff >= rp.initial_backoff) return;
          // Blame the key the user wrote; when both are written, max_backoff.
          const std::string prefix = r.path();
          if (retry_.seen("max_backoff")) {
            r.fail_value(max_backoff_.value(), prefix + ".max_backoff",
                         "must be at least " + prefix + ".initial_backoff (" +
                             format_duration(rp.initial_backoff) + ")");
          }
          r.fail_value(initial_backoff_.value(), prefix + ".initial_backoff",
                       "must be at most " + prefix + ".max_backoff (" +
                           format_duration(rp.max_backoff) + ")");
        });
  }

  void log(LogConfig& lc) {
    using yaml::Reader;
    using yaml::Value;
    log_.key("level",
             [&lc](Reader& r, const Value& v) {
               lc.level = named(r, v, kLogLevelNames, "must be trace, debug, info, warn or error");
             })
        .key("format", [&lc](Reader& r, const Value& v) {
          lc.format = named(r, v, kLogFormatNames, "must be auto, text, json or journal");
        });
  }

  void metrics(MetricsConfig& mc) {
    using yaml::Reader;
    using yaml::Value;
    metrics_.key("zone_series", [&mc](Reader& r, const Value& v) {
      mc.zone_series = named(r, v, kZoneSeriesModeNames, "must be all, failing or none");
    });
  }

  // leader_election: the whole section, with its checks across keys, in one place.
  void leader_election(LeaderElectionConfig& le) {
    using yaml::Reader;
    using yaml::Value;
    // A name checked by `check`; `optional` also takes "".
    const auto name = [](Status (*check)(std::string_view), std::string& out, bool optional) {
      return [check, &out, optional](Reader& r, const Value& v) {
        out = string(r, v, "must be a string");
        if (optional && out.empty()) return;
        if (const Status checked = check(out); !checked.ok()) {
          r.fail_value(v, checked.error().message);
        }
      };
    };
    constexpr Millis kHour{60 * 60 * 1000};
    leader_.key("enabled", [&le](Reader& r, const Value& v) { le.enabled = boolean(r, v); })
        .key("namespace", name(&check_dns1123_label, le.ns, true))
        .key("lease_name", name(&check_dns1123_subdomain, le.lease_name, false))
        .key("identity", name(&check_lease_identity, le.identity, true))
        .key("lease_duration",
             [this, &le, kHour](Reader& r, const Value& v) {
               le.lease_duration = duration(r, v, Millis{1000}, kHour);
               if (le.lease_duration.count() % 1000 != 0) {
                 r.fail_value(v, "must be whole seconds (the Lease keeps leaseDurationSeconds)");
               }
               lease_duration_ = yaml::Kept(v);
             })
        .key("renew_deadline",
             [this, &le, kHour](Reader& r, const Value& v) {
               le.renew_deadline = duration(r, v, Millis{100}, kHour);
               renew_deadline_ = yaml::Kept(v);
             })
        .key("retry_period",
             [this, &le, kHour](Reader& r, const Value& v) {
               le.retry_period = duration(r, v, Millis{100}, kHour);
               retry_period_ = yaml::Kept(v);
             })
        .key("api_server",
             [&le](Reader& r, const Value& v) {
               const std::string s = string(r, v, "must be an https:// URL");
               le.api_server.clear();
               if (s.empty()) return;
               auto url = check_server_url(s);
               if (!url.ok()) r.fail_value(v, url.error().message);
               le.api_server = std::move(*url);
             })
        .key("token_file",
             [this, &le](Reader& r, const Value& v) { le.token_file = file_path(r, v); })
        .key("ca_file", [this, &le](Reader& r, const Value& v) { le.ca_file = file_path(r, v); })
        .on_end([this, &le](Reader& r) {
          // client-go's rules: a renewal must be tried again before the lease can expire.
          // Blame the key the user wrote; when both are written, the shorter one.
          const std::string prefix = r.path();
          const auto order = [&](const yaml::Kept& blame, const std::string& key,
                                 const char* relation, const std::string& other, Millis value) {
            r.fail_value(blame.value(), prefix + "." + key,
                         std::string("must be ") + relation + " " + prefix + "." + other + " (" +
                             format_duration(value) + ")");
          };
          if (le.renew_deadline >= le.lease_duration) {
            if (leader_.seen("renew_deadline")) {
              order(renew_deadline_, "renew_deadline", "less than", "lease_duration",
                    le.lease_duration);
            }
            order(lease_duration_, "lease_duration", "more than", "renew_deadline",
                  le.renew_deadline);
          }
          if (le.retry_period >= le.renew_deadline) {
            if (leader_.seen("retry_period")) {
              order(retry_period_, "retry_period", "less than", "renew_deadline",
                    le.renew_deadline);
            }
            order(renew_deadline_, "renew_deadline", "more than", "retry_period", le.retry_period);
          }
        });
  }

  fs::path file_path(yaml::Reader& r, const yaml::Value& v) const {
    const std::string s = string(r, v, "must be a file path");
    if (s.empty()) r.fail_value(v, "must not be empty");
    if (s.find('\0') != std::string::npos) r.fail_value(v, "must be a file path");
    return (dir_ / fs::path(s)).lexically_normal();
  }

  yaml::Reader reader_;
  fs::path dir_;
  // Every section may be left out or empty ("log:"): its keys keep their defaults.
  yaml::Map top_;
  yaml::Map cloudflare_;
  yaml::Map reconcile_;
  yaml::Map retry_;
  yaml::Map suspend_{"must be a map with reason and until", "(suspend has reason and until)"};
  yaml::Map log_;
  yaml::Map leader_;
  yaml::Map metrics_;
  yaml::Map events_;
  yaml::Kept requests_per_second_;
  yaml::Kept lease_duration_;
  yaml::Kept renew_deadline_;
  yaml::Kept retry_period_;
  yaml::Kept initial_backoff_;
  yaml::Kept max_backoff_;
};

std::string prefix_of(const Config& config) {
  return config.path.empty() ? std::string() : config.path.string() + ": ";
}

// The daemon's user and groups, for token_file_exposure.
ProcessIdentity this_process() {
  ProcessIdentity self;
  self.euid = ::geteuid();
  self.groups.push_back(::getegid());
  const int n = ::getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    const int got = ::getgroups(n, groups.data());
    for (int i = 0; i < got; ++i) self.groups.push_back(groups[static_cast<std::size_t>(i)]);
  }
  return self;
}

// Reads a token from a file: trimmed, non-empty, fit for an HTTP header. `what` names the
// source in messages ("cloudflare.token_file /x"); the content never appears in them. A file
// that others can read adds a warning.
std::string read_token_file(const Config& config, const fs::path& file, const std::string& what,
                            std::vector<std::string>& warnings) {
  const auto content = read_file(file, kMaxTokenBytes);
  if (!content.ok()) {
    throw ConfigError(prefix_of(config) + what + ": cannot read " + file.string() + ": " +
                      content.error().message);
  }
  const std::string token(trim_space(content->text));
  if (token.empty())
    throw ConfigError(prefix_of(config) + what + ": " + file.string() + " is empty");
  if (has_control_char(token)) {
    throw ConfigError(prefix_of(config) + what + ": the token in " + file.string() +
                      " contains control characters (a token is one line of text; not shown)");
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    const FileAccess access{static_cast<unsigned>(st.st_mode), static_cast<unsigned>(st.st_uid),
                            static_cast<unsigned>(st.st_gid)};
    std::string warning =
        token_file_exposure(access, this_process(), what + " " + file.string(), file.string());
    if (!warning.empty()) warnings.push_back(prefix_of(config) + warning);
  }
  return token;
}

// An environment variable, trimmed; "" when unset or blank.
std::string env(GetEnv getenv_fn, const char* name) {
  const char* value = getenv_fn(name);
  if (value == nullptr) return {};
  return std::string(trim_space(value));
}

void check_env_secret(const Config& config, const std::string& value, const char* name) {
  if (has_control_char(value)) {
    throw ConfigError(prefix_of(config) + "env " + name +
                      " contains control characters (not shown)");
  }
}

}  // namespace

std::string token_file_exposure(const FileAccess& file, const ProcessIdentity& self,
                                const std::string& what, const std::string& path) {
  const bool others = (file.mode & S_IROTH) != 0;
  bool group = (file.mode & S_IRGRP) != 0;
  if (group && file.owner != self.euid) {
    // The daemon may be reading it through the group (a Kubernetes Secret with fsGroup).
    for (const unsigned g : self.groups) {
      if (g == file.group) group = false;
    }
  }
  if (!others && !group) return {};
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", file.mode & 07777u);
  const char* who = others ? (group ? "its group and every other user" : "every other user")
                           : "its group, which the daemon does not need";
  return what + ": the token is readable by " + who + " (mode " + mode +
         "); let the daemon's user alone read it: chmod go-rwx " + path;
}

Config parse_config(std::string_view text, const std::filesystem::path& path) {
  Config config;
  std::error_code ec;
  fs::path absolute = path.empty() ? fs::path() : fs::absolute(path, ec);
  if (ec) absolute = path;
  config.path = absolute.lexically_normal();
  fs::path dir = config.path.parent_path();
  if (dir.empty()) dir = fs::current_path(ec);

  config.reconcile.desired_state = (dir / config.reconcile.desired_state).lexically_normal();
  ConfigParser(path.string(), dir, config).parse(text);
  return config;
}

Config load_config(const std::filesystem::path& path) {
  const auto file = read_file(path, kMaxConfigBytes);
  if (!file.ok()) throw ConfigError(path.string() + ": cannot read: " + file.error().message);
  return parse_config(file->text, path);
}

Credentials resolve_credentials(const Config& config, GetEnv getenv_fn) {
  Credentials creds;
  if (config.cloudflare.token_file) {
    const fs::path& file = *config.cloudflare.token_file;
    creds.kind = Credentials::Kind::kToken;
    creds.token = read_token_file(config, file, "cloudflare.token_file", creds.warnings);
    creds.source = "token_file " + file.string();
    return creds;
  }

  if (std::string token = env(getenv_fn, "CLOUDFLARE_API_TOKEN"); !token.empty()) {
    check_env_secret(config, token, "CLOUDFLARE_API_TOKEN");
    creds.kind = Credentials::Kind::kToken;
    creds.token = std::move(token);
    creds.source = "env CLOUDFLARE_API_TOKEN";
    return creds;
  }

  std::string email = env(getenv_fn, "CLOUDFLARE_EMAIL");
  std::string key = env(getenv_fn, "CLOUDFLARE_API_KEY");
  if (!email.empty() || !key.empty()) {
    if (key.empty()) {
      throw ConfigError(prefix_of(config) +
                        "CLOUDFLARE_EMAIL is set but CLOUDFLARE_API_KEY is missing");
    }
    if (email.empty()) {
      throw ConfigError(prefix_of(config) +
                        "CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is missing");
    }
    check_env_secret(config, email, "CLOUDFLARE_EMAIL");
    check_env_secret(config, key, "CLOUDFLARE_API_KEY");
    creds.kind = Credentials::Kind::kGlobalKey;
    creds.email = std::move(email);
    creds.api_key = std::move(key);
    creds.source = "env CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY";
    return creds;
  }

  if (const std::string dir = env(getenv_fn, "CREDENTIALS_DIRECTORY"); !dir.empty()) {
    const fs::path file = fs::path(dir) / "cloudflare-api-token";
    std::error_code ec;
    if (fs::exists(file, ec)) {
      Credentials found =
          read_token_credentials(config, file, "systemd credential cloudflare-api-token");
      found.source = "systemd credential " + file.string();
      return found;
    }
  }

  throw ConfigError(prefix_of(config) +
                    "no Cloudflare credentials: set cloudflare.token_file, CLOUDFLARE_API_TOKEN, "
                    "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY, or provide the systemd credential "
                    "cloudflare-api-token ($CREDENTIALS_DIRECTORY)");
}

std::optional<fs::path> state_directory(const Config& config, GetEnv getenv_fn) {
  if (config.state_directory) return config.state_directory;
  const char* env = getenv_fn("STATE_DIRECTORY");
  if (env == nullptr) return std::nullopt;
  const std::string first = std::string(env).substr(0, std::string(env).find(':'));
  if (first.empty()) return std::nullopt;
  return fs::path(first);
}

bool credentials_present(const Config& config, GetEnv getenv_fn) {
  if (config.cloudflare.token_file) return true;
  for (const char* name : {"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"}) {
    if (!env(getenv_fn, name).empty()) return true;
  }
  const std::string dir = env(getenv_fn, "CREDENTIALS_DIRECTORY");
  std::error_code ec;
  return !dir.empty() && fs::exists(fs::path(dir) / "cloudflare-api-token", ec);
}

Credentials read_token_credentials(const Config& config, const fs::path& file,
                                   const std::string& source) {
  Credentials creds;
  creds.kind = Credentials::Kind::kToken;
  creds.token = read_token_file(config, file, source, creds.warnings);
  creds.source = source + " " + file.string();
  return creds;
}

}  // namespace orc
