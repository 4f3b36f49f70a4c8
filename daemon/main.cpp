// origin-reconciler: keeps each Cloudflare zone's origin cloud region mappings in line with a
// desired-state file: it prunes the stale ones, and under the sync policy also creates and
// corrects the desired ones. See README.md.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "cloudflare/curl_http.h"
#include "core/config.h"
#include "core/desired_state.h"
#include "core/plan_file.h"
#include "core/redact.h"
#include "core/source_text.h"
#include "core/status.h"
#include "service/daemon.h"
#include "service/desired_file.h"
#include "service/desired_watch.h"
#include "service/leadership.h"
#include "service/logging.h"
#include "service/notify.h"

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
  --force-zone ID  lift the safety guards for this zone only (its own thresholds and the
                   configuration's); may be given more than once
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
  --check-config   validate the configuration and desired state without touching the
                   network; print one line per zone
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
  orc::OutputFormat output = orc::OutputFormat::kText;
  std::string plan_out;
  std::string apply_plan;
  std::optional<orc::Millis> plan_max_age;
  bool detailed_exitcode = false;
  std::vector<std::string> force_zones;  // lower-cased zone ids
};

constexpr orc::Millis kDefaultPlanMaxAge = std::chrono::hours(1);

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "origin-reconciler: " << message << "\n"
            << "Try 'origin-reconciler --help'.\n";
  std::exit(kExitUsage);
}

// Options that only make sense together.
void check_combination(const Args& args) {
  if (args.config.empty()) usage_error("--config needs a path");
  if (args.strict && !args.check_config) usage_error("--strict goes with --check-config");
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
  std::string value;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
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
    } else if (a == "--once") {
      args.once = true;
    } else if (a == "--dry-run") {
      args.dry_run = true;
    } else if (a == "--force") {
      args.force = true;
    } else if (valued(a, i, "--force-zone", value)) {
      std::string id = value;
      bool hex = id.size() == 32;
      for (char& c : id) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) hex = false;
      }
      if (!hex) {
        usage_error("--force-zone: must be a zone id (32 hexadecimal characters) (got '" +
                    orc::shown(value) + "')");
      }
      args.force_zones.push_back(std::move(id));
    } else if (a == "--detailed-exitcode") {
      args.detailed_exitcode = true;
    } else if (a == "--check-config") {
      args.check_config = true;
    } else if (a == "--strict") {
      args.strict = true;
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
  return args;
}

int check_config(const orc::Config& config, const orc::DesiredState& desired, bool strict) {
  std::cout << "config " << config.path.string() << ": ok (api "
            << to_string(config.cloudflare.api_flavor) << " at " << config.cloudflare.api_base
            << ", interval " << orc::format_duration(config.reconcile.interval) << ", batch_size "
            << config.reconcile.batch_size << ", dry_run "
            << (config.reconcile.dry_run ? "true" : "false") << ")\n";
  if (const auto warning = orc::api_flavor_warning(config); !warning.empty()) {
    std::cout << "warning: " << warning << "\n";
  }
  std::cout << "desired state " << config.reconcile.desired_state.string() << ": ok, "
            << desired.zones.size() << " zones\n";
  for (const auto& z : desired.zones) {
    std::cout << "zone " << z.zone_id << ": " << z.origins.size() << " origins kept, ";
    if (z.manage_cidrs.empty()) {
      std::cout << "every live IP in scope\n";
    } else {
      std::cout << "scope";
      for (const auto& c : z.manage_cidrs) std::cout << " " << orc::to_string(c);
      std::cout << "\n";
    }
  }
  std::vector<std::string> warnings;
  try {
    const auto creds = orc::resolve_credentials(config, &real_getenv);
    std::cout << "credentials: " << creds.source << "\n";
    warnings = creds.warnings;
  } catch (const orc::ConfigError& e) {
    // Not fatal here: desired-state changes are often checked where no secret is present.
    std::cout << "credentials: " << e.what() << " (the daemon would refuse to start)\n";
  }
  for (const auto& w : warnings) {
    if (strict) {
      std::cerr << "origin-reconciler: " << w << " (an error with --strict)\n";
    } else {
      std::cout << "warning: " << w << "\n";
    }
  }
  return strict && !warnings.empty() ? kExitUsage : 0;
}

struct ReviewedPlan {
  std::shared_ptr<const orc::PlanDocument> plan;  // null: refused, exit with `status`
  int status = 0;
};

