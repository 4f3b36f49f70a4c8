// origin-reconciler: keeps each Cloudflare zone's origin cloud region mappings in line with a
// desired-state file: it prunes the stale ones, and under the sync policy also creates and
// corrects the desired ones. See README.md.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/redact.h"
#include "base/source_text.h"
#include "base/status.h"
#include "config/config.h"
#include "model/desired_state.h"
#include "model/plan_file.h"
#include "net/curl_http.h"
#include "reconcile/zone_directory.h"
#include "service/budget_file.h"
#include "service/check_config.h"
#include "service/cloudflare_session.h"
#include "service/daemon.h"
#include "service/desired_file.h"
#include "service/desired_watch.h"
#include "service/export.h"
#include "service/leadership.h"
#include "service/logging.h"
#include "service/notify.h"
#include "service/zone_events.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitRefused = 1;  // --apply-plan: the plan may not be applied
constexpr const char* kDefaultConfig = "/etc/origin-reconciler/config.yaml";

constexpr const char* kHelp = R"(Usage: origin-reconciler [OPTIONS]

Keeps the origin cloud region mappings of Cloudflare zones in line with a desired-state
file: each cycle it lists every live mapping of each managed zone and deletes the ones the
desired state does not keep (batch deletes of at most 100 IPs, with retry and backoff).
Under reconcile.policy sync (or a zone's policy: sync) it also creates the desired
mappings that are missing and corrects those with another vendor or region.

Options:
  --config PATH    configuration file (default /etc/origin-reconciler/config.yaml)
  --once           one pass over all zones, then exit (see exit status); leader
                   election does not apply
  --dry-run        change nothing; print per zone the live, desired and stale counts and
                   every IP that would be deleted
  --force          lift the safety guard (reconcile.max_delete_fraction) for this run
  --force-zone ID|NAME
                   lift the safety guards for this zone only (its own thresholds and the
                   configuration's): its zone_id, or its name as the desired state writes
                   it with zone:; may be given more than once, ids and names mixed
  --output FORMAT  with --dry-run: text (default), json (the plan document, see the
                   README, "Plans as JSON") or markdown (the plan for a merge-request
                   comment); json and markdown imply --once
  --plan-out FILE  with --dry-run: also write the plan document to FILE (implies --once)
  --detailed-exitcode
                   with --dry-run: exit status 4 when changes are pending, 0 when there
                   is nothing to do (1, 2 and 3 keep their meaning and win over 4);
                   implies --once
  --apply-plan FILE
                   with --once: list every zone again, recompute its plan and apply it only
                   if it is the one FILE holds for that zone (same checksum); otherwise
                   nothing is sent in that zone and the exit status is 1
  --plan-max-age DURATION
                   with --apply-plan: refuse a plan file older than this (default 1h;
                   500ms, 30s, 5m, 1h)
  --zone ID|NAME   only this zone (its zone_id, or its name as the desired state writes it
                   with zone:); repeatable. Goes with --once, --dry-run, --apply-plan
                   (implies --once) and --export
  --export FILE    write a desired-state file (- for standard output) from the live mappings
                   of the zones the desired state names, or of the --zone zones (ids or
                   names; the desired state is then not read): every mapping with its vendor
                   and region, sorted, so that reconciling against it changes nothing. Start
                   here to adopt an account that already has mappings
  --check-config   validate the configuration and desired state without touching the
                   network; print one line per zone, and where the token comes from: found
                   nowhere here, it is checked where the systemd unit takes it from (its
                   LoadCredential= source file must exist, not be empty, and not be
                   readable by other users). Exit status 0 valid, 1 valid but the daemon
                   would refuse to start (no usable token), 2 invalid
  --credentials-directory DIR
                   with --check-config: the token as systemd hands it over, in
                   DIR/cloudflare-api-token ($CREDENTIALS_DIRECTORY inside the unit)
  --unit [PATH]    with --check-config: the token from the LoadCredential= of the unit
                   file PATH (default: the installed origin-reconciler.service and its
                   drop-ins); CLOUDFLARE_* variables of this shell do not count
  --strict         with --check-config: warnings are errors (exit status 2), e.g. a token
                   file that its group or other users can read
  --version        print the version and exit
  --help           print this help and exit

Credentials, first found wins: cloudflare.token_file; CLOUDFLARE_API_TOKEN;
CLOUDFLARE_EMAIL with CLOUDFLARE_API_KEY; $CREDENTIALS_DIRECTORY/cloudflare-api-token.

Signals: SIGHUP re-reads the desired state now and takes it as complete (a changed file
is otherwise used once it has stayed unchanged for reconcile.settle_period, and a change
that removes more than max_delete_fraction of a zone's origins is held until it has stayed
unchanged for reconcile.hold_confirm_period or SIGHUP confirms it); SIGTERM or SIGINT stop
cleanly (exit status 0, also with --once: zones not done are listed in the report; a
leader releases its Lease).

Exit status: 0 all zones in line (or the dry-run plan was computed, or a clean stop by
SIGTERM/SIGINT); 1 a zone failed or an item could not be deleted, or with --apply-plan a
zone's plan is not the reviewed one, or the plan file is too old, from the future or made
for another api_flavor; 2 usage or configuration error, or a plan file that cannot be read
or is not a valid plan (the message names the file, the key and the value); 3 the safety
guard blocked a zone and nothing failed; 4 with --dry-run --detailed-exitcode: changes
are pending and nothing failed or was blocked.
)";

// Where a message that ends or refuses the run goes: standard error, with journald's error
// priority when standard error is the journal (logging.h).
std::ostream& error_out() {
  return std::cerr << orc::error_prefix() << "origin-reconciler: ";
}

const char* real_getenv(const char* name) {
  return std::getenv(name);
}

struct Args {
  std::string config = kDefaultConfig;
  bool once = false;
  bool dry_run = false;
  bool force = false;
  bool check_config = false;
  bool strict = false;
  std::optional<std::filesystem::path> credentials_directory;  // --credentials-directory
  std::optional<std::filesystem::path> unit;  // --unit [PATH]; empty: the installed unit
  orc::OutputFormat output = orc::OutputFormat::kText;
  std::string plan_out;
  std::string apply_plan;
  std::optional<orc::Millis> plan_max_age;
  std::string export_to;           // --export: a path or "-"
  std::vector<std::string> zones;  // --zone, in the order given
  bool detailed_exitcode = false;
  std::vector<std::string> force_zones;  // zone ids or names, as given
};

constexpr orc::Millis kDefaultPlanMaxAge = std::chrono::hours(1);

[[noreturn]] void usage_error(const std::string& message) {
  error_out() << message << "\n"
              << "Try 'origin-reconciler --help'.\n";
  std::exit(kExitUsage);
}

// Options that only make sense together.
void check_combination(const Args& args) {
  if (args.config.empty()) usage_error("--config needs a path");
  if (args.strict && !args.check_config) usage_error("--strict goes with --check-config");
  if (args.credentials_directory && !args.check_config) {
    usage_error("--credentials-directory goes with --check-config");
  }
  if (args.unit && !args.check_config) usage_error("--unit goes with --check-config");
  if (args.unit && args.credentials_directory) {
    usage_error("--unit and --credentials-directory: one place for the credential, not both");
  }
  if (args.output == orc::OutputFormat::kJson && !args.dry_run) {
    usage_error("--output json goes with --dry-run (it prints the plan)");
  }
  if (args.output == orc::OutputFormat::kMarkdown && !args.dry_run) {
    usage_error("--output markdown goes with --dry-run (it prints the plan)");
  }
  if (!args.plan_out.empty() && !args.dry_run) usage_error("--plan-out goes with --dry-run");
  if (args.detailed_exitcode && !args.dry_run) {
    usage_error("--detailed-exitcode goes with --dry-run (it tells whether changes are pending)");
  }
  if (!args.apply_plan.empty() && !args.once) usage_error("--apply-plan goes with --once");
  if (!args.apply_plan.empty() && args.dry_run) {
    usage_error("--apply-plan applies a plan; it does not go with --dry-run");
  }
  if (args.plan_max_age && args.apply_plan.empty()) {
    usage_error("--plan-max-age goes with --apply-plan");
  }
  if (!args.export_to.empty() &&
      (args.once || args.dry_run || args.check_config || !args.apply_plan.empty() ||
       !args.plan_out.empty() || args.force || args.output != orc::OutputFormat::kText)) {
    usage_error("--export is a command of its own: it goes with --config and --zone only");
  }
  if (!args.zones.empty() && args.export_to.empty() && !args.once && !args.dry_run) {
    usage_error("--zone goes with --once, --dry-run, --apply-plan or --export");
  }
}

Args parse_args(int argc, char** argv) {
  Args args;
  // "--name VALUE" or "--name=VALUE"; true when `a` is that option (value in `value`).
  auto valued = [&](const std::string& a, int& i, const char* name, std::string& value) {
    const std::string prefix = std::string(name) + "=";
    if (a == name) {
      if (i + 1 >= argc) usage_error(std::string(name) + " needs a value");
      value = argv[++i];
      return true;
    }
    if (a.starts_with(prefix)) {
      value = a.substr(prefix.size());
      return true;
    }
    return false;
  };
  // The options that only turn something on.
  constexpr std::pair<std::string_view, bool Args::*> kSwitches[] = {
      {"--once", &Args::once},
      {"--dry-run", &Args::dry_run},
      {"--force", &Args::force},
      {"--detailed-exitcode", &Args::detailed_exitcode},
      {"--check-config", &Args::check_config},
      {"--strict", &Args::strict},
  };
  // True when `a` is one of them (and turns it on).
  auto switched = [&](const std::string& a) {
    for (const auto& [name, field] : kSwitches) {
      if (a == name) {
        args.*field = true;
        return true;
      }
    }
    return false;
  };
  std::string value;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (switched(a)) continue;
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      std::exit(0);
    } else if (a == "--version") {
      std::cout << "origin-reconciler " << ORC_VERSION << "\n";
      std::exit(0);
    } else if (a == "--config") {
      if (i + 1 >= argc) usage_error("--config needs a path");
      args.config = argv[++i];
    } else if (a.starts_with("--config=")) {
      args.config = a.substr(std::strlen("--config="));
    } else if (valued(a, i, "--force-zone", value)) {
      std::string lower = value;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const bool id =
          lower.size() == 32 && lower.find_first_not_of("0123456789abcdef") == std::string::npos;
      if (!id && !orc::is_zone_name(lower)) {
        usage_error(
            "--force-zone: must be a zone id (32 hexadecimal characters) or a zone name "
            "(got '" +
            orc::shown(value) + "')");
      }
      args.force_zones.push_back(value);
    } else if (a == "--unit") {
      // The unit file is optional: "--unit" alone is the installed unit.
      args.unit = (i + 1 < argc && argv[i + 1][0] != '-') ? std::filesystem::path(argv[++i])
                                                          : std::filesystem::path();
    } else if (a.starts_with("--unit=")) {
      args.unit = a.substr(std::strlen("--unit="));
      if (args.unit->empty()) usage_error("--unit= needs a unit file (or give --unit alone)");
    } else if (valued(a, i, "--credentials-directory", value)) {
      if (value.empty()) usage_error("--credentials-directory needs a folder");
      args.credentials_directory = value;
    } else if (valued(a, i, "--output", value)) {
      if (value == "text") {
        args.output = orc::OutputFormat::kText;
      } else if (value == "json") {
        args.output = orc::OutputFormat::kJson;
      } else if (value == "markdown") {
        args.output = orc::OutputFormat::kMarkdown;
      } else {
        usage_error("--output: must be text, json or markdown (got '" + orc::shown(value) + "')");
      }
    } else if (valued(a, i, "--plan-out", value)) {
      if (value.empty()) usage_error("--plan-out needs a file");
      args.plan_out = value;
    } else if (valued(a, i, "--apply-plan", value)) {
      if (value.empty()) usage_error("--apply-plan needs a file");
      args.apply_plan = value;
    } else if (valued(a, i, "--export", value)) {
      if (value.empty()) usage_error("--export needs a file (or - for standard output)");
      args.export_to = value;
    } else if (valued(a, i, "--zone", value)) {
      if (value.empty()) usage_error("--zone needs a zone id or name");
      args.zones.push_back(value);
    } else if (valued(a, i, "--plan-max-age", value)) {
      args.plan_max_age = orc::parse_duration(value);
      if (!args.plan_max_age || *args.plan_max_age < std::chrono::seconds(1)) {
        usage_error("--plan-max-age: must be a duration of at least 1s, like 30m or 1h (got '" +
                    orc::shown(value) + "')");
      }
    } else {
      usage_error("unknown option '" + a + "'");
    }
  }
  check_combination(args);
  // The plan document is one pass's plan.
  if (args.output != orc::OutputFormat::kText || !args.plan_out.empty() || args.detailed_exitcode) {
    args.once = true;
  }
  // A run limited to some zones is a one-off look or change, never the service.
  if (!args.zones.empty() && args.export_to.empty()) args.once = true;
  return args;
}

