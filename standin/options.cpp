#include "options.h"

#include <array>
#include <charconv>
#include <utility>

#include "model/ip.h"

namespace standin {
namespace {

bool is_loopback(const orc::IpAddress& ip) {
  if (ip.family == orc::IpAddress::Family::kV4) return ip.bytes[0] == 127;
  return ip == *orc::parse_ip("::1");
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<int> parse_positive(std::string_view text) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 1) return std::nullopt;
  return value;
}

using PathOption = std::optional<std::filesystem::path> Options::*;

// Where a flag whose value is a path, stored as given, goes; nullptr for any other flag.
PathOption path_option(std::string_view flag) {
  constexpr std::array<std::pair<std::string_view, PathOption>, 5> kPathFlags = {{
      {"--port-file", &Options::port_file},
      {"--zone-names", &Options::zone_names},
      {"--seed", &Options::seed},
      {"--faults", &Options::faults},
      {"--request-log", &Options::request_log},
  }};
  for (const auto& [name, option] : kPathFlags) {
    if (flag == name) return option;
  }
  return nullptr;
}

// Stores one flag's value; returns an error message or "".
std::string apply_flag(Options& o, const std::string& flag, const std::string& value) {
  if (flag == "--listen") {
    auto listen = parse_listen(value);
    if (!listen) return listen.error;
    o.listen = *listen.value;
  } else if (const PathOption path = path_option(flag)) {
    o.*path = value;
  } else if (flag == "--token") {
    if (value.empty()) return "--token must not be empty";
    o.credentials.token = value;
  } else if (flag == "--email") {
    o.credentials.email = value;
  } else if (flag == "--key") {
    o.credentials.key = value;
  } else if (flag == "--rate-limit") {
    o.rate_limit = parse_positive(value);
    if (!o.rate_limit) return "--rate-limit must be a whole number of at least 1";
  } else if (flag == "--rate-policy-name") {
    const bool token =
        !value.empty() && value.size() <= 64 &&
        value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
    if (!token) return "--rate-policy-name must be 1 to 64 of a-z, 0-9, _ and -";
    o.rate_policy_name = value;
  } else if (flag == "--rate-window") {
    const auto seconds = parse_positive(value);
    if (!seconds || *seconds > 86400) return "--rate-window must be 1 to 86400 seconds";
    o.rate_window_seconds = *seconds;
  } else {
    return "unknown option " + flag;
  }
  return {};
}

}  // namespace

std::string ListenAddress::to_string(std::uint16_t bound_port) const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(bound_port);
}

Parsed<ListenAddress> parse_listen(std::string_view text) {
  using Result = Parsed<ListenAddress>;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return Result::fail("--listen wants HOST:PORT");
  std::string_view host = text.substr(0, colon);
  auto port = parse_port(text.substr(colon + 1));
  if (!port) return Result::fail("--listen: bad port in \"" + std::string(text) + "\"");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") return Result::ok({"127.0.0.1", *port});
  auto ip = orc::parse_ip(host);
  if (!ip || !is_loopback(*ip)) {
    return Result::fail("refusing to listen on \"" + std::string(host) +
                        "\": only loopback (127.0.0.0/8, [::1], localhost) is allowed");
  }
  return Result::ok({orc::to_string(*ip), *port});
}

Parsed<Options> parse_options(const std::vector<std::string>& args, const char* env_token) {
  using Result = Parsed<Options>;
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    if (flag == "--help" || flag == "-h") {
      o.help = true;
      continue;
    }
    if (flag == "--v1-empty-zone-404") {
      o.v1_empty_zone_404 = true;
      continue;
    }
    if (flag == "--rate-policy-documented") {
      o.rate_policy_documented = true;
      continue;
    }
    if (flag == "--deny-zone-read") {
      o.deny_zone_read = true;
      continue;
    }
    std::string value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Result::fail(flag.starts_with("--") ? flag + " needs a value"
                                                 : "unexpected argument " + flag);
    }
    if (auto problem = apply_flag(o, flag, value); !problem.empty()) return Result::fail(problem);
  }
  if (!o.credentials.token && env_token != nullptr && *env_token != '\0') {
    o.credentials.token = env_token;
  }
  if (o.credentials.email.has_value() != o.credentials.key.has_value()) {
    return Result::fail("--email and --key go together");
  }
  return Result::ok(std::move(o));
}

std::string usage() {
  return R"(cf-standin: a loopback stand-in for Cloudflare's origin cloud region API.

usage: cf-standin [--listen HOST:PORT] [--port-file PATH] [--seed PATH]
                  [--token TOKEN] [--email E --key K] [--faults PATH]
                  [--request-log PATH] [--rate-limit N [--rate-window SECONDS]]
                  [--rate-policy-name NAME | --rate-policy-documented]
                  [--zone-names PATH] [--deny-zone-read]
                  [--v1-empty-zone-404] [--help]

  --listen HOST:PORT   loopback only: 127.0.0.0/8, [::1] or localhost (default 127.0.0.1:0,
                       port 0 picks a free port)
  --port-file PATH     write the bound port (decimal and a newline) here once listening
  --seed PATH          initial mappings, JSON (see standin/README.md)
  --token TOKEN        accepted bearer token (default: $CF_STANDIN_TOKEN)
  --email E --key K    accepted legacy global key pair (X-Auth-Email / X-Auth-Key)
  --faults PATH        initial fault rules, JSON
  --request-log PATH   append one JSON line per API request
  --rate-limit N       refuse with 429 past N requests in a sliding window, then lock out
                       for one whole window, as Cloudflare does (default: off; Cloudflare's
                       limit is 1200 per 300 s); the rate-limit headers are always sent
  --rate-window SECONDS  the window's length (default 300); scaled-down windows keep tests
                       short
  --rate-policy-name NAME  the name of the Ratelimit-Policy item (default "default", the
                       name of the Ratelimit item): another name leaves the item without a
                       policy of its own, as the IETF draft reads it
  --rate-policy-documented  send Cloudflare's documented example policy,
                       Ratelimit-Policy: "burst";q=100;w=60, whatever the real window
  --zone-names PATH    the zones GET /zones?name= lists: a JSON object of zone id -> name
                       (a name may repeat)
  --deny-zone-read     GET /zones answers 403 code 9109, as for a token without Zone:Read
  --v1-empty-zone-404  generation 1 answers a zone without mappings with 404 code 1142, as
                       the reference pages show, instead of the schema's 200 "value": []

Without a token or key pair every API request is refused as unauthenticated.
Runs until SIGTERM or SIGINT. Exit status 2: bad command line, seed or fault file.
)";
}

}  // namespace standin