// --apply-plan: the plan file, read strictly, and checked against this run before any request
// is sent: not older than `max_age`, made for the same API generation.
ReviewedPlan read_reviewed_plan(const std::string& file, const orc::PlanIdentity& here,
                                orc::Millis max_age) {
  const auto read = orc::read_file(file, orc::kMaxPlanFileBytes);
  if (!read.ok()) {
    std::cerr << "origin-reconciler: " << file
              << ": cannot read the plan file: " << read.error().message << "\n";
    return {nullptr, kExitUsage};
  }
  orc::PlanDocument plan;
  try {
    plan = orc::parse_plan_document(read->text, file);
  } catch (const orc::PlanFileError& e) {
    std::cerr << "origin-reconciler: " << e.what() << "\n";
    return {nullptr, kExitUsage};
  }
  const orc::SystemClock clock;
  if (const auto problem = orc::plan_age_problem(plan, file, clock.wall(), max_age)) {
    std::cerr << "origin-reconciler: plan refused, nothing applied: " << *problem << "\n";
    return {nullptr, kExitRefused};
  }
  if (plan.identity.api_flavor != here.api_flavor) {
    std::cerr << "origin-reconciler: plan refused, nothing applied: " << file
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
  std::optional<orc::LeaseSettings> lease;  // leader election on, and not --once
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
    std::cerr << "origin-reconciler: " << e.what() << "\n";
    return Exit{kExitUsage};
  }
  if (args.check_config) return Exit{check_config(s.config, s.desired.state, args.strict)};
  return s;
}

// The credentials, and the Lease settings when leader election applies (not for --once, a
// one-off run by a person).
orc::StatusOr<Startup, Exit> resolve_identity(const Args& args, Startup s) {
  try {
    s.credentials = orc::resolve_credentials(s.config, &real_getenv);
    if (s.config.leader_election.enabled && !args.once) {
      char host[256] = {0};
      if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
      s.lease = orc::resolve_lease_settings(s.config, &real_getenv, host);
    }
  } catch (const orc::ConfigError& e) {
    std::cerr << "origin-reconciler: " << e.what() << "\n";
    return Exit{kExitUsage};
  }
  return s;
}

// How this run goes: once or for good, dry or not, and with --apply-plan the reviewed plan.
orc::StatusOr<orc::RunOptions, Exit> run_options(const Args& args, const Startup& s) {
  orc::RunOptions options;
  options.once = args.once;
  options.dry_run = args.dry_run || s.config.reconcile.dry_run;
  options.force = args.force;
  for (const auto& id : args.force_zones) {
    const auto& zones = s.desired.state.zones;
    if (std::none_of(zones.begin(), zones.end(), [&](const auto& z) { return z.zone_id == id; })) {
      std::cerr << "origin-reconciler: --force-zone: " << id << " is not a zone of "
                << s.config.reconcile.desired_state.string() << "\n";
      return Exit{kExitUsage};
    }
  }
  options.force_zones = args.force_zones;
  options.output.format = args.output;
  options.output.plan_out = args.plan_out;
  options.output.detailed_exitcode = args.detailed_exitcode;
  options.output.identity = {std::string("origin-reconciler ") + ORC_VERSION,
                             std::string(to_string(s.config.cloudflare.api_flavor)),
                             s.config.path.string(),
                             s.config.reconcile.desired_state.string(),
                             s.desired.sha256,
                             args.force};
  if (args.apply_plan.empty()) return options;
  if (options.dry_run) {
    std::cerr << "origin-reconciler: --apply-plan applies a plan, but " << s.config.path.string()
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
    spdlog::info("safety guards lifted for zone {} (--force-zone)", id);
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
// cleanly, a second one exits at once. Runs until `done`.
void take_signals(const sigset_t& signals, orc::Daemon& daemon, const std::atomic<bool>& done) {
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
  orc::DesiredStateFile desired_file(s.config.reconcile.desired_state);
  orc::AlwaysLeader always;
  orc::SystemThreads threads;
  std::unique_ptr<orc::LeaseRuntime> lease;
  if (s.lease) lease = std::make_unique<orc::LeaseRuntime>(*s.lease);
  orc::Daemon daemon(std::move(s.config), std::move(s.credentials), std::move(s.desired), options,
                     {clock, sleeper, random, http, abort_transfers, desired_file, *notifier,
                      lease ? static_cast<orc::Leadership&>(lease->leadership) : always, threads});
  std::atomic<bool> done{false};
  std::thread signal_thread([&] { take_signals(signals, daemon, done); });
  // However run() ends (a listen address that cannot be bound throws), the signal thread is
  // joined first: a joinable std::thread destroyed by an exception aborts the process.
  try {
    const int status = daemon.run();
    done = true;
    signal_thread.join();
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
  auto loaded = load_inputs(args);
  if (!loaded.ok()) return loaded.error().status;
  auto startup = resolve_identity(args, std::move(*loaded));
  if (!startup.ok()) return startup.error().status;
  // From here on, whatever is logged or reported never shows these values.
  const orc::Credentials& credentials = startup->credentials;
  orc::set_redacted_secrets({credentials.token, credentials.api_key, credentials.email});
  for (const auto& w : credentials.warnings) spdlog::warn("{}", w);
  const auto options = run_options(args, *startup);
  if (!options.ok()) return options.error().status;

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