struct ReviewedPlan {
  std::shared_ptr<const orc::PlanDocument> plan;  // null: refused, exit with `status`
  int status = 0;
};

// --apply-plan: the plan file, read strictly, and checked against this run before any request
// is sent: not older than `max_age`, made for the same API generation.
ReviewedPlan read_reviewed_plan(const std::string& file, const orc::PlanIdentity& here,
                                orc::Millis max_age) {
  // Read as it is parsed: the file's text is never held whole.
  auto opened = orc::FileStream::open(file, orc::kMaxPlanFileBytes);
  if (!opened.ok()) {
    error_out() << file << ": cannot read the plan file: " << opened.error().message << "\n";
    return {nullptr, kExitUsage};
  }
  orc::FileStream& in = **opened;
  orc::PlanDocument plan;
  std::optional<std::string> refused;
  try {
    plan = orc::parse_plan_document(in.stream(), file);
  } catch (const orc::PlanFileError& e) {
    refused = e.what();
  }
  // A read that failed part way (or a file that grew past the bound) cut the text short: that,
  // not what the parser made of the part it got, is the problem.
  if (in.error()) {
    error_out() << file << ": cannot read the plan file: " << in.error()->message << "\n";
    return {nullptr, kExitUsage};
  }
  if (refused) {
    error_out() << *refused << "\n";
    return {nullptr, kExitUsage};
  }
  const orc::SystemClock clock;
  if (const orc::Status age = orc::check_plan_age(plan, file, clock.wall(), max_age); !age.ok()) {
    error_out() << "plan refused, nothing applied: " << age.error().message << "\n";
    return {nullptr, kExitRefused};
  }
  if (plan.identity.api_flavor != here.api_flavor) {
    error_out() << "plan refused, nothing applied: " << file
                << ": api_flavor: the plan was made for another API generation than "
                << here.api_flavor << " (got '" << plan.identity.api_flavor << "')\n";
    return {nullptr, kExitRefused};
  }
  spdlog::info("applying the reviewed plan {} (made {} by {}, checksum {}, {} zones)", file,
               orc::format_utc(plan.created_at), plan.identity.generator, plan.checksum,
               plan.zones.size());
  if (plan.identity.desired_sha256 != here.desired_sha256) {
    spdlog::info(
        "the desired state {} is not the file the plan was made from ({} then, {} now); each "
        "zone's recomputed plan is compared with the reviewed one",
        here.desired_state, plan.identity.desired_sha256, here.desired_sha256);
  }
  return {std::make_shared<const orc::PlanDocument>(std::move(plan)), 0};
}

