#include "service/daemon.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "cloudflare/cloudflare_api.h"
#include "core/cancellation.h"
#include "core/redact.h"
#include "core/reviewed_plan.h"
#include "core/zone_queue.h"
#include "service/cloudflare_session.h"
#include "service/desired_condition.h"
#include "service/plan_report.h"
#include "status/health.h"
#include "status/http_server.h"
#include "status/listen_socket.h"
#include "status/metrics.h"

namespace orc {

namespace {

constexpr auto kPollStep = std::chrono::seconds(1);          // desired-state polling, health beats
constexpr auto kMinDueWait = std::chrono::milliseconds(10);  // a settle deadline already past

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

std::map<std::string, std::string> zone_names(const DesiredState& desired) {
  std::map<std::string, std::string> names;
  for (const auto& z : desired.zones) {
    if (z.zone_name) names.emplace(z.zone_id, *z.zone_name);
  }
  return names;
}

// Stuck means: no API answer and no loop step for this long beyond any announced wait.
std::chrono::milliseconds stall_threshold(const Config& c) {
  const auto per_request = c.cloudflare.request_timeout + c.reconcile.retry.max_backoff;
  return std::max<std::chrono::milliseconds>(2 * c.reconcile.interval, per_request) +
         std::chrono::minutes(1);
}

}  // namespace

struct Daemon::Impl {
  Impl(Config c, Credentials creds, DesiredFile d, RunOptions o, DaemonDeps edges)
      : config(std::move(c)),
        credentials(std::move(creds)),
        desired(std::make_shared<const DesiredState>(std::move(d.state))),
        options(o),
        deps(std::move(edges)),
        // What only a Lease has (its health, transitions, who holds it); null without one.
        lease(dynamic_cast<LeaseLeadership*>(&deps.leadership)),
        limiter(config.cloudflare.requests_per_second, deps.clock, deps.sleeper,
                config.cloudflare.budget_headroom),
        metrics(ORC_VERSION, config.metrics.zone_series),
        health(stall_threshold(config), deps.clock.monotonic()),
        observer(metrics, health, deps.clock),
        zone_observers({&metrics, deps.outcomes}),
        watch(config.reconcile.settle_period, config.reconcile.hold_confirm_period, d.version) {
    // Waiting for the budget the API announced (its rate-limit headers, a Retry-After) is a
    // quiet period it asked for, not a stall: /healthz stays ok and the watchdog fed.
    limiter.on_announced_wait([this](MonoTime until) { health.quiet_until(until); });
  }

  int run();
  // Before the first cycle: the status server (not for --once), READY=1, and the Lease.
  void start_serving();
  // After each cycle: health, the summary for /healthz, the log and STATUS=.
  void report_cycle(const CycleReport& cycle);
  // One cycle under `stop` (the shutdown's token, or the leadership's cycle token).
  CycleReport run_cycle(std::stop_token stop);
  CycleReport reconcile_all(Cancellation& cycle, ZoneQueue& queue);
  // During a cycle: a desired-state change taken now (settled, confirmed, or SIGHUP) puts the
  // zones it changed at the front of the cycle's queue.
  void changes_first(ZoneQueue& queue);
  // How long the loop may wait before looking again: the poll step, or less when the
  // watchdog wants pings more often.
  std::chrono::milliseconds wait_step() const;
  void wait_for_next_cycle();
  // Before a cycle: until this instance leads (a standby waits here); false on a stop request.
  bool await_leading(std::stop_token stop);
  // Looks at the desired-state file (or answers a SIGHUP); true when a new desired state was
  // taken, or SIGHUP asked for a cycle.
  bool poll_desired_file();
  // The file, read when its stamp says it may have changed; nullopt when unchanged or
  // unreadable (reported).
  std::optional<FileContents> read_if_changed(MonoTime now);
  // What the watch made of the file just read: logged, and acted on; true when taken.
  bool on_file_step(DesiredWatch::Step step, const FileContents& read, bool back, MonoTime now);
  bool reload_on_sighup();
  bool judge(const FileContents& read, MonoTime now);
  // Zones written by name in a new desired state get their ids (the API is asked only for
  // names not known yet); an error keeps that state out, like a file that does not parse.
  Status resolve_names(DesiredState& next);
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
  // Shared with the cycle's queue, which keeps the state it started with while a new one is
  // taken: never copied.
  std::shared_ptr<const DesiredState> desired;
  RunOptions options;

