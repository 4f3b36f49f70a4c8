#include "service/daemon.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cloudflare/cloudflare_api.h"
#include "cloudflare/curl_http.h"
#include "core/redact.h"
#include "status/health.h"
#include "status/http_server.h"
#include "status/listen_socket.h"
#include "status/metrics.h"

namespace orc {

namespace {

constexpr auto kPollStep = std::chrono::seconds(1);          // desired-state polling, health beats
constexpr auto kShutdownGrace = std::chrono::seconds(5);     // then in-flight transfers are cut
constexpr auto kMinDueWait = std::chrono::milliseconds(10);  // a settle deadline already past

// The desired-state file as /healthz reports it.
enum class DesiredCondition { kValid, kHeld, kInvalid, kUnreadable };
const char* to_string(DesiredCondition c) {
  switch (c) {
    case DesiredCondition::kValid:
      return "valid";
    case DesiredCondition::kHeld:
      return "held";
    case DesiredCondition::kInvalid:
      return "invalid";
    case DesiredCondition::kUnreadable:
      return "unreadable";
  }
  return "unknown";
}

// Forwards API events to the metrics and counts them as progress for /healthz.
class ProgressObserver final : public ApiObserver {
 public:
  ProgressObserver(Metrics& metrics, Health& health, const Clock& clock)
      : metrics_(metrics), health_(health), clock_(clock) {}
  void on_request(Operation op, int status, double seconds) override {
    metrics_.on_request(op, status, seconds);
    health_.progress(clock_.monotonic());
  }
  void on_retry(Operation op, RetryReason reason, Millis delay) override {
    metrics_.on_retry(op, reason, delay);
    health_.quiet_until(clock_.monotonic() + delay);
  }

 private:
  Metrics& metrics_;
  Health& health_;
  const Clock& clock_;
};

std::vector<std::string> zone_ids(const DesiredState& desired) {
  std::vector<std::string> ids;
  for (const auto& z : desired.zones) ids.push_back(z.zone_id);
  return ids;
}

// Stuck means: no API answer and no loop step for this long beyond any announced wait.
std::chrono::milliseconds stall_threshold(const Config& c) {
  const auto per_request = c.cloudflare.request_timeout + c.reconcile.retry.max_backoff;
  return std::max<std::chrono::milliseconds>(2 * c.reconcile.interval, per_request) +
         std::chrono::minutes(1);
}

}  // namespace

struct Daemon::Impl {
  Impl(Config c, Credentials creds, DesiredFile d, RunOptions o, ServiceNotifier& n)
      : config(std::move(c)),
        credentials(std::move(creds)),
        desired(std::move(d.state)),
        options(o),
        notifier(n),
        http(clock, config.cloudflare.max_response_bytes, &abort_transfers),
        limiter(config.cloudflare.requests_per_second, clock, stop,
                config.cloudflare.budget_headroom),
        metrics(ORC_VERSION, config.metrics.zone_series),
        health(stall_threshold(config), clock.monotonic()),
        observer(metrics, health, clock),
        executor({http, limiter, stop, random, clock, observer}, config.reconcile.retry,
                 config.cloudflare.request_timeout),
        api(make_zone_api(config.cloudflare.api_flavor, config.cloudflare.api_base, credentials,
                          config.cloudflare.page_size, executor)),
        batch_applier(*api, static_cast<std::size_t>(config.reconcile.batch_size), stop),
        reconciler(*api,
                   options.dry_run ? static_cast<PlanApplier&>(dry_run_applier)
                                   : static_cast<PlanApplier&>(batch_applier),
                   clock, stop, metrics),
        watch(config.reconcile.settle_period, config.reconcile.hold_confirm_period, d.version) {}

  int run();
  CycleReport run_cycle();
  // How long the loop may wait before looking again: the poll step, or less when the
  // watchdog wants pings more often.
  std::chrono::milliseconds wait_step() const;
  void wait_for_next_cycle();
  // Looks at the desired-state file (or answers a SIGHUP); true when a new desired state was
  // taken, or SIGHUP asked for a cycle.
  bool poll_desired_file();
  bool reload_on_sighup();
  bool judge(const std::string& text, MonoTime now);
  void take(DesiredState next, const std::string& why);
  void drop_held();
  // The file cannot be read: kept out, reported once per reason (`log` false: the caller did).
  void file_unreadable(const std::string& error, bool log = true);
  void set_condition(DesiredCondition c);
  void ping_watchdog();
  HealthAnswer health_answer();
  std::string metrics_text();