// What the daemon starts from, read and checked before anything else happens.
struct Startup {
  orc::Config config;
  orc::DesiredFile desired;
  orc::Credentials credentials;
  std::optional<orc::LeaseSettings> lease;   // leader election on, and not --once
  std::optional<orc::EventSettings> events;  // Kubernetes Events on, and not --once
};

// A start that ends here, with this exit status (its message already written).
struct Exit {
  int status = kExitUsage;
};

// The configuration and desired state; with --check-config, the check's own exit.
orc::StatusOr<Startup, Exit> load_inputs(const Args& args) {
  Startup s;
  try {
    s.config = orc::load_config(args.config);
    orc::setup_logging(s.config.log);
    s.desired = orc::read_desired_file(s.config.reconcile.desired_state);
  } catch (const std::exception& e) {
    error_out() << e.what() << "\n";
    return Exit{kExitUsage};
  }
  if (args.check_config) {
    orc::CheckConfigOptions check;
    check.strict = args.strict;
    check.credentials_directory = args.credentials_directory;
    check.unit = args.unit;
    check.getenv = &real_getenv;
    return Exit{orc::check_config(s.config, s.desired.state, check, std::cout, std::cerr)};
  }
  return s;
}

// The credentials, and the Lease settings when leader election applies (not for --once, a
// one-off run by a person).
orc::StatusOr<Startup, Exit> resolve_identity(const Args& args, Startup s) {
  try {
    s.credentials = orc::resolve_credentials(s.config, &real_getenv);
    s.config.state_directory = orc::state_directory(s.config, &real_getenv);
    char host[256] = {0};
    if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    if (s.config.leader_election.enabled && !args.once) {
      s.lease = orc::resolve_lease_settings(s.config, &real_getenv, host);
    }
    // Events are the service's: a one-off --once run by a person records none.
    if (orc::events_enabled(s.config) && !args.once) {
      try {
        s.events = orc::resolve_event_settings(s.config, &real_getenv, host);
      } catch (const orc::ConfigError& e) {
        // Asked for: a start-up error. On only because leader election is: replicas outside a
        // pod still elect their leader, without Events.
        if (s.config.events.enabled) throw;
        spdlog::warn("{}; no Kubernetes Events are recorded", e.what());
      }
    }
  } catch (const orc::ConfigError& e) {
    error_out() << e.what() << "\n";
    return Exit{kExitUsage};
  }
  return s;
}

