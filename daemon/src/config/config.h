// The daemon's configuration file (see README "Configuration"). Parsing is pure apart from
// load_config reading the file and the token source; every error names the file, the key
// (as a dotted path, e.g. "reconcile.retry.max_attempts") and the offending value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/enum_names.h"
#include "base/status.h"
#include "config/credentials.h"
#include "model/api_flavor.h"
#include "model/desired_state.h"
#include "model/policy.h"
#include "net/backoff.h"

namespace orc {

// Start-up errors: the daemon prints what() and exits with status 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How log lines are written (service/logging.h): `auto` is the journal when standard error is
// connected to it ($JOURNAL_STREAM), else text.
enum class LogFormat { kAuto, kText, kJson, kJournal };
inline constexpr auto kLogFormatNames = enum_names<LogFormat>("auto", "text", "json", "journal");

// The least severe log lines written (log.level).
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
inline constexpr auto kLogLevelNames =
    enum_names<LogLevel>("trace", "debug", "info", "warn", "error");

struct CloudflareConfig {
  std::string api_base = "https://api.cloudflare.com/client/v4";  // no trailing slash kept
  ApiFlavor api_flavor = ApiFlavor::kOriginV2;      // cache-v1 reached end of life on 2026-10-01
  std::optional<std::filesystem::path> token_file;  // made absolute against the config dir
  Millis request_timeout{30000};
  double requests_per_second = 4;  // 0.01..1000 (lower would overflow the limiter's waits)
  int page_size = 100;             // 1..100
  // Largest answer read, after decompression: 8 MiB, more than ten times a generation-1
  // listing of 3,500 mappings (about 210 bytes each pretty-printed, 0.75 MB). 64 KiB..1 GiB.
  std::size_t max_response_bytes = 8 * 1024 * 1024;
  double budget_headroom = 0.05;  // 0..0.9: kept free of the 5-minute cap (rate_limiter.h)
};

struct ReconcileConfig {
  std::filesystem::path desired_state = "desired.yaml";  // made absolute against config dir
  Millis interval{60000};                                // >= 1s
  int batch_size = 100;                                  // 1..100
  int concurrency = 4;                                   // 1..64
  bool dry_run = false;
  double max_delete_fraction = 0.3;  // 0..1
  Policy policy = Policy::kPrune;    // for zones whose desired state names none
  double max_update_fraction = 0.5;  // 0..1: the update guard (sync)
  RetryPolicy retry;
  // A changed desired-state file is used once it has been unchanged this long (100ms..10m).
  Millis settle_period{2000};
  // A change removing more than max_delete_fraction of a zone's desired origins waits until
  // it has been unchanged this long, or for SIGHUP (1s..24h).
  Millis hold_confirm_period{10 * 60 * 1000};
  // reconcile.suspend: {reason, until}: every zone's writes paused, as a zone's suspend: does.
  std::optional<Suspension> suspend;
};

struct ListenAddress {
  std::string host = "127.0.0.1";  // IPv4/IPv6 literal or "localhost"; IPv6 written [::1]:9464
  std::uint16_t port = 9464;       // 0 picks a free port (tests)
};

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kAuto;
};

// Kubernetes Lease leader election (README "Leader election"). Empty strings are resolved at
// start-up (kube/lease_settings.h): the pod's namespace, $POD_NAME or the host name, and
// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
struct LeaderElectionConfig {
  bool enabled = false;
  std::string ns;                                // "namespace": a DNS-1123 label
  std::string lease_name = "origin-reconciler";  // a DNS-1123 subdomain
  std::string identity;
  Millis lease_duration{15000};  // whole seconds, 1s..1h (leaseDurationSeconds)
  Millis renew_deadline{10000};  // < lease_duration
  Millis retry_period{2000};     // < renew_deadline
  std::string api_server;        // https:// (http:// only to loopback), no trailing slash
  std::filesystem::path token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::filesystem::path ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
};

// Which zones get their own series on /metrics (fleet-wide aggregates are always there).
enum class ZoneSeriesMode { kAll, kFailing, kNone };
inline constexpr auto kZoneSeriesModeNames = enum_names<ZoneSeriesMode>("all", "failing", "none");
std::string_view to_string(ZoneSeriesMode mode);  // "all" | "failing" | "none"