  DaemonDeps deps;         // the edges the loop works through (daemon.h)
  LeaseLeadership* lease;  // leader election on a Lease, or null

  std::stop_source shutdown;  // request_stop()
  RateLimiter limiter;        // one budget for every cycle
  ListingMemory listings;     // each zone's last listing, for the sync guards
  Metrics metrics;
  Health health;
  ProgressObserver observer;
  ReconcileFanOut zone_observers;  // the metrics, and the outcome sink when there is one
  std::unique_ptr<StatusServer> server;

  DesiredWatch watch;
  std::optional<DesiredState> held_state;                 // a valid change waiting for confirmation
  std::optional<std::vector<std::string>> taken_changes;  // zones changed by the last take()
  bool cycle_again = false;                 // start the next cycle without waiting for the interval
  std::optional<std::string> file_problem;  // why the file cannot be read, once reported
  std::atomic<std::size_t> zone_count{0};   // for /healthz, read on the server's threads
  std::atomic<DesiredCondition> condition{DesiredCondition::kValid};  // for /healthz
  std::atomic<bool> reload_requested{false};
  std::mutex wake_mu;
  std::stop_source wake;                      // wake_mu; stopped to end the loop's wait
  std::optional<MonoTime> stop_requested_at;  // wake_mu
  std::string last_summary = "no cycle yet";  // wake_mu
  MonoTime last_watchdog{};
};

Daemon::Daemon(Config config, Credentials credentials, DesiredFile desired, RunOptions options,
               DaemonDeps deps)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(credentials), std::move(desired),
                                   options, std::move(deps))) {}

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
      impl_->stop_requested_at = impl_->deps.clock.monotonic();
      first = true;
    }
    impl_->shutdown.request_stop();
    impl_->wake.request_stop();
  }
  if (first) impl_->deps.notifier.stopping();  // at once, not after the cycle in flight
}

void Daemon::request_reload() {
  std::lock_guard lock(impl_->wake_mu);
  impl_->reload_requested = true;
  impl_->wake.request_stop();
}

// The budget window moves with time, not only with requests: read it at each scrape.
std::string Daemon::Impl::metrics_text() {
  const auto usage = limiter.usage();
  metrics.set_api_budget(usage.in_window, usage.limit);
  metrics.set_leader(deps.leadership.leading(), lease != nullptr ? lease->transitions() : 0);
  metrics.set_api_budget_remaining(usage.server_remaining);
  metrics.set_duplicate_identity(lease != nullptr && lease->duplicate_identity());
  if (deps.outcomes != nullptr) metrics.set_events(deps.outcomes->event_counts());
  return metrics.serialize();
}

HealthAnswer Daemon::Impl::health_answer() {
  const MonoTime now = deps.clock.monotonic();
  nlohmann::json body;
  // A healthy standby is healthy: only a standby cut off from the Lease API is not.
  const bool lease_ok = lease == nullptr || lease->api_healthy(now);
  const bool ok = health.healthy(now) && lease_ok;
  body["status"] = ok ? "ok" : (lease_ok ? "stalled" : "lease API unreachable");
  body["leadership"] = lease != nullptr ? lease->describe() : "leader (leader election off)";
  body["seconds_since_progress"] = health.since_progress(now).count() / 1000.0;
  {
    std::lock_guard lock(wake_mu);
    body["last_cycle"] = last_summary;
  }
  if (const auto wait = limiter.announced_wait()) {
    body["api_wait"] = {
        {"reason", wait->from_headers ? "rate-limit headers: the API user's budget is spent"
                                      : "Retry-After of a 429 answer"},
        {"seconds_left",
         std::chrono::duration_cast<std::chrono::milliseconds>(wait->until - now).count() /
             1000.0}};
  }
  body["zones"] = zone_count.load();  // of the desired state in force
  body["desired_state"] = std::string(to_string(condition.load()));
  return {ok, body.dump()};
}