  Config config;
  Credentials credentials;
  DesiredState desired;
  RunOptions options;
  ServiceNotifier& notifier;

  SystemClock clock;
  StopSignal stop;
  SystemRandom random;
  std::atomic<bool> abort_transfers{false};
  CurlHttpClient http;
  RateLimiter limiter;
  Metrics metrics;
  Health health;
  ProgressObserver observer;
  RequestExecutor executor;
  std::unique_ptr<ZoneApi> api;
  DryRunApplier dry_run_applier;
  BatchDeleteApplier batch_applier;
  Reconciler reconciler;
  std::unique_ptr<StatusServer> server;

  DesiredWatch watch;
  std::optional<DesiredState> held_state;   // a valid change waiting for confirmation
  std::optional<std::string> file_problem;  // why the file cannot be read, once reported
  std::atomic<std::size_t> zone_count{0};   // for /healthz, read on the server's threads
  std::atomic<DesiredCondition> condition{DesiredCondition::kValid};  // for /healthz
  std::atomic<bool> reload_requested{false};
  std::mutex wake_mu;
  std::condition_variable wake;
  std::optional<MonoTime> stop_requested_at;  // wake_mu
  std::string last_summary = "no cycle yet";  // wake_mu
  MonoTime last_watchdog{};
};

Daemon::Daemon(Config config, Credentials credentials, DesiredFile desired, RunOptions options,
               ServiceNotifier& notifier)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(credentials), std::move(desired),
                                   options, notifier)) {}

Daemon::~Daemon() = default;

int Daemon::run() {
  return impl_->run();
}

void Daemon::request_stop() {
  bool first = false;
  {
    // Under wake_mu, so a loop about to wait cannot miss the wake-up.
    std::lock_guard lock(impl_->wake_mu);
    if (!impl_->stop_requested_at) {
      impl_->stop_requested_at = impl_->clock.monotonic();
      first = true;
    }
    impl_->stop.request_stop();
  }
  impl_->wake.notify_all();
  if (first) impl_->notifier.stopping();  // at once, not after the cycle in flight
}

void Daemon::request_reload() {
  {
    std::lock_guard lock(impl_->wake_mu);
    impl_->reload_requested = true;
  }
  impl_->wake.notify_all();
}

// The budget window moves with time, not only with requests: read it at each scrape.
std::string Daemon::Impl::metrics_text() {
  const auto usage = limiter.usage();
  metrics.set_api_budget(usage.in_window, usage.limit);
  metrics.set_api_budget_remaining(usage.server_remaining);
  return metrics.serialize();
}

HealthAnswer Daemon::Impl::health_answer() {
  const MonoTime now = clock.monotonic();
  nlohmann::json body;
  const bool ok = health.healthy(now);
  body["status"] = ok ? "ok" : "stalled";
  body["seconds_since_progress"] = health.since_progress(now).count() / 1000.0;
  {
    std::lock_guard lock(wake_mu);
    body["last_cycle"] = last_summary;
  }
  body["zones"] = zone_count.load();  // of the desired state in force
  body["desired_state"] = to_string(condition.load());
  return {ok, body.dump()};
}

std::chrono::milliseconds Daemon::Impl::wait_step() const {
  std::chrono::milliseconds step = kPollStep;
  if (const auto w = notifier.watchdog_interval()) {
    step = std::min(step, std::max(std::chrono::milliseconds(1),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(*w)));
  }
  return step;
}

void Daemon::Impl::ping_watchdog() {
  const auto interval = notifier.watchdog_interval();
  if (!interval) return;
  const MonoTime now = clock.monotonic();
  // Only a loop that is making progress keeps the service alive.
  if (now - last_watchdog >= *interval && health.healthy(now)) {
    notifier.watchdog();
    last_watchdog = now;
  }
}

void Daemon::Impl::set_condition(DesiredCondition c) {
  condition = c;
  metrics.set_desired_state_valid(c == DesiredCondition::kValid || c == DesiredCondition::kHeld);
  metrics.set_desired_state_held(c == DesiredCondition::kHeld);
}

void Daemon::Impl::take(DesiredState next, const std::string& why) {
  desired = std::move(next);
  held_state.reset();
  zone_count = desired.zones.size();
  set_condition(DesiredCondition::kValid);
  metrics.set_zones(zone_ids(desired));
  spdlog::info("desired state reloaded ({}): {} zones from {}", why, desired.zones.size(),
               config.reconcile.desired_state.string());
}

