// --check-config: the configuration, the desired state and the credential the daemon will
// use, checked without touching the network, and checked where the daemon will find them.
// Under the systemd unit the token arrives only through LoadCredential=, so an operator's
// shell (root, no token in its environment) does not see it: the check then reads the
// credential where the unit takes it from.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>

#include "config/config.h"
#include "model/desired_state.h"

namespace orc {

// --check-config's exit status.
inline constexpr int kCheckOk = 0;
// The configuration and desired state are valid, but the daemon would refuse to start: its
// credential is missing, empty or unusable where it would look.
inline constexpr int kCheckNoCredential = 1;
// The configuration or desired state is invalid, a warning with --strict, or --unit names no
// unit.
inline constexpr int kCheckInvalid = 2;

struct CheckConfigOptions {
  bool strict = false;  // warnings are errors
  // --credentials-directory DIR: the token as the unit hands it over, in
  // DIR/cloudflare-api-token; the caller's CLOUDFLARE_* variables do not count.
  std::optional<std::filesystem::path> credentials_directory{};
  // --unit [PATH]: the token from the LoadCredential= of this unit file (an empty path: the
  // installed unit with its drop-ins); the caller's CLOUDFLARE_* variables do not count.
  std::optional<std::filesystem::path> unit{};
  GetEnv getenv = nullptr;           // this process's environment
  std::filesystem::path root = "/";  // where installed units and credstores are (tests)
};

// Prints what it checked on `out` (one line per zone, the credential's source, warnings) and,
// with --strict, the warnings on `err`. Returns kCheckOk, kCheckNoCredential or kCheckInvalid.
// Without --credentials-directory or --unit, the credential is looked for as the daemon would
// in this environment, and when there is none, as the installed unit would hand it over (or,
// with no unit installed, from the path the packaged unit names).
int check_config(const Config& config, const DesiredState& desired,
                 const CheckConfigOptions& options, std::ostream& out, std::ostream& err);

}  // namespace orc
