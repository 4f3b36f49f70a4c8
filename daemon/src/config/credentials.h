// How the daemon authenticates to the API. Filled from the configuration and the environment
// (resolve_credentials in config.h); read by the API client for its request headers. The
// secret is never printed: `source` names where it came from, never what it is.
#pragma once

#include <string>
#include <vector>

namespace orc {

struct Credentials {
  enum class Kind { kToken, kGlobalKey } kind = Kind::kToken;
  std::string token;    // kToken
  std::string email;    // kGlobalKey
  std::string api_key;  // kGlobalKey
  std::string source;   // e.g. "token_file /run/secrets/cf-token", "env CLOUDFLARE_API_TOKEN"
  // Problems that do not stop the daemon (a token file others can read): logged at start-up,
  // errors with --check-config --strict.
  std::vector<std::string> warnings;
};

}  // namespace orc