void Daemon::Impl::drop_held() {
  if (!held_state) return;
  held_state.reset();
  metrics.set_desired_state_held(false);
}

void Daemon::Impl::file_unreadable(const std::string& error, bool log) {
  watch.lost();
  if (file_problem == error) return;
  const bool dropped = held_state.has_value();
  drop_held();
  file_problem = error;
  set_condition(DesiredCondition::kUnreadable);
  if (log) {
    spdlog::warn(
        "desired state file {} cannot be read: {}; keeping the last valid desired state ({} "
        "zones){} until it can be read again",
        config.reconcile.desired_state.string(), error, desired.zones.size(),
        dropped ? " and dropping the change that was held" : "");
  }
}

bool Daemon::Impl::reload_on_sighup() {
  const auto& path = config.reconcile.desired_state;
  std::string text;
  std::string error;
  FileVersion seen;
  if (!read_file(path, kMaxDesiredFileBytes, text, error, &seen.stamp)) {
    spdlog::error(
        "desired state not reloaded (SIGHUP): {}: cannot read: {}; keeping the last "
        "valid one ({} zones)",
        path.string(), error, desired.zones.size());
    file_unreadable(error, /*log=*/false);
    return false;
  }
  file_problem.reset();
  seen.hash = content_hash(text);
  DesiredState next;
  try {
    next = parse_desired_state(text, path);
  } catch (const DesiredStateError& e) {
    // SIGHUP says "complete", not "valid": an invalid file is still kept out.
    watch.confirmed_by_operator(seen, /*valid=*/false);
    drop_held();
    set_condition(DesiredCondition::kInvalid);
    spdlog::error("desired state not reloaded (SIGHUP): {}; keeping the last valid one ({} zones)",
                  e.what(), desired.zones.size());
    return false;
  }
  watch.confirmed_by_operator(seen, /*valid=*/true);
  take(std::move(next), held_state ? "SIGHUP, which confirms the held change" : "SIGHUP");
  return true;
}

bool Daemon::Impl::judge(const std::string& text, MonoTime now) {
  const auto& path = config.reconcile.desired_state;
  DesiredState next;
  try {
    next = parse_desired_state(text, path);
  } catch (const DesiredStateError& e) {
    watch.judged(/*valid=*/false, false, now);
    set_condition(DesiredCondition::kInvalid);
    spdlog::error(
        "desired state not reloaded (file changed): {}; keeping the last valid one ({} "
        "zones)",
        e.what(), desired.zones.size());
    return false;
  }
  const double max_fraction = config.reconcile.max_delete_fraction;
  const auto shrinks = removals_beyond(desired, next, max_fraction);
  switch (watch.judged(/*valid=*/true, !shrinks.empty(), now)) {
    case DesiredWatch::Verdict::kUse:
      take(std::move(next), "file changed");
      return true;
    case DesiredWatch::Verdict::kHold:
      held_state = std::move(next);
      set_condition(DesiredCondition::kHeld);
      spdlog::warn(
          "desired state change held: {} (reconcile.max_delete_fraction is {:.1f}%); the "
          "previous desired state ({} zones) stays in force. The change takes effect if {} "
          "stays unchanged for {}; if the file is complete, confirm it now with SIGHUP "
          "(systemctl reload origin-reconciler, or kill -HUP {})",
          describe(shrinks), max_fraction * 100.0, desired.zones.size(), path.string(),
          format_duration(watch.confirm_period()), ::getpid());
      return false;
    case DesiredWatch::Verdict::kReject:
      break;
  }
  return false;
}

