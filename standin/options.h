// cf-standin's command line, parsed without side effects.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth.h"
#include "types.h"

namespace standin {

struct ListenAddress {
  std::string host = "127.0.0.1";  // a loopback literal; "localhost" becomes 127.0.0.1
  std::uint16_t port = 0;          // 0: any free port

  std::string to_string(std::uint16_t bound_port) const;  // "127.0.0.1:8080", "[::1]:8080"
};

struct Options {
  ListenAddress listen;
  std::optional<std::filesystem::path> port_file;
  std::optional<std::filesystem::path> seed;
  std::optional<std::filesystem::path> faults;
  std::optional<std::filesystem::path> request_log;
  std::optional<std::filesystem::path> zone_names;  // {"<zone id>": "example.com", ...}
  bool deny_zone_read = false;                      // GET /zones answers 403 code 9109
  AcceptedCredentials credentials;
  std::optional<int> rate_limit;             // requests per window
  int rate_window_seconds = 300;             // the window (Cloudflare: 5 minutes)
  bool v1_empty_zone_404 = false;            // generation 1's empty zone answers 404 code 1142
  std::string rate_policy_name = "default";  // the name of the Ratelimit-Policy item
  bool rate_policy_documented = false;       // send Cloudflare's documented "burst";q=100;w=60
  bool help = false;
};

// `env_token` is $CF_STANDIN_TOKEN (nullptr when unset); --token wins over it.
// Errors are for the user as they are (exit status 2); none of them quotes a secret.
Parsed<Options> parse_options(const std::vector<std::string>& args, const char* env_token);

// HOST:PORT with HOST one of 127.0.0.0/8, ::1 (written [::1]) or localhost.
Parsed<ListenAddress> parse_listen(std::string_view text);

std::string usage();

}  // namespace standin
