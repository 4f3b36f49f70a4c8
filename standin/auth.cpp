#include "auth.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "base/enum_names.h"

namespace standin {
namespace {

// The token of "Bearer <token>" (scheme case-insensitive), or nullopt.
std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  const bool is_bearer = std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                                    [](char a, char b) { return a == std::tolower(b); });
  if (!is_bearer) return std::nullopt;
  return authorization.substr(kScheme.size());
}

}  // namespace

std::string_view to_string(AuthScheme scheme) {
  constexpr std::array kNames = {
      orc::EnumName{AuthScheme::kToken, "token"},
      orc::EnumName{AuthScheme::kGlobalKey, "global_key"},
      orc::EnumName{AuthScheme::kNone, "none"},
  };
  return orc::enum_name(kNames, scheme, "none");
}

AuthScheme presented_scheme(const PresentedCredentials& presented) {
  if (bearer_token(presented.authorization)) return AuthScheme::kToken;
  if (!presented.email.empty() && !presented.key.empty()) return AuthScheme::kGlobalKey;
  return AuthScheme::kNone;
}

bool authenticated(const PresentedCredentials& presented, const AcceptedCredentials& accepted) {
  switch (presented_scheme(presented)) {
    case AuthScheme::kToken:
      return accepted.token && *bearer_token(presented.authorization) == *accepted.token;
    case AuthScheme::kGlobalKey:
      return accepted.email && accepted.key && presented.email == *accepted.email &&
             presented.key == *accepted.key;
    case AuthScheme::kNone:
      break;
  }
  return false;
}

}  // namespace standin