bool Daemon::Impl::poll_desired_file() {
  if (reload_requested.exchange(false)) {
    notifier.reloading();
    reload_on_sighup();
    notifier.ready();
    return true;  // the operator asked: act on it now
  }
  const auto& path = config.reconcile.desired_state;
  const MonoTime now = clock.monotonic();
  std::string error;
  FileStamp stamp;
  // A missing file (deleted, or a dangling link) is not a change we act on: keep what we have.
  if (!stat_file(path, stamp, error)) {
    file_unreadable(error);
    return false;
  }
  if (!watch.worth_reading(stamp, now)) return false;
  std::string text;
  FileVersion seen;
  if (!read_file(path, kMaxDesiredFileBytes, text, error, &seen.stamp)) {
    file_unreadable(error);
    return false;
  }
  const bool back = file_problem.has_value();
  file_problem.reset();
  seen.hash = content_hash(text);

  const auto settle = format_duration(watch.settle_period());
  switch (watch.observe(seen, now)) {
    case DesiredWatch::Step::kNothing:
    case DesiredWatch::Step::kStillHeld:
      return false;
    case DesiredWatch::Step::kSettling:
      if (back) {
        spdlog::info("desired state file {} is back; it is used once unchanged for {}",
                     path.string(), settle);
      } else {
        spdlog::debug("desired state file {} changed; it is used once unchanged for {}",
                      path.string(), settle);
      }
      return false;
    case DesiredWatch::Step::kHeldReplaced:
      drop_held();
      set_condition(DesiredCondition::kValid);
      spdlog::info(
          "desired state file {} changed again while a change was held; the held change is "
          "dropped and the new version is used once unchanged for {}",
          path.string(), settle);
      return false;
    case DesiredWatch::Step::kBackInForce: {
      const bool dropped = held_state.has_value();
      drop_held();
      set_condition(DesiredCondition::kValid);
      spdlog::info("desired state file {} {} the desired state in force ({} zones){}",
                   path.string(), back ? "is back, with" : "again holds", desired.zones.size(),
                   dropped ? "; the held change is dropped" : "");
      return false;
    }
    case DesiredWatch::Step::kConfirmed: {
      if (!held_state) return false;  // not reached: the watch holds only what we hold
      DesiredState next = std::move(*held_state);
      take(std::move(next),
           "held change confirmed: unchanged for " + format_duration(watch.confirm_period()));
      return true;
    }
    case DesiredWatch::Step::kJudge:
      if (back) spdlog::info("desired state file {} is back", path.string());
      return judge(text, now);
  }
  return false;
}

CycleReport Daemon::Impl::run_cycle() {
  // The cycle runs on its own thread so this loop can keep the watchdog honest meanwhile.
  auto cycle = std::async(std::launch::async, [this] {
    return reconciler.run_cycle(desired, {config.reconcile.max_delete_fraction, options.force,
                                          config.reconcile.concurrency});
  });
  const auto step =
      std::min<std::chrono::milliseconds>(wait_step(), std::chrono::milliseconds(200));
  while (cycle.wait_for(step) != std::future_status::ready) {
    ping_watchdog();
    std::lock_guard lock(wake_mu);
    if (stop_requested_at && clock.monotonic() - *stop_requested_at > kShutdownGrace) {
      if (!abort_transfers.exchange(true)) {
        spdlog::warn("shutdown: requests still running after {}s; abandoning them",
                     kShutdownGrace.count());
      }
    }
  }
  return cycle.get();
}

void Daemon::Impl::wait_for_next_cycle() {
  const MonoTime next = clock.monotonic() + config.reconcile.interval;
  health.quiet_until(next);
  while (!stop.stop_requested()) {
    const MonoTime now = clock.monotonic();
    if (now >= next) return;
    auto step = std::min<std::chrono::nanoseconds>(next - now, wait_step());
    // Look again when a settle or confirmation period ends, not a poll step later.
    if (const auto due = watch.due()) {
      step = std::min<std::chrono::nanoseconds>(
          step, std::max<std::chrono::nanoseconds>(*due - now, kMinDueWait));
    }
    {
      std::unique_lock lock(wake_mu);
      wake.wait_for(lock, step,
                    [this] { return stop.stop_requested() || reload_requested.load(); });
    }
    health.progress(clock.monotonic());
    ping_watchdog();
    // A new desired state (or a SIGHUP) is acted on now, not at the end of the interval.
    if (poll_desired_file()) return;
  }
}

