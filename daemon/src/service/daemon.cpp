#include "service/daemon.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "base/cancellation.h"
#include "model/zone_queue.h"
#include "service/budget_file.h"
#include "service/cloudflare_session.h"
#include "service/cycle_factory.h"
#include "service/desired_state_source.h"
#include "service/shutdown_grace.h"
#include "service/status_view.h"
#include "service/wakeup.h"
#include "service/watchdog.h"
#include "status/listen_socket.h"

namespace orc {

constexpr auto kPollStep = std::chrono::seconds(1);          // desired-state polling, health beats
constexpr auto kMinDueWait = std::chrono::milliseconds(10);  // a settle deadline already past

struct Daemon::Impl {
  Impl(Config c, Credentials creds, DesiredFile d, RunOptions o, DaemonDeps edges)
      : config(std::move(c)),
        credentials(std::move(creds)),
        options(std::move(o)),
        deps(std::move(edges)),
        limiter(config.cloudflare.requests_per_second, deps.clock, deps.sleeper,
                config.cloudflare.budget_headroom),
        metrics(ORC_VERSION, config.metrics.zone_series),
        health(stall_threshold(config), deps.clock.monotonic()),
        observer(metrics, health, deps.clock),
        view(metrics, health, limiter, deps.leadership, deps.clock, deps.outcomes),
        watchdog(deps.notifier, health, deps.clock, kPollStep),
        wakeup(deps.clock, deps.sleeper),
        grace(deps.clock, deps.abort_transfers, kShutdownGrace),
        source({config.reconcile.desired_state, config.reconcile.settle_period,
                config.reconcile.hold_confirm_period, config.reconcile.max_delete_fraction},
               std::move(d), deps.desired_file,
               [this](DesiredState& next) {  // zone names, under the one request budget
                 CloudflareSession session(config, credentials,
                                           {deps.http, limiter, deps.sleeper, deps.random,
                                            deps.clock, observer, shutdown.get_token()});
                 return resolve_zone_names(next, session.directory(), options.zone_names);
               }),
        zone_observers({&metrics, deps.outcomes}),
        cycles(config, credentials, options.dry_run, options.output, options.force_zones,
               options.force,
               {deps.http, limiter, deps.sleeper, deps.random, deps.clock, observer, zone_observers,
                listings, deps.leadership}) {
    // Waiting for the budget the API announced (its rate-limit headers, a Retry-After) is a
    // quiet period it asked for, not a stall: /healthz stays ok and the watchdog fed.
    limiter.on_announced_wait([this](MonoTime until) { health.quiet_until(until); });
    if (OutcomeSink* sink = deps.outcomes) {
      source.on_change_held(
          [sink](const auto& s, Millis confirm) { sink->on_change_held(s, confirm); });
    }
  }

  int run();
  void start_serving();  // the status server (not for --once), READY=1, the leadership
  void report_cycle(const CycleReport& cycle);
  // One cycle under `stop`: on its own thread, while this one keeps the watchdog, takes
  // desired-state changes (their zones go first) and enforces the shutdown grace.
  CycleReport run_cycle(std::stop_token stop);
  bool await_leading(std::stop_token stop);  // false on a stop request
  void wait_for_next_cycle();
  // When the loop looks around again: a poll step (or a watchdog ping) from now, or sooner.
  MonoTime next_look() const;
  // The desired-state file (or a SIGHUP) looked at once; the metrics follow what it decided.
  std::optional<DesiredStateSource::Update> poll_desired();

  Config config;
  Credentials credentials;
  RunOptions options;
  DaemonDeps deps;  // the edges the loop works through (daemon.h)

  std::stop_source shutdown;  // request_stop()
  RateLimiter limiter;        // one budget for every cycle
  ListingMemory listings;     // each zone's last listing, for the sync guards
  Metrics metrics;
  Health health;
  ProgressObserver observer;
  StatusView view;
  Watchdog watchdog;
  Wakeup wakeup;        // signals, leadership changes and the end of a cycle
  ShutdownGrace grace;  // from the first stop request
  DesiredStateSource source;
  ReconcileFanOut zone_observers;  // the metrics, and the outcome sink when there is one
  CycleFactory cycles;
  std::unique_ptr<StatusServer> server;

  std::vector<std::string> changed_first;  // by the last change taken: they go first
  bool cycle_again = false;                // start the next cycle without waiting for the interval
  std::atomic<bool> reload_requested{false};
};

Daemon::Daemon(Config config, Credentials credentials, DesiredFile desired, RunOptions options,
               DaemonDeps deps)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(credentials), std::move(desired),
                                   std::move(options), std::move(deps))) {}

Daemon::~Daemon() = default;

int Daemon::run() {
  return impl_->run();
}

void Daemon::request_stop() {
  const bool first = impl_->grace.begin();
  impl_->shutdown.request_stop();
  impl_->wakeup.notify();
  if (first) impl_->deps.notifier.stopping();  // at once, not after the cycle in flight
}

void Daemon::request_reload() {
  impl_->reload_requested = true;
  impl_->wakeup.notify();
}

MonoTime Daemon::Impl::next_look() const {
  const MonoTime now = deps.clock.monotonic();
  const MonoTime step = now + watchdog.step();
  // A settle or confirmation period that ends sooner is looked at then, not a step later.
  const auto due = source.due();
  return due ? std::min(step, std::max(*due, now + kMinDueWait)) : step;
}

std::optional<DesiredStateSource::Update> Daemon::Impl::poll_desired() {
  const bool sighup = reload_requested.exchange(false);
  if (sighup) deps.notifier.reloading();
  auto update = source.poll(deps.clock.monotonic(), sighup);
  if (sighup) deps.notifier.ready();
  view.condition(source.condition());
  if (update && update->taken) {
    view.desired_state(*source.current());
    changed_first = update->changed_zones;
  }
  return update;
}