std::chrono::milliseconds Daemon::Impl::wait_step() const {
  std::chrono::milliseconds step = kPollStep;
  if (const auto w = deps.notifier.watchdog_interval()) {
    step = std::min(step, std::max(std::chrono::milliseconds(1),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(*w)));
  }
  return step;
}

void Daemon::Impl::ping_watchdog() {
  const auto interval = deps.notifier.watchdog_interval();
  if (!interval) return;
  const MonoTime now = deps.clock.monotonic();
  // Only a loop that is making progress keeps the service alive.
  if (now - last_watchdog >= *interval && health.healthy(now)) {
    deps.notifier.watchdog();
    last_watchdog = now;
  }
}

void Daemon::Impl::set_condition(DesiredCondition c) {
  condition = c;
  metrics.set_desired_state_valid(c == DesiredCondition::kValid || c == DesiredCondition::kHeld);
  metrics.set_desired_state_held(c == DesiredCondition::kHeld);
}

void Daemon::Impl::take(DesiredState next, const std::string& why) {
  taken_changes = changed_zones(*desired, next);
  desired = std::make_shared<const DesiredState>(std::move(next));
  held_state.reset();
  zone_count = desired->zones.size();
  set_condition(DesiredCondition::kValid);
  metrics.set_zones(zone_ids(*desired));
  metrics.set_zone_names(zone_names(*desired));
  spdlog::info("desired state reloaded ({}): {} zones from {}", why, desired->zones.size(),
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
        config.reconcile.desired_state.string(), error, desired->zones.size(),
        dropped ? " and dropping the change that was held" : "");
  }
}

bool Daemon::Impl::reload_on_sighup() {
  const auto& path = config.reconcile.desired_state;
  auto read = deps.desired_file.read();
  if (!read.ok()) {
    const std::string& error = read.error().message;
    spdlog::error(
        "desired state not reloaded (SIGHUP): {}: cannot read: {}; keeping the last "
        "valid one ({} zones)",
        path.string(), error, desired->zones.size());
    file_unreadable(error, /*log=*/false);
    return false;
  }
  const FileVersion seen = version_of(*read);
  file_problem.reset();
  DesiredState next;
  try {
    next = parse_desired_contents(*read, path);
    if (const Status resolved = resolve_names(next); !resolved.ok()) {
      throw DesiredStateError(resolved.error().message);
    }
  } catch (const DesiredStateError& e) {
    // SIGHUP says "complete", not "valid": an invalid file is still kept out.
    watch.confirmed_by_operator(seen, /*valid=*/false);
    drop_held();
    set_condition(DesiredCondition::kInvalid);
    spdlog::error("desired state not reloaded (SIGHUP): {}; keeping the last valid one ({} zones)",
                  e.what(), desired->zones.size());
    return false;
  }
  watch.confirmed_by_operator(seen, /*valid=*/true);
  take(std::move(next), held_state ? "SIGHUP, which confirms the held change" : "SIGHUP");
  return true;
}

Status Daemon::Impl::resolve_names(DesiredState& next) {
  CloudflareSession session(
      config, credentials,
      {deps.http, limiter, deps.sleeper, deps.random, deps.clock, observer, shutdown.get_token()});
  return resolve_zone_names(next, session.directory(), options.zone_names);
}

