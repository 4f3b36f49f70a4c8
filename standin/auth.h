// Which credentials a request presents and whether the stand-in accepts them. The secrets
// themselves never leave this module: logs record only the scheme.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace standin {

struct AcceptedCredentials {
  std::optional<std::string> token;  // Authorization: Bearer <token>
  std::optional<std::string> email;  // X-Auth-Email + X-Auth-Key (legacy global key)
  std::optional<std::string> key;

  bool any() const { return token || (email && key); }
};

// The raw header values, empty when absent.
struct PresentedCredentials {
  std::string authorization;
  std::string email;
  std::string key;
};

enum class AuthScheme { kNone, kToken, kGlobalKey };
std::string_view to_string(AuthScheme scheme);  // "none" | "token" | "global_key"

// The scheme a request tries: a Bearer token wins over a global key pair.
AuthScheme presented_scheme(const PresentedCredentials& presented);

// True when the presented token, or the presented e-mail and key, are the accepted ones.
bool authenticated(const PresentedCredentials& presented, const AcceptedCredentials& accepted);

}  // namespace standin