CycleReport Daemon::Impl::run_cycle(std::stop_token stop) {
  // One token for the cycle: stopped by the shutdown, by the leadership, or before a request
  // (CycleFactory); the first of them gives the reason a zone cut short reports.
  Cancellation cycle;
  std::stop_callback on_stop(stop, [&cycle] { cycle.request_stop(StopReason::kShutdown); });
  std::stop_callback on_lost_lead(deps.leadership.cycle_token(),
                                  [&cycle] { cycle.request_stop(StopReason::kNotLeader); });
  ZoneQueue queue(source.current());
  // A change taken while the loop waited (a file edited, SIGHUP): its zones go first, as they
  // do when it is taken during the cycle.
  if (!changed_first.empty()) queue.changes_first(source.current(), changed_first);
  changed_first.clear();

  CycleReport report;
  std::exception_ptr failed;  // rethrown here, as run() would have seen it
  std::atomic<bool> done{false};
  std::jthread worker = deps.threads.start([&] {
    try {
      report = cycles.run(cycle, queue);
    } catch (...) {
      failed = std::current_exception();
    }
    done = true;
    wakeup.notify();
  });
  while (!done) {
    wakeup.wait_until(grace.wake_by(next_look()));
    if (done) break;
    watchdog.ping();
    if (!options.once && !stop.stop_requested()) {
      if (const auto update = poll_desired()) {
        const auto changed = std::exchange(changed_first, {});
        if (update->sighup) cycle_again = true;  // SIGHUP asks for a full cycle at once
        if (changed.empty()) continue;
        if (queue.changes_first(source.current(), changed)) {
          spdlog::info(
              "desired state changed during the cycle: the {} changed zones are reconciled next; "
              "the rest of the cycle continues behind them with the new desired state",
              changed.size());
        } else {
          cycle_again = true;  // the cycle was ending: a new one takes the change
        }
      }
    }
    grace.enforce();
  }
  worker.join();
  if (failed) std::rethrow_exception(failed);
  return report;
}

bool Daemon::Impl::await_leading(std::stop_token stop) {
  // A standby keeps its health, the watchdog and the desired state current while it waits.
  std::string shown;
  while (!stop.stop_requested()) {
    if (deps.leadership.leading()) return true;
    if (std::string now = deps.leadership.describe(); now != shown)
      deps.notifier.status(shown = std::move(now));
    wakeup.wait_until(deps.clock.monotonic() + watchdog.step());
    health.progress(deps.clock.monotonic());  // standing by is progress; /healthz adds the lease
    watchdog.ping();
    poll_desired();
  }
  return false;
}

void Daemon::Impl::wait_for_next_cycle() {
  if (std::exchange(cycle_again, false)) return;
  const MonoTime next = deps.clock.monotonic() + config.reconcile.interval;
  health.quiet_until(next);
  while (!shutdown.stop_requested()) {
    if (deps.clock.monotonic() >= next) return;
    wakeup.wait_until(std::min(next, next_look()));
    health.progress(deps.clock.monotonic());
    watchdog.ping();
    // A new desired state (or a SIGHUP) is acted on now, not at the end of the interval.
    if (poll_desired()) return;
  }
}

int Daemon::Impl::run() {
  view.desired_state(*source.current());
  view.condition(DesiredCondition::kValid);
  const auto budget = limiter.usage();
  metrics.set_api_budget(budget.in_window, budget.limit);
  spdlog::info("API budget: {} requests per 5 minutes ({} per second, {}% kept free)", budget.limit,
               config.cloudflare.requests_per_second, config.cloudflare.budget_headroom * 100);
  // The API user's budget as the last run's answers left it, before the first request (not for
  // --once, a one-off run by a person).
  if (!options.once) keep_budget_in(config.state_directory, limiter, deps.clock);

  start_serving();

  int status = 0;
  const std::stop_token stop = shutdown.get_token();
  // --once always runs its pass, so that even a stop before it started gets a report (a pass
  // under a stopped token sends nothing).
  while (options.once || !stop.stop_requested()) {
    if (!await_leading(stop) && !options.once) break;
    if (!options.once) poll_desired();
    const CycleReport cycle = run_cycle(stop);
    if (deps.leadership.elects() && !deps.leadership.leading() && !stop.stop_requested()) {
      spdlog::warn("cycle abandoned: this instance stopped leading during it");
    }
    report_cycle(cycle);
    if (options.once) {
      status = finish_once(cycle, options.dry_run, options.output, *source.current(),
                           stop.stop_requested(), deps.clock.wall());
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
    server = std::make_unique<StatusServer>([this] { return view.metrics_text(); },
                                            [this] { return view.health_answer(); }, deps.clock);
    // Throws ListenError ("cannot listen on host:port: reason"): main exits 2 with it.
    const int port = server->start(config.listen.host, config.listen.port);
    spdlog::info("serving /metrics and /healthz on {}", format_host_port(config.listen.host, port));
  }
  deps.notifier.ready();
  deps.notifier.status("started; first cycle running");
  deps.leadership.start({.on_started_leading = [this] { wakeup.notify(); },
                         .on_stopped_leading = [this] { wakeup.notify(); }});
}

void Daemon::Impl::report_cycle(const CycleReport& cycle) {
  health.progress(deps.clock.monotonic());
  const std::string summary = cycle.summary();
  view.cycle_done(summary);
  spdlog::info("cycle done: {}", summary);
  deps.notifier.status(std::string(deps.leadership.elects() ? "leader; " : "") +
                       "last cycle: " + summary);
}

}  // namespace orc