bool Daemon::Impl::judge(const FileContents& read, MonoTime now) {
  const auto& path = config.reconcile.desired_state;
  DesiredState next;
  try {
    next = parse_desired_contents(read, path);
    if (const Status resolved = resolve_names(next); !resolved.ok()) {
      throw DesiredStateError(resolved.error().message +
                              " (a change to the file, or SIGHUP, looks the names up again)");
    }
  } catch (const DesiredStateError& e) {
    watch.judged(/*valid=*/false, false, now);
    set_condition(DesiredCondition::kInvalid);
    spdlog::error(
        "desired state not reloaded (file changed): {}; keeping the last valid one ({} "
        "zones)",
        e.what(), desired->zones.size());
    return false;
  }
  const double max_fraction = config.reconcile.max_delete_fraction;
  const auto shrinks = removals_beyond(*desired, next, max_fraction);
  switch (watch.judged(/*valid=*/true, !shrinks.empty(), now)) {
    case DesiredWatch::Verdict::kUse:
      take(std::move(next), "file changed");
      return true;
    case DesiredWatch::Verdict::kHold:
      if (deps.outcomes != nullptr) deps.outcomes->on_change_held(shrinks, watch.confirm_period());
      held_state = std::move(next);
      set_condition(DesiredCondition::kHeld);
      spdlog::warn(
          "desired state change held: {} (reconcile.max_delete_fraction is {:.1f}%); the "
          "previous desired state ({} zones) stays in force. The change takes effect if {} "
          "stays unchanged for {}; if the file is complete, confirm it now with SIGHUP "
          "(systemctl reload origin-reconciler, or kill -HUP {})",
          describe(shrinks), max_fraction * 100.0, desired->zones.size(), path.string(),
          format_duration(watch.confirm_period()), ::getpid());
      return false;
    case DesiredWatch::Verdict::kReject:
      break;
  }
  return false;
}

bool Daemon::Impl::poll_desired_file() {
  if (reload_requested.exchange(false)) {
    deps.notifier.reloading();
    reload_on_sighup();
    deps.notifier.ready();
    return true;  // the operator asked: act on it now
  }
  const MonoTime now = deps.clock.monotonic();
  const auto read = read_if_changed(now);
  if (!read) return false;
  const bool back = file_problem.has_value();
  file_problem.reset();
  return on_file_step(watch.observe(version_of(*read), now), *read, back, now);
}

std::optional<FileContents> Daemon::Impl::read_if_changed(MonoTime now) {
  // A missing file (deleted, or a dangling link) is not a change we act on: keep what we have.
  const auto stamp = deps.desired_file.stat();
  if (!stamp.ok()) {
    file_unreadable(stamp.error().message);
    return std::nullopt;
  }
  if (!watch.worth_reading(*stamp, now)) return std::nullopt;
  auto read = deps.desired_file.read();
  if (!read.ok()) {
    file_unreadable(read.error().message);
    return std::nullopt;
  }
  return std::move(*read);
}

bool Daemon::Impl::on_file_step(DesiredWatch::Step step, const FileContents& read, bool back,
                                MonoTime now) {
  const auto& path = config.reconcile.desired_state;
  const auto settle = format_duration(watch.settle_period());
  switch (step) {
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
                   path.string(), back ? "is back, with" : "again holds", desired->zones.size(),
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
      return judge(read, now);
  }
  return false;
}

// The cycle's request path, bound to the cycle's token: the executor, the API and the applier
// live for one cycle; the budget (limiter) and the observers outlive it.
CycleReport Daemon::Impl::reconcile_all(Cancellation& cycle, ZoneQueue& queue) {
  const std::stop_token stop = cycle.get_token();
  // Before every request: an instance that no longer leads abandons the cycle.
  auto may_send = [this, &cycle] {
    if (deps.leadership.leading()) return true;
    if (cycle.request_stop(StopReason::kNotLeader)) {
      spdlog::warn("no longer the leader: abandoning this cycle; no further request is sent");
    }
    return false;
  };
  RequestExecutor executor(
      {deps.http, limiter, deps.sleeper, deps.random, deps.clock, observer, stop, may_send},
      config.reconcile.retry, config.cloudflare.request_timeout);
  const auto api = make_zone_api(config.cloudflare.api_flavor, config.cloudflare.api_base,
                                 credentials, config.cloudflare.page_size, executor);
  DryRunApplier dry_run_applier;
  ChangeSetApplier change_applier(*api, static_cast<std::size_t>(config.reconcile.batch_size),
                                  stop);
  // --apply-plan: only the reviewed plan goes through.
  const PlanDocument no_reviewed_plan;
  ReviewedPlanApplier reviewed_applier(
      change_applier, options.output.reviewed ? *options.output.reviewed : no_reviewed_plan);
  Reconciler reconciler(*api,
                        options.dry_run           ? static_cast<PlanApplier&>(dry_run_applier)
                        : options.output.reviewed ? static_cast<PlanApplier&>(reviewed_applier)
                                                  : static_cast<PlanApplier&>(change_applier),
                        deps.clock, cycle, zone_observers);
  reconciler.remember_listings(listings);
  ReconcileSettings settings{config.reconcile.max_delete_fraction,
                             options.force,
                             config.reconcile.concurrency,
                             config.reconcile.policy,
                             config.reconcile.max_update_fraction,
                             options.force_zones,
                             {},
                             config.reconcile.suspend};
  if (options.output.reviewed) settings.approved_zones = approved_zones(*options.output.reviewed);
  return reconciler.run_cycle(queue, settings);
}