int Daemon::Impl::run() {
  zone_count = desired.zones.size();
  set_condition(DesiredCondition::kValid);
  metrics.set_zones(zone_ids(desired));
  const auto budget = limiter.usage();
  metrics.set_api_budget(budget.in_window, budget.limit);
  spdlog::info("API budget: {} requests per 5 minutes ({} per second, {}% kept free)", budget.limit,
               config.cloudflare.requests_per_second, config.cloudflare.budget_headroom * 100);

  if (!options.once) {
    server = std::make_unique<StatusServer>([this] { return metrics_text(); },
                                            [this] { return health_answer(); }, clock);
    // Throws ListenError ("cannot listen on host:port: reason"): main exits 2 with it.
    const int port = server->start(config.listen.host, config.listen.port);
    spdlog::info("serving /metrics and /healthz on {}", format_host_port(config.listen.host, port));
  }
  notifier.ready();
  notifier.status("started; first cycle running");

  int status = 0;
  // --once always runs its pass, so that even a stop before it started gets a report.
  while (options.once || !stop.stop_requested()) {
    if (!options.once) poll_desired_file();
    const CycleReport cycle = run_cycle();
    health.progress(clock.monotonic());
    const std::string summary = cycle.summary();
    {
      std::lock_guard lock(wake_mu);
      last_summary = summary;
    }
    spdlog::info("cycle done: {}", summary);
    notifier.status("last cycle: " + summary);
    if (options.once) {
      const bool stopped = stop.stop_requested();
      std::fputs(format_plan_report(cycle, options.dry_run, &desired, stopped).c_str(), stdout);
      std::fflush(stdout);
      status = once_exit_status(cycle, stopped);
      break;
    }
    wait_for_next_cycle();
  }

  if (stop.stop_requested()) spdlog::info("stopping: signal received");
  if (server) server->stop();
  return status;
}

bool cut_short_by_stop(const ZoneReport& zone) {
  if (zone.outcome != ZoneOutcome::kFailure || !zone.applied.failed.empty()) return false;
  if (zone.applied.error) return zone.applied.error->kind == ApiError::Kind::kCancelled;
  // A listing abandoned for the stop: the report keeps only the error's text.
  static const std::string kCancelled = ApiError::cancelled().describe();
  return zone.error.ends_with(kCancelled);
}

int once_exit_status(const CycleReport& cycle, bool stopped) {
  if (!stopped) return cycle.exit_status();
  bool failed = false;
  bool blocked = false;
  for (const auto& z : cycle.zones) {
    if (!z.applied.failed.empty()) failed = true;
    if (z.outcome == ZoneOutcome::kFailure && !cut_short_by_stop(z)) failed = true;
    if (z.outcome == ZoneOutcome::kBlocked) blocked = true;
  }
  return failed ? 1 : (blocked ? 3 : 0);
}

std::string format_plan_report(const CycleReport& cycle, bool dry_run, const DesiredState* desired,
                               bool stopped) {
  std::ostringstream out;
  std::size_t cut_short = 0;
  for (const auto& z : cycle.zones) {
    const bool cut = stopped && cut_short_by_stop(z);
    if (cut) ++cut_short;
    out << "zone " << z.zone_id << ": " << (cut ? "stopped" : to_string(z.outcome));
    if (z.listed) {
      out << " live=" << z.plan.live << " desired=" << z.plan.desired
          << " stale=" << z.plan.stale.size();
      if (z.plan.out_of_scope > 0) out << " out_of_scope=" << z.plan.out_of_scope;
    }
    if (!dry_run) {
      out << " pruned=" << z.applied.pruned << " already_gone=" << z.applied.already_gone
          << " not_deleted=" << z.applied.failed.size() << " requests=" << z.applied.requests;
    }
    // Errors, IPs and item errors come from the API's answers: printed through redact().
    if (!z.error.empty()) out << " (" << redact(z.error, kLogLineCap) << ")";
    out << "\n";
    if (dry_run || z.outcome == ZoneOutcome::kBlocked) {
      const char* verb = dry_run ? "would delete" : "blocked";
      for (const auto& ip : z.plan.stale) out << "  " << verb << " " << redact(ip) << "\n";
    }
    for (const auto& f : z.applied.failed)
      out << "  not deleted " << redact(f.ip) << ": " << redact(f.error) << "\n";
  }
  std::size_t not_started = 0;
  if (stopped && desired != nullptr) {
    for (const auto& dz : desired->zones) {
      const bool reported =
          std::any_of(cycle.zones.begin(), cycle.zones.end(),
                      [&](const ZoneReport& z) { return z.zone_id == dz.zone_id; });
      if (reported) continue;
      ++not_started;
      out << "zone " << dz.zone_id << ": not started (stopped before it was reconciled)\n";
    }
  }
  out << (dry_run ? "dry run: " : "") << cycle.summary() << "\n";
  if (stopped) {
    out << "stopped by a signal: " << cut_short << " zones cut short, " << not_started
        << " not started; run again to finish them\n";
  }
  return out.str();
}

}  // namespace orc