// The Cloudflare client outside the cycles, on the real edges: for zone names and --export.
struct OneOffClient {
  explicit OneOffClient(const orc::Config& config, const orc::Credentials& credentials)
      : http(clock, config.cloudflare.max_response_bytes),
        limiter(config.cloudflare.requests_per_second, clock, sleeper,
                config.cloudflare.budget_headroom),
        session(config, credentials, {http, limiter, sleeper, random, clock, observer}) {}
  orc::SystemClock clock;
  orc::SystemSleeper sleeper;
  orc::SystemRandom random;
  orc::CurlHttpClient http;
  orc::RateLimiter limiter;
  orc::NoApiObserver observer;
  orc::CloudflareSession session;
};

// Zones written by name get their ids (a lookup only when some name is not known yet), then
// --zone keeps the zones it names.
orc::StatusOr<Startup, Exit> resolve_zones(const Args& args, Startup s, orc::ZoneNameCache& names) {
  const std::string file = s.config.reconcile.desired_state.string();
  if (orc::needs_lookup(s.desired.state, names)) {
    orc::curl_global_setup();
    OneOffClient client(s.config, s.credentials);
    // The service's lookups wait, as its cycles do, for a reset the last run's answers named;
    // systemd is told the start takes that long.
    const auto notifier = orc::make_systemd_notifier();
    if (!args.once && s.config.state_directory) {
      orc::keep_budget_in(*s.config.state_directory, client.limiter, client.clock);
      client.limiter.on_announced_wait([&](orc::MonoTime until) {
        notifier->extend_timeout(std::chrono::duration_cast<std::chrono::microseconds>(
            until - client.clock.monotonic() + std::chrono::seconds(30)));
      });
    }
    const orc::Status resolved =
        orc::resolve_zone_names(s.desired.state, client.session.directory(), names);
    if (!resolved.ok()) {
      std::cerr << "origin-reconciler: " << resolved.error().message << "; nothing was sent\n";
      return Exit{kExitUsage};
    }
  }
  if (!args.zones.empty()) {
    if (const orc::Status kept = orc::select_zones(s.desired.state, args.zones, file); !kept.ok()) {
      std::cerr << "origin-reconciler: " << kept.error().message << "\n";
      return Exit{kExitUsage};
    }
  }
  return s;
}

