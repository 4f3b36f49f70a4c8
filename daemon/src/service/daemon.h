// The long-running loop: reloads of the desired-state file, cycles, the shutdown grace, the
// watchdog, the status server. One cycle at a time; zones within a cycle run concurrently
// (Reconciler). Everything the loop touches at the edge is handed in (DaemonDeps): main.cpp
// builds the real ones, tests build fakes and a simulated clock.
//
// Cancellation is one std::stop_token: request_stop() stops the shutdown source; each cycle
// runs under a token stopped by the shutdown or by the leadership's cycle_token(); that token
// cuts short the reconciler, the budget waits and the request executor, and carries the reason
// of its stop (base/cancellation.h): a zone cut short says whether the daemon is shutting down
// or this instance no longer leads. Requests already in
// flight run on until the shutdown grace has passed, then `abort_transfers` is stopped.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "base/clock.h"
#include "config/config.h"
#include "model/desired_state.h"
#include "net/http.h"
#include "reconcile/reconciler.h"
#include "reconcile/zone_directory.h"
#include "service/desired_file.h"
#include "service/desired_watch.h"
#include "service/leadership.h"
#include "service/lease_leadership.h"
#include "service/notify.h"
#include "service/outcome_sink.h"
#include "service/plan_report.h"

namespace orc {

// How long requests in flight may run on after a stop request before their transfers are
// abandoned.
inline constexpr std::chrono::seconds kShutdownGrace{5};

// Starts the thread a cycle runs on (the loop keeps the watchdog and the grace meanwhile).
// Tests start it so that their simulated time knows of the thread before it runs.
class ThreadStarter {
 public:
  virtual ~ThreadStarter() = default;
  virtual std::jthread start(std::function<void()> work) = 0;
};

class SystemThreads final : public ThreadStarter {
 public:
  std::jthread start(std::function<void()> work) override { return std::jthread(std::move(work)); }
};

// The edges the loop works through. All must outlive the Daemon.
struct DaemonDeps {
  const Clock& clock;
  Sleeper& sleeper;  // every wait of the loop and of the requests
  RandomSource& random;
  HttpClient& http;
  // Once stopped, `http` abandons the transfers still running (its in-flight abort).
  std::stop_source abort_transfers;
  DesiredFileAccess& desired_file;
  ServiceNotifier& notifier;
  Leadership& leadership;
  ThreadStarter& threads;
  OutcomeSink* outcomes = nullptr;  // Kubernetes Events of zone outcomes, or none
};

struct RunOptions {
  bool once = false;
  bool dry_run = false;                  // from the command line or reconcile.dry_run
  bool force = false;                    // lift the safety guard for this run
  std::vector<std::string> force_zones;  // --force-zone: lift it for these zones only
  OnceOutput output;                     // --output, --plan-out, --apply-plan
  // The desired state's zone names resolved at start (name -> id); a reload asks the API only
  // for names not in it.
  ZoneNameCache zone_names;
};

class Daemon {
 public:
  // `desired` is the already-validated desired state read at start-up, with the version of
  // the file it came from (later changes are measured against it).
  Daemon(Config config, Credentials credentials, DesiredFile desired, RunOptions options,
         DaemonDeps deps);
  ~Daemon();

  // Runs until a stop request (or one cycle with --once). Returns the exit status.
  int run();

  // Safe to call from the signal thread.
  void request_stop();
  void request_reload();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orc
