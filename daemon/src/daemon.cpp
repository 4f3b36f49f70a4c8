#include "daemon.h"

#include <spdlog/spdlog.h>

#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cloudflare_api.h"
#include "curl_http.h"
#include "health.h"
#include "http_server.h"
#include "metrics.h"

namespace orc {

namespace {

constexpr auto kPollStep = std::chrono::seconds(1);       // desired-state polling, health beats
constexpr auto kShutdownGrace = std::chrono::seconds(5);  // then in-flight transfers are cut

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
  Impl(Config c, Credentials creds, DesiredState d, RunOptions o, ServiceNotifier& n)
      : config(std::move(c)),
        credentials(std::move(creds)),
        desired(std::move(d)),
        options(o),
        notifier(n),
        http(&abort_transfers),
        limiter(config.cloudflare.requests_per_second, clock, stop,
                config.cloudflare.budget_headroom),
        metrics(ORC_VERSION),
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
        desired_stamp(stamp_of(config.reconcile.desired_state)) {}

  int run();
  CycleReport run_cycle();
  // How long the loop may wait before looking again: the poll step, or less when the
  // watchdog wants pings more often.
  std::chrono::milliseconds wait_step() const;
  void wait_for_next_cycle();
  // Re-reads the desired state; true when a new valid one was taken.
  bool reload_desired(const char* why);
  void poll_desired_file();
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

  std::optional<FileStamp> desired_stamp;
  std::atomic<std::size_t> zone_count{0};  // for /healthz, read on the server's threads
  std::atomic<bool> reload_requested{false};
  std::mutex wake_mu;
  std::condition_variable wake;
  std::optional<MonoTime> stop_requested_at;  // wake_mu
  std::string last_summary = "no cycle yet";  // wake_mu
  MonoTime last_watchdog{};
};

Daemon::Daemon(Config config, Credentials credentials, DesiredState desired, RunOptions options,
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
  body["zones"] = zone_count.load();
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

bool Daemon::Impl::reload_desired(const char* why) {
  const auto& path = config.reconcile.desired_state;
  try {
    DesiredState next = load_desired_state(path);
    desired_stamp = stamp_of(path);
    desired = std::move(next);
    zone_count = desired.zones.size();
    metrics.set_desired_state_valid(true);
    metrics.set_zones(zone_ids(desired));
    spdlog::info("desired state reloaded ({}): {} zones from {}", why, desired.zones.size(),
                 path.string());
    return true;
  } catch (const DesiredStateError& e) {
    desired_stamp = stamp_of(path);  // don't re-read the same broken file every second
    metrics.set_desired_state_valid(false);
    spdlog::error("desired state not reloaded ({}): {}; keeping the last valid one ({} zones)", why,
                  e.what(), desired.zones.size());
    return false;
  }
}

void Daemon::Impl::poll_desired_file() {
  if (reload_requested.exchange(false)) {
    notifier.reloading();
    reload_desired("SIGHUP");
    notifier.ready();
    return;
  }
  const auto now = stamp_of(config.reconcile.desired_state);
  // A missing file (mid-swap, or deleted) is not a change we act on: keep what we have.
  if (now && now != desired_stamp) reload_desired("file changed");
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
    {
      std::unique_lock lock(wake_mu);
      wake.wait_for(lock, std::min<std::chrono::nanoseconds>(next - now, wait_step()),
                    [this] { return stop.stop_requested() || reload_requested.load(); });
    }
    health.progress(clock.monotonic());
    ping_watchdog();
    const auto before = desired_stamp;
    const bool sighup = reload_requested.load();
    poll_desired_file();
    // A changed desired state is acted on now, not at the end of the interval.
    if (sighup || desired_stamp != before) return;
  }
}

int Daemon::Impl::run() {
  zone_count = desired.zones.size();
  metrics.set_desired_state_valid(true);
  metrics.set_zones(zone_ids(desired));
  const auto budget = limiter.usage();
  metrics.set_api_budget(budget.in_window, budget.limit);
  spdlog::info("API budget: {} requests per 5 minutes ({} per second, {}% kept free)", budget.limit,
               config.cloudflare.requests_per_second, config.cloudflare.budget_headroom * 100);

  if (!options.once) {
    server = std::make_unique<StatusServer>([this] { return metrics_text(); },
                                            [this] { return health_answer(); });
    const int port = server->start(config.listen.host, config.listen.port);
    spdlog::info("serving /metrics and /healthz on {}:{}",
                 config.listen.host.find(':') != std::string::npos ? "[" + config.listen.host + "]"
                                                                   : config.listen.host,
                 port);
  }
  notifier.ready();
  notifier.status("started; first cycle running");

  int status = 0;
  while (!stop.stop_requested()) {
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
      std::fputs(format_plan_report(cycle, options.dry_run).c_str(), stdout);
      std::fflush(stdout);
      status = cycle.exit_status();
      break;
    }
    wait_for_next_cycle();
  }

  if (stop.stop_requested()) spdlog::info("stopping: signal received");
  if (server) server->stop();
  return status;
}

std::string format_plan_report(const CycleReport& cycle, bool dry_run) {
  std::ostringstream out;
  for (const auto& z : cycle.zones) {
    out << "zone " << z.zone_id << ": " << to_string(z.outcome);
    if (z.listed) {
      out << " live=" << z.plan.live << " desired=" << z.plan.desired
          << " stale=" << z.plan.stale.size();
      if (z.plan.out_of_scope > 0) out << " out_of_scope=" << z.plan.out_of_scope;
    }
    if (!dry_run) {
      out << " pruned=" << z.applied.pruned << " already_gone=" << z.applied.already_gone
          << " not_deleted=" << z.applied.failed.size() << " requests=" << z.applied.requests;
    }
    if (!z.error.empty()) out << " (" << z.error << ")";
    out << "\n";
    if (dry_run || z.outcome == ZoneOutcome::kBlocked) {
      const char* verb = dry_run ? "would delete" : "blocked";
      for (const auto& ip : z.plan.stale) out << "  " << verb << " " << ip << "\n";
    }
    for (const auto& f : z.applied.failed)
      out << "  not deleted " << f.ip << ": " << f.error << "\n";
  }
  out << (dry_run ? "dry run: " : "") << cycle.summary() << "\n";
  return out.str();
}

}  // namespace orc
