// The long-running loop and everything with a side effect at the edge: signals' effects, the
// desired-state file, the status server, service-manager notifications. One cycle at a time;
// zones within a cycle run concurrently (Reconciler).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/desired_state.h"
#include "core/reconciler.h"
#include "service/desired_watch.h"
#include "service/notify.h"
#include "service/plan_report.h"

namespace orc {

struct RunOptions {
  bool once = false;
  bool dry_run = false;  // from the command line or reconcile.dry_run
  bool force = false;    // lift the safety guard for this run
  OnceOutput output;     // --output, --plan-out, --apply-plan
};

class Daemon {
 public:
  // `desired` is the already-validated desired state read at start-up, with the version of
  // the file it came from (later changes are measured against it).
  Daemon(Config config, Credentials credentials, DesiredFile desired, RunOptions options,
         ServiceNotifier& notifier);
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