void Daemon::Impl::changes_first(ZoneQueue& queue) {
  const bool sighup = reload_requested.load();
  taken_changes.reset();
  if (!poll_desired_file()) return;
  if (sighup) cycle_again = true;  // SIGHUP asks for a full cycle: the next one starts at once
  if (!taken_changes || taken_changes->empty()) return;
  const std::size_t changed = taken_changes->size();
  if (queue.changes_first(desired, *taken_changes)) {
    spdlog::info(
        "desired state changed during the cycle: the {} changed zones are reconciled next; the "
        "rest of the cycle continues behind them with the new desired state",
        changed);
  } else {
    cycle_again = true;  // the cycle was ending: a new one takes the change
  }
  taken_changes.reset();
}

CycleReport Daemon::Impl::run_cycle(std::stop_token stop) {
  // One token for the cycle: stopped by the shutdown, by the leadership, or by may_send; the
  // first of them gives the reason a zone cut short reports.
  Cancellation cycle;
  std::stop_callback on_stop(stop, [&cycle] { cycle.request_stop(StopReason::kShutdown); });
  std::stop_callback on_lost_lead(deps.leadership.cycle_token(),
                                  [&cycle] { cycle.request_stop(StopReason::kNotLeader); });

  // The cycle runs on its own thread so this loop can keep the watchdog honest meanwhile.
  CycleReport report;
  std::exception_ptr failed;  // rethrown here, as run() would have seen it
  std::stop_source done;
  ZoneQueue queue(desired);
  // A change taken while the loop waited (a file edited, SIGHUP): the zones it changed go first
  // in the cycle it starts, as they do when it is taken during a cycle.
  if (taken_changes && !taken_changes->empty()) queue.changes_first(desired, *taken_changes);
  taken_changes.reset();
  std::jthread worker = deps.threads.start([&] {
    try {
      report = reconcile_all(cycle, queue);
    } catch (...) {
      failed = std::current_exception();
    }
    done.request_stop();
  });
  const auto step =
      std::min<std::chrono::milliseconds>(wait_step(), std::chrono::milliseconds(200));
  while (deps.sleeper.sleep_for(step, done.get_token())) {
    ping_watchdog();
    if (!options.once && !stop.stop_requested()) changes_first(queue);
    std::lock_guard lock(wake_mu);
    if (stop_requested_at && deps.clock.monotonic() - *stop_requested_at > kShutdownGrace) {
      if (deps.abort_transfers.request_stop()) {
        spdlog::warn("shutdown: requests still running after {}s; abandoning them",
                     kShutdownGrace.count());
      }
    }
  }
  worker.join();
  if (failed) std::rethrow_exception(failed);
  return report;
}

bool Daemon::Impl::await_leading(std::stop_token stop) {
  if (lease == nullptr) return deps.leadership.await_leading(stop);
  // A standby keeps its health, the watchdog and the desired state current while it waits.
  std::string shown;
  while (!stop.stop_requested()) {
    if (lease->leading()) return true;
    if (std::string now = lease->describe(); now != shown)
      deps.notifier.status(shown = std::move(now));
    std::optional<std::stop_token> woken_by;
    {
      std::lock_guard lock(wake_mu);
      if (wake.stop_requested()) wake = std::stop_source();  // the last wake-up was seen
      if (!stop.stop_requested() && !reload_requested.load()) woken_by = wake.get_token();
    }
    if (woken_by) deps.sleeper.sleep_for(wait_step(), *woken_by);
    health.progress(deps.clock.monotonic());  // standing by is progress; /healthz adds the lease
    ping_watchdog();
    poll_desired_file();
  }
  return false;
}