// --export: the zones to write (--zone, else the desired state's), listed and written.
int export_command(const Args& args) {
  orc::Config config;
  std::vector<orc::ExportTarget> targets;
  orc::DesiredState named;  // the zones given by name, resolved below
  try {
    config = orc::load_config(args.config);
    orc::setup_logging(config.log);
    if (args.zones.empty()) {
      for (auto& z : orc::read_desired_file(config.reconcile.desired_state).state.zones) {
        named.zones.push_back(std::move(z));
      }
    } else {
      for (const auto& given : args.zones) {
        std::string lower = given;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        orc::DesiredZone z;
        const bool id =
            lower.size() == 32 && lower.find_first_not_of("0123456789abcdef") == std::string::npos;
        if (id) {
          z.zone_id = lower;
        } else if (orc::is_zone_name(lower)) {
          z.zone_name = lower;
          z.name_at = "--zone " + orc::shown(given);
        } else {
          usage_error("--zone: '" + orc::shown(given) +
                      "' is neither a zone id (32 hexadecimal characters) nor a zone name");
        }
        named.zones.push_back(std::move(z));
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "origin-reconciler: " << e.what() << "\n";
    return kExitUsage;
  }
  orc::Credentials credentials;
  try {
    credentials = orc::resolve_credentials(config, &real_getenv);
  } catch (const orc::ConfigError& e) {
    std::cerr << "origin-reconciler: " << e.what() << "\n";
    return kExitUsage;
  }
  orc::set_redacted_secrets({credentials.token, credentials.api_key, credentials.email});
  orc::curl_global_setup();
  OneOffClient client(config, credentials);
  orc::ZoneNameCache names;
  if (const orc::Status resolved =
          orc::resolve_zone_names(named, client.session.directory(), names);
      !resolved.ok()) {
    std::cerr << "origin-reconciler: " << resolved.error().message << "; nothing written\n";
    return kExitUsage;
  }
  for (const auto& z : named.zones) targets.push_back({z.zone_id, z.zone_name});
  orc::ExportRun run;
  run.zones = std::move(targets);
  run.out = args.export_to;
  run.source = {std::string("origin-reconciler ") + ORC_VERSION, config.cloudflare.api_base,
                std::string(to_string(config.cloudflare.api_flavor)),
                orc::format_utc(client.clock.wall()).substr(0, 10)};
  return orc::run_export(client.session.zones(), run);
}

// How this run goes: once or for good, dry or not, and with --apply-plan the reviewed plan.
orc::StatusOr<orc::RunOptions, Exit> run_options(const Args& args, const Startup& s) {
  orc::RunOptions options;
  options.once = args.once;
  options.dry_run = args.dry_run || s.config.reconcile.dry_run;
  options.force = args.force;
  // Ids, or names the desired state writes with zone: (resolved by now), mixed.
  auto forced = orc::zone_ids_named(s.desired.state, args.force_zones, "--force-zone",
                                    s.config.reconcile.desired_state.string());
  if (!forced.ok()) {
    std::cerr << "origin-reconciler: " << forced.error().message << "\n";
    return Exit{kExitUsage};
  }
  options.force_zones = std::move(*forced);
  options.output.format = args.output;
  options.output.plan_out = args.plan_out;
  options.output.limited_to_zones = !args.zones.empty();
  options.output.detailed_exitcode = args.detailed_exitcode;
  options.output.identity = {std::string("origin-reconciler ") + ORC_VERSION,
                             std::string(to_string(s.config.cloudflare.api_flavor)),
                             s.config.path.string(),
                             s.config.reconcile.desired_state.string(),
                             s.desired.sha256,
                             args.force};
  if (args.apply_plan.empty()) return options;
  if (options.dry_run) {
    error_out() << "--apply-plan applies a plan, but " << s.config.path.string()
                << ": reconcile.dry_run is true\n";
    return Exit{kExitUsage};
  }
  const auto reviewed = read_reviewed_plan(args.apply_plan, options.output.identity,
                                           args.plan_max_age.value_or(kDefaultPlanMaxAge));
  if (!reviewed.plan) return Exit{reviewed.status};
  options.output.reviewed = reviewed.plan;
  options.output.reviewed_file = args.apply_plan;
  return options;
}

void log_start(const Startup& s, const orc::RunOptions& options) {
  spdlog::info(
      "origin-reconciler {} starting: config {}, desired state {} ({} zones), api {} at {}, "
      "credentials from {}, interval {}, dry_run {}{}",
      ORC_VERSION, s.config.path.string(), s.config.reconcile.desired_state.string(),
      s.desired.state.zones.size(), to_string(s.config.cloudflare.api_flavor),
      s.config.cloudflare.api_base, s.credentials.source,
      orc::format_duration(s.config.reconcile.interval), options.dry_run,
      options.force ? ", safety guard lifted (--force)" : "");
  for (const auto& id : options.force_zones) {
    const auto& zones = s.desired.state.zones;
    const auto it = std::find_if(zones.begin(), zones.end(),
                                 [&](const orc::DesiredZone& z) { return z.zone_id == id; });
    spdlog::info("safety guards lifted for zone {} (--force-zone)",
                 it == zones.end() ? id : orc::zone_label(*it));
  }
  if (const auto warning = orc::api_flavor_warning(s.config); !warning.empty()) {
    spdlog::warn("{}", warning);
  }
}

// Signals are taken by one thread with sigwait; every other thread inherits the mask.
sigset_t block_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signals;
}

// The signal thread: SIGHUP re-reads the desired state, a first SIGTERM or SIGINT stops
// cleanly (and calls `on_stop`), a second one exits at once. Runs until `done`.
void take_signals(const sigset_t& signals, orc::Daemon& daemon, const std::atomic<bool>& done,
                  const std::function<void()>& on_stop) {
  const timespec tick{0, 200 * 1000 * 1000};
  int stops = 0;
  while (!done) {
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: re-reading the desired state");
      daemon.request_reload();
    } else if (sig == SIGTERM || sig == SIGINT) {
      if (++stops > 1) {
        spdlog::warn("{} again: exiting now", strsignal(sig));
        std::_Exit(0);
      }
      spdlog::info("{}: finishing the requests in flight, then stopping", strsignal(sig));
      daemon.request_stop();
      if (on_stop) on_stop();
    }
  }
}