struct MetricsConfig {
  // metrics.zone_series; unset: all below kZoneSeriesAllBelow zones, failing from there on
  // (status/metrics.h).
  std::optional<ZoneSeriesMode> zone_series;
};

// Kubernetes Events about the zones' outcomes, on the daemon's own Pod (README "Kubernetes
// Events"). They reach the API server the Lease does: leader_election.api_server, token_file
// and ca_file (their defaults come from the pod whether or not leader election is on).
struct EventsConfig {
  std::optional<bool> enabled;  // unset: on exactly when leader election is
};

struct Config {
  std::filesystem::path path;  // the file it came from (absolute)
  CloudflareConfig cloudflare;
  ReconcileConfig reconcile;
  ListenAddress listen;
  LogConfig log;
  LeaderElectionConfig leader_election;
  MetricsConfig metrics;
  // state_directory: where the service keeps what must outlive a restart (the API user's
  // budget as the last answers said, net/budget_state.h); made absolute against the config
  // dir. Unset: $STATE_DIRECTORY (state_directory()).
  std::optional<std::filesystem::path> state_directory;
  EventsConfig events;
};

// Whether the daemon records Kubernetes Events: events.enabled, or else leader_election.enabled.
bool events_enabled(const Config& config);

// Parses configuration text. `path` is used in messages and to resolve relative paths.
// Throws ConfigError.
Config parse_config(std::string_view text, const std::filesystem::path& path);

// Checks of the names leader election uses (also applied at start-up to the values taken from
// the pod: its namespace file, $POD_NAME, the host name, $KUBERNETES_SERVICE_HOST). Each returns
// success, or an Error whose message says what the value must be ("must be 1 to 63 characters").
Status check_dns1123_label(std::string_view name);      // a namespace
Status check_dns1123_subdomain(std::string_view name);  // a Lease's name
Status check_lease_identity(std::string_view identity);
// An http(s) URL as cloudflare.api_base takes it (https://, or http:// to loopback only),
// without trailing slashes.
StatusOr<std::string> check_server_url(std::string_view url);

// Reads and parses the file. Throws ConfigError (including for an unreadable file).
Config load_config(const std::filesystem::path& path);

// The start-up warning a configuration deserves, or "" when none: cache-v1 reached end of
// life at Cloudflare on 2026-10-01 (the message says how to switch).
std::string api_flavor_warning(const Config& config);

// Who a token file exposes the token to, beyond the daemon: a warning text, or "" when only
// the daemon can read it. Readable by others is always a warning; readable by its group only
// when the daemon does not need that group to read it (it owns the file, or the group is not
// one of its own; a Kubernetes Secret mounted 0440 with the pod's fsGroup is fine).
// `what` names the file in the message, `path` goes into the suggested chmod.
struct FileAccess {
  unsigned mode = 0;  // st_mode permission bits
  unsigned owner = 0;
  unsigned group = 0;
};
struct ProcessIdentity {
  unsigned euid = 0;
  std::vector<unsigned> groups;  // effective and supplementary group ids
};
std::string token_file_exposure(const FileAccess& file, const ProcessIdentity& self,
                                const std::string& what, const std::string& path);

// Looks for credentials in order: cloudflare.token_file; env CLOUDFLARE_API_TOKEN;
// env CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY; $CREDENTIALS_DIRECTORY/cloudflare-api-token
// (systemd LoadCredential=). Surrounding white space in a token file is trimmed.
// `getenv` is injected for tests. Throws ConfigError naming the source, never the secret.
using GetEnv = const char* (*)(const char*);
Credentials resolve_credentials(const Config& config, GetEnv getenv_fn);
// Whether any of those sources is there (set, or for the systemd credential, a file), usable
// or not: false is exactly when resolve_credentials finds no credentials at all.
bool credentials_present(const Config& config, GetEnv getenv_fn);

// The service's state directory: state_directory, else $STATE_DIRECTORY (set by systemd's
// StateDirectory=; the first of a colon-separated list), else none (nothing is kept).
std::optional<std::filesystem::path> state_directory(const Config& config, GetEnv getenv_fn);

// A token read from `file` as resolve_credentials reads a token file (trimmed, non-empty, one
// line of text; a warning when others can read it), `source` naming it in messages and in the
// result's source. Throws ConfigError.
Credentials read_token_credentials(const Config& config, const std::filesystem::path& file,
                                   const std::string& source);

}  // namespace orc
