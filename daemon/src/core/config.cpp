#include "core/config.h"

#include "core/source_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/ip.h"
#include "core/yaml_progress.h"

namespace orc {

namespace fs = std::filesystem;

std::string_view to_string(ApiFlavor flavor) {
  switch (flavor) {
    case ApiFlavor::kCacheV1:
      return "cache-v1";
    case ApiFlavor::kOriginV2:
      return "origin-v2";
  }
  return "unknown";
}

std::string_view to_string(ZoneSeriesMode mode) {
  switch (mode) {
    case ZoneSeriesMode::kAll:
      return "all";
    case ZoneSeriesMode::kFailing:
      return "failing";
    case ZoneSeriesMode::kNone:
      return "none";
  }
  return "unknown";
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
constexpr std::size_t kMaxTokenBytes = 64u << 10;

// "'value'" for a scalar, "a map" / "a sequence" / "nothing" otherwise.
std::string describe(const YAML::Node& node) {
  if (node.IsScalar()) {
    // Built by appending: GCC 12 warns falsely (-Wrestrict) about "'" + std::string&&.
    std::string out(1, '\'');
    out += shown(node.Scalar());
    out += '\'';
    return out;
  }
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a sequence";
  return "nothing";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

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

bool parse_port(std::string_view text, int min, std::uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
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

// Checks and normalizes cloudflare.api_base. Returns an error text, or "" with `out` set.
std::string check_api_base(std::string_view url, std::string& out) {
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
    return "must be an http:// or https:// URL";
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "must be a URL without spaces or control characters";
    }
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return "must be a URL without a query or fragment";
  }
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return "must not contain user information (credentials never go into the URL)";
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  bool loopback = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return "must be a URL with a valid host";
    host = authority.substr(1, close - 1);
    const auto ip = parse_ip(host);
    if (!ip || ip->family != IpAddress::Family::kV6) return "must be a URL with a valid host";
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "must be a URL with a valid host";
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
    if (!is_hostname(host)) return "must be a URL with a valid host";
    const auto ip = parse_ip(host);
    loopback = ascii_iequals(host, "localhost") ||
               (ip && ip->family == IpAddress::Family::kV4 && ip->bytes[0] == 127);
  }
  std::uint16_t port = 0;
  if (has_port && !parse_port(port_text, 1, port)) return "must be a URL with a port 1..65535";
  if (!secure && !loopback) {
    return "must use https:// (plain http:// is only allowed for a loopback host: 127.x.x.x, "
           "localhost or [::1]; the API token must not travel in clear text)";
  }

  std::string_view normalized = url;
  while (!normalized.empty() && normalized.back() == '/') normalized.remove_suffix(1);
  out = std::string(normalized);
  return {};
}

// Checks `listen`. Returns an error text, or "" with `out` set.
std::string check_listen(std::string_view text, ListenAddress& out) {
  constexpr const char* kForm =
      "must be host:port or [ipv6]:port, e.g. 127.0.0.1:9464 or [::1]:9464";
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return kForm;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    const auto ip = parse_ip(host);
    if (!ip || ip->family != IpAddress::Family::kV6) return "host must be an IPv6 address in []";
    out.host = to_string(*ip);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return kForm;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return "an IPv6 host must be written in brackets, e.g. [::1]:9464";
    }
    if (host == "localhost") {
      out.host = "localhost";
    } else {
      const auto ip = parse_ip(host);
      if (!ip) return "host must be an IP address or localhost, e.g. 127.0.0.1:9464";
      out.host = to_string(*ip);
    }
  }
  if (!parse_port(port_text, 0, out.port)) return "port must be a number 0..65535";
  return {};
}

class ConfigParser {
 public:
  ConfigParser(std::string file, fs::path dir) : file_(std::move(file)), dir_(std::move(dir)) {}

  void parse(std::string_view text, Config& config) {
    std::vector<YAML::Node> docs;
    try {
      check_yaml_progress(text);  // yaml-cpp 0.7's LoadAll never ends on a stray ','
      docs = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
      std::string msg = where(file_, e.mark);
      if (!e.mark.is_null()) msg += ": column " + std::to_string(e.mark.column + 1);
      throw ConfigError(msg + ": invalid YAML: " + shown(e.msg));
    }
    if (docs.size() > 1) {
      throw ConfigError(file_ + ": holds " + std::to_string(docs.size()) +
                        " YAML documents; expected one");
    }
    if (docs.empty() || docs.front().IsNull()) return;  // all defaults
    try {
      top(docs.front(), config);
    } catch (const YAML::Exception& e) {  // not expected: every access is type-checked first
      throw ConfigError(where(file_, e.mark) + ": " + e.msg);
    }
  }