// The daemon on its real edges: time, waits, randomness, libcurl, the file on disk, and one
// instance or the Lease's leader. Returns its exit status.
int run_daemon(Startup s, const orc::RunOptions& options, const sigset_t& signals) {
  auto notifier = orc::make_systemd_notifier();
  orc::SystemClock clock;
  orc::SystemSleeper sleeper;
  orc::SystemRandom random;
  std::stop_source abort_transfers;  // stopped by the loop once the shutdown grace has passed
  orc::CurlHttpClient http(clock, s.config.cloudflare.max_response_bytes,
                           abort_transfers.get_token());
  const auto desired_file = orc::desired_access(s.config.reconcile.desired_state);
  orc::AlwaysLeader always;
  orc::SystemThreads threads;
  std::unique_ptr<orc::LeaseRuntime> lease;
  if (s.lease) lease = std::make_unique<orc::LeaseRuntime>(*s.lease);
  // Kubernetes Events on their own thread; a held desired-state change is the leader's to tell.
  std::unique_ptr<orc::EventsRuntime> events;
  if (s.events) {
    const orc::EventSource& pod = s.events->source;
    spdlog::info("kubernetes events: recorded on pod {}/{}{} through {}", pod.ns, pod.pod,
                 pod.pod_uid.empty() ? " (no $POD_UID: kubectl get events shows them, kubectl "
                                       "describe pod does not)"
                                     : "",
                 s.events->endpoint.api_server);
    std::function<bool()> leading;
    if (lease) leading = [l = lease.get()] { return l->leadership.leading(); };
    events = std::make_unique<orc::EventsRuntime>(*s.events, std::move(leading));
  }
  orc::Daemon daemon(std::move(s.config), std::move(s.credentials), std::move(s.desired), options,
                     {clock, sleeper, random, http, abort_transfers, *desired_file, *notifier,
                      lease ? static_cast<orc::Leadership&>(lease->leadership) : always, threads,
                      events ? &events->sink : nullptr});
  std::atomic<bool> done{false};
  // Events left to send at a stop go out within the shutdown grace the README promises,
  // however long the cycle and the Lease's release take: nothing is sent later than that.
  std::function<void()> on_stop;
  if (events) {
    on_stop = [&events, &clock] { events->stop_by(clock.monotonic() + orc::kShutdownGrace); };
  }
  std::thread signal_thread([&] { take_signals(signals, daemon, done, on_stop); });
  // However run() ends (a listen address that cannot be bound throws), the signal thread is
  // joined first: a joinable std::thread destroyed by an exception aborts the process.
  try {
    const int status = daemon.run();
    done = true;
    signal_thread.join();
    if (events) events->close();  // what is queued, within its grace
    return status;
  } catch (...) {
    done = true;
    signal_thread.join();
    throw;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  if (!args.export_to.empty()) return export_command(args);
  auto loaded = load_inputs(args);
  if (!loaded.ok()) return loaded.error().status;
  auto identified = resolve_identity(args, std::move(*loaded));
  if (!identified.ok()) return identified.error().status;
  {
    // From here on, whatever is logged or reported never shows these values.
    const orc::Credentials& credentials = identified->credentials;
    orc::set_redacted_secrets({credentials.token, credentials.api_key, credentials.email});
    for (const auto& w : credentials.warnings) spdlog::warn("{}", w);
  }
  orc::ZoneNameCache zone_names;
  auto startup = resolve_zones(args, std::move(*identified), zone_names);
  if (!startup.ok()) return startup.error().status;
  auto options = run_options(args, *startup);
  if (!options.ok()) return options.error().status;
  options->zone_names = std::move(zone_names);  // names known: reloads look up only new ones

  const sigset_t signals = block_signals();
  orc::curl_global_setup();
  log_start(*startup, *options);
  int status = 0;
  try {
    status = run_daemon(std::move(*startup), *options, signals);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return kExitUsage;
  }
  spdlog::info("stopped (exit status {})", status);
  return status;
}