void Daemon::Impl::wait_for_next_cycle() {
  if (std::exchange(cycle_again, false)) return;
  const MonoTime next = deps.clock.monotonic() + config.reconcile.interval;
  health.quiet_until(next);
  while (!shutdown.stop_requested()) {
    const MonoTime now = deps.clock.monotonic();
    if (now >= next) return;
    auto step = std::min<std::chrono::nanoseconds>(next - now, wait_step());
    // Look again when a settle or confirmation period ends, not a poll step later.
    if (const auto due = watch.due()) {
      step = std::min<std::chrono::nanoseconds>(
          step, std::max<std::chrono::nanoseconds>(*due - now, kMinDueWait));
    }
    std::optional<std::stop_token> woken_by;
    {
      std::lock_guard lock(wake_mu);
      if (wake.stop_requested()) wake = std::stop_source();  // the last wake-up was seen
      if (!shutdown.stop_requested() && !reload_requested.load()) woken_by = wake.get_token();
    }
    if (woken_by)
      deps.sleeper.sleep_for(std::chrono::ceil<std::chrono::milliseconds>(step), *woken_by);
    health.progress(deps.clock.monotonic());
    ping_watchdog();
    // A new desired state (or a SIGHUP) is acted on now, not at the end of the interval.
    if (poll_desired_file()) return;
  }
}

int Daemon::Impl::run() {
  zone_count = desired->zones.size();
  set_condition(DesiredCondition::kValid);
  metrics.set_zones(zone_ids(*desired));
  metrics.set_zone_names(zone_names(*desired));
  const auto budget = limiter.usage();
  metrics.set_api_budget(budget.in_window, budget.limit);
  spdlog::info("API budget: {} requests per 5 minutes ({} per second, {}% kept free)", budget.limit,
               config.cloudflare.requests_per_second, config.cloudflare.budget_headroom * 100);

  start_serving();

  int status = 0;
  const std::stop_token stop = shutdown.get_token();
  // --once always runs its pass, so that even a stop before it started gets a report (a pass
  // under a stopped token sends nothing).
  while (options.once || !stop.stop_requested()) {
    if (!await_leading(stop) && !options.once) break;
    if (!options.once) poll_desired_file();
    const CycleReport cycle = run_cycle(stop);
    if (lease != nullptr && !lease->leading() && !stop.stop_requested()) {
      spdlog::warn("cycle abandoned: this instance stopped leading during it");
    }
    report_cycle(cycle);
    if (options.once) {
      status = finish_once(cycle, options.dry_run, options.output, *desired, stop.stop_requested(),
                           deps.clock.wall());
      break;
    }
    wait_for_next_cycle();
  }

  if (stop.stop_requested()) spdlog::info("stopping: signal received");
  deps.leadership.release();
  if (server) server->stop();
  return status;
}

void Daemon::Impl::start_serving() {
  if (!options.once) {
    server = std::make_unique<StatusServer>([this] { return metrics_text(); },
                                            [this] { return health_answer(); }, deps.clock);
    // Throws ListenError ("cannot listen on host:port: reason"): main exits 2 with it.
    const int port = server->start(config.listen.host, config.listen.port);
    spdlog::info("serving /metrics and /healthz on {}", format_host_port(config.listen.host, port));
  }
  deps.notifier.ready();
  deps.notifier.status("started; first cycle running");
  if (lease != nullptr) {
    lease->on_change([this] {
      std::lock_guard lock(wake_mu);
      wake.request_stop();
    });
    lease->start();
  }
}

void Daemon::Impl::report_cycle(const CycleReport& cycle) {
  health.progress(deps.clock.monotonic());
  const std::string summary = cycle.summary();
  {
    std::lock_guard lock(wake_mu);
    last_summary = summary;
  }
  spdlog::info("cycle done: {}", summary);
  deps.notifier.status(std::string(lease != nullptr ? "leader; " : "") + "last cycle: " + summary);
}

}  // namespace orc