 private:
  using Handler = std::function<void(const YAML::Node& value, const std::string& key)>;
  struct Field {
    std::string_view name;
    Handler handle;
  };

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key,
                         const std::string& what) const {
    throw ConfigError(where(file_, mark_of(at)) + ": " + key + ": " + what);
  }
  [[noreturn]] void fail_value(const YAML::Node& value, const std::string& key,
                               const std::string& what) const {
    fail(value, key, what + " (got " + describe(value) + ")");
  }

  // Walks a map, rejecting unknown and repeated keys. A null section means "all defaults".
  void walk(const YAML::Node& node, const std::string& prefix,
            std::initializer_list<Field> fields) {
    if (node.IsNull()) return;
    if (!node.IsMap()) fail_value(node, prefix.empty() ? "top level" : prefix, "must be a map");
    std::vector<std::string> seen;
    key_mark_ = node.Mark();
    for (const auto& entry : node) {
      const YAML::Node& key_node = entry.first;
      if (!key_node.IsScalar()) {
        fail_value(key_node, prefix.empty() ? "top level" : prefix, "keys must be strings");
      }
      const std::string& name = key_node.Scalar();
      const std::string key = prefix.empty() ? name : prefix + "." + name;
      const Field* field = nullptr;
      for (const Field& f : fields) {
        if (f.name == name) field = &f;
      }
      if (field == nullptr) fail(key_node, shown(key), "unknown key");
      for (const std::string& s : seen) {
        if (s == name) fail(key_node, key, "appears twice");
      }
      seen.push_back(name);
      key_mark_ = key_node.Mark();
      field->handle(entry.second, key);
    }
  }

  // Any scalar, quoted or not.
  std::string string(const YAML::Node& v, const std::string& key, const std::string& what) {
    if (!v.IsScalar()) fail_value(v, key, what);
    return v.Scalar();
  }

  // An unquoted scalar: numbers and booleans are not strings.
  std::string plain(const YAML::Node& v, const std::string& key, const std::string& what) {
    if (!v.IsScalar()) fail_value(v, key, what);
    if (v.Tag() == "!") fail_value(v, key, what + ", not a quoted string");
    return v.Scalar();
  }

  int integer(const YAML::Node& v, const std::string& key, int lo, int hi) {
    const std::string s = plain(v, key, "must be a whole number");
    long long n = 0;
    const char* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, n);
    const std::string range =
        "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    if (ptr != end || s.empty()) fail_value(v, key, "must be a whole number");
    if (ec == std::errc::result_out_of_range) fail_value(v, key, range);
    if (ec != std::errc()) fail_value(v, key, "must be a whole number");
    if (n < lo || n > hi) fail_value(v, key, range);
    return static_cast<int>(n);
  }

  double number(const YAML::Node& v, const std::string& key) {
    const std::string s = plain(v, key, "must be a number");
    double d = 0;
    const char* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, d);
    if (s.empty() || ptr != end || ec != std::errc() || !std::isfinite(d)) {
      fail_value(v, key, "must be a number");
    }
    return d;
  }

  bool boolean(const YAML::Node& v, const std::string& key) {
    const std::string s = plain(v, key, "must be true or false");
    if (s == "true") return true;
    if (s == "false") return false;
    fail_value(v, key, "must be true or false");
  }

  Millis duration(const YAML::Node& v, const std::string& key, Millis lo, Millis hi) {
    constexpr const char* kWhat = "not a duration like 500ms, 30s, 5m or 1h";
    const std::string s = string(v, key, kWhat);
    const auto d = parse_duration(s);
    if (!d) fail_value(v, key, kWhat);
    if (*d < lo || *d > hi) {
      fail_value(v, key, "must be between " + format_duration(lo) + " and " + format_duration(hi));
    }
    return *d;
  }

  fs::path file_path(const YAML::Node& v, const std::string& key) {
    const std::string s = string(v, key, "must be a file path");
    if (s.empty()) fail_value(v, key, "must not be empty");
    if (s.find('\0') != std::string::npos) fail_value(v, key, "must be a file path");
    return (dir_ / fs::path(s)).lexically_normal();
  }

  void top(const YAML::Node& root, Config& c) {
    walk(root, "",
         {
             {"cloudflare",
              [&](const YAML::Node& v, const std::string& k) { cloudflare(v, k, c.cloudflare); }},
             {"reconcile",
              [&](const YAML::Node& v, const std::string& k) { reconcile(v, k, c.reconcile); }},
             {"listen",
              [&](const YAML::Node& v, const std::string& k) {
                const std::string s = string(v, k, "must be host:port");
                ListenAddress addr;
                const std::string error = check_listen(s, addr);
                if (!error.empty()) fail_value(v, k, error);
                c.listen = addr;
              }},
             {"log", [&](const YAML::Node& v, const std::string& k) { log(v, k, c.log); }},
             {"metrics",
              [&](const YAML::Node& v, const std::string& k) {
                walk(v, k, {{"zone_series", [&](const YAML::Node& m, const std::string& mk) {
                               constexpr const char* kWhat = "must be all, failing or none";
                               const std::string s = string(m, mk, kWhat);
                               for (auto mode : {ZoneSeriesMode::kAll, ZoneSeriesMode::kFailing,
                                                 ZoneSeriesMode::kNone}) {
                                 if (s == to_string(mode)) c.metrics.zone_series = mode;
                               }
                               if (!c.metrics.zone_series) fail_value(m, mk, kWhat);
                             }}});
              }},
         });
  }

  void cloudflare(const YAML::Node& node, const std::string& prefix, CloudflareConfig& c) {
    YAML::Node unlimited;  // requests_per_second as written
    cloudflare_keys(node, prefix, c, unlimited);
    // 0: no client-side budget, for benchmarks against a stand-in; plain http:// is only
    // allowed on loopback, so this never reaches Cloudflare.
    if (c.requests_per_second == 0 && !c.api_base.starts_with("http://")) {
      fail_value(unlimited, prefix + ".requests_per_second",
                 "0 (no client-side budget) is only allowed with an http:// api_base on loopback");
    }
  }

  void cloudflare_keys(const YAML::Node& node, const std::string& prefix, CloudflareConfig& c,
                       YAML::Node& unlimited) {
    walk(node, prefix,
         {
             {"api_base",
              [&](const YAML::Node& v, const std::string& k) {
                const std::string s = string(v, k, "must be an http:// or https:// URL");
                const std::string error = check_api_base(s, c.api_base);
                if (!error.empty()) fail_value(v, k, error);
              }},
             {"api_flavor",
              [&](const YAML::Node& v, const std::string& k) {
                constexpr const char* kWhat = "must be cache-v1 or origin-v2";
                const std::string s = string(v, k, kWhat);
                if (s == "cache-v1") {
                  c.api_flavor = ApiFlavor::kCacheV1;
                } else if (s == "origin-v2") {
                  c.api_flavor = ApiFlavor::kOriginV2;
                } else {
                  fail_value(v, k, kWhat);
                }
              }},
             {"token_file",
              [&](const YAML::Node& v, const std::string& k) { c.token_file = file_path(v, k); }},
             {"request_timeout",
              [&](const YAML::Node& v, const std::string& k) {
                c.request_timeout = duration(v, k, Millis{1000}, Millis{10 * 60 * 1000});
              }},
             {"requests_per_second",
              [&](const YAML::Node& v, const std::string& k) {
                // One request per 100 s at the least: a smaller rate would make the limiter's
                // waits overflow (1e-300 used to mean no limit at all).
                const double d = number(v, k);
                if (!(d >= 0.01 && d <= 1000) && d != 0) {
                  fail_value(v, k, "must be between 0.01 and 1000");
                }
                c.requests_per_second = d;
                unlimited.reset(v);
              }},
             {"page_size", [&](const YAML::Node& v,
                               const std::string& k) { c.page_size = integer(v, k, 1, 100); }},
             {"max_response_bytes",
              [&](const YAML::Node& v, const std::string& k) {
                c.max_response_bytes =
                    static_cast<std::size_t>(integer(v, k, 64 * 1024, 1024 * 1024 * 1024));
              }},
             {"budget_headroom",
              [&](const YAML::Node& v, const std::string& k) {
                const double d = number(v, k);
                if (!(d >= 0 && d <= 0.9)) fail_value(v, k, "must be between 0 and 0.9");
                c.budget_headroom = d;
              }},
         });
  }

  void reconcile(const YAML::Node& node, const std::string& prefix, ReconcileConfig& c) {
    walk(node, prefix,
         {
             {"desired_state", [&](const YAML::Node& v,
                                   const std::string& k) { c.desired_state = file_path(v, k); }},
             {"interval",
              [&](const YAML::Node& v, const std::string& k) {
                c.interval = duration(v, k, Millis{1000}, Millis{24 * 60 * 60 * 1000});
              }},
             {"batch_size", [&](const YAML::Node& v,
                                const std::string& k) { c.batch_size = integer(v, k, 1, 100); }},
             {"concurrency", [&](const YAML::Node& v,
                                 const std::string& k) { c.concurrency = integer(v, k, 1, 64); }},
             {"dry_run",
              [&](const YAML::Node& v, const std::string& k) { c.dry_run = boolean(v, k); }},
             {"max_delete_fraction",
              [&](const YAML::Node& v, const std::string& k) {
                const double d = number(v, k);
                if (!(d >= 0 && d <= 1)) fail_value(v, k, "must be between 0 and 1");
                c.max_delete_fraction = d;
              }},
             {"retry", [&](const YAML::Node& v, const std::string& k) { retry(v, k, c.retry); }},
             {"settle_period",
              [&](const YAML::Node& v, const std::string& k) {
                c.settle_period = duration(v, k, Millis{100}, Millis{10 * 60 * 1000});
              }},
             {"hold_confirm_period",
              [&](const YAML::Node& v, const std::string& k) {
                c.hold_confirm_period = duration(v, k, Millis{1000}, Millis{24 * 60 * 60 * 1000});
              }},
         });
  }

  void retry(const YAML::Node& node, const std::string& prefix, RetryPolicy& r) {
    constexpr Millis kMaxBackoff{60 * 60 * 1000};
    YAML::Node initial_node;
    YAML::Node max_node;
    walk(node, prefix,
         {
             {"max_attempts", [&](const YAML::Node& v,
                                  const std::string& k) { r.max_attempts = integer(v, k, 1, 20); }},
             {"initial_backoff",
              [&](const YAML::Node& v, const std::string& k) {
                r.initial_backoff = duration(v, k, Millis{1}, kMaxBackoff);
                initial_node.reset(v);
              }},
             {"max_backoff",
              [&](const YAML::Node& v, const std::string& k) {
                r.max_backoff = duration(v, k, Millis{1}, kMaxBackoff);
                max_node.reset(v);
              }},
         });
    if (r.max_backoff < r.initial_backoff) {
      // Blame the key the user wrote; when both are written, max_backoff.
      if (max_node.IsDefined() && max_node.IsScalar()) {
        fail_value(max_node, prefix + ".max_backoff",
                   "must be at least " + prefix + ".initial_backoff (" +
                       format_duration(r.initial_backoff) + ")");
      }
      fail_value(
          initial_node, prefix + ".initial_backoff",
          "must be at most " + prefix + ".max_backoff (" + format_duration(r.max_backoff) + ")");
    }
  }

  void log(const YAML::Node& node, const std::string& prefix, LogConfig& c) {
    walk(node, prefix,
         {
             {"level",
              [&](const YAML::Node& v, const std::string& k) {
                constexpr const char* kWhat = "must be trace, debug, info, warn or error";
                const std::string s = string(v, k, kWhat);
                if (s != "trace" && s != "debug" && s != "info" && s != "warn" && s != "error") {
                  fail_value(v, k, kWhat);
                }
                c.level = s;
              }},
             {"format",
              [&](const YAML::Node& v, const std::string& k) {
                constexpr const char* kWhat = "must be text or json";
                const std::string s = string(v, k, kWhat);
                if (s == "text") {
                  c.format = LogFormat::kText;
                } else if (s == "json") {
                  c.format = LogFormat::kJson;
                } else {
                  fail_value(v, k, kWhat);
                }
              }},
         });
  }

  // A null value has no position of its own (yaml-cpp marks it with the next token's): messages
  // about it point at its key instead.
  YAML::Mark mark_of(const YAML::Node& node) const {
    return node.IsNull() ? key_mark_ : node.Mark();
  }

  std::string file_;
  fs::path dir_;
  YAML::Mark key_mark_ = YAML::Mark::null_mark();  // the key whose value is being parsed
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
  std::string content;
  std::string error;
  if (!read_file(file, kMaxTokenBytes, content, error)) {
    throw ConfigError(prefix_of(config) + what + ": cannot read " + file.string() + ": " + error);
  }
  const std::string token(trim(content));
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
  return std::string(trim(value));
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
  ConfigParser(path.string(), dir).parse(text, config);
  return config;
}

Config load_config(const std::filesystem::path& path) {
  std::string text;
  std::string error;
  if (!read_file(path, kMaxConfigBytes, text, error)) {
    throw ConfigError(path.string() + ": cannot read: " + error);
  }
  return parse_config(text, path);
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
      creds.kind = Credentials::Kind::kToken;
      creds.token =
          read_token_file(config, file, "systemd credential cloudflare-api-token", creds.warnings);
      creds.source = "systemd credential " + file.string();
      return creds;
    }
  }

  throw ConfigError(prefix_of(config) +
                    "no Cloudflare credentials: set cloudflare.token_file, CLOUDFLARE_API_TOKEN, "
                    "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY, or provide the systemd credential "
                    "cloudflare-api-token ($CREDENTIALS_DIRECTORY)");
}

}  // namespace orc
