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

namespace orc {

struct RunOptions {
  bool once = false;
  bool dry_run = false;  // from the command line or reconcile.dry_run
  bool force = false;    // lift the safety guard for this run
};

class LeaseLeadership;

class Daemon {
 public:
  // `desired` is the already-validated desired state read at start-up, with the version of
  // the file it came from (later changes are measured against it). `lease`: leader election
  // (started by run(), released when it ends); null: always leading.
  Daemon(Config config, Credentials credentials, DesiredFile desired, RunOptions options,
         ServiceNotifier& notifier, LeaseLeadership* lease = nullptr);
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

// The --dry-run / --once report printed on standard output. With `stopped` (a SIGTERM or
// SIGINT cut the pass short), zones the stop cut short are reported as stopped rather than
// failed, and the zones of `desired` the pass never reached as not started.
std::string format_plan_report(const CycleReport& cycle, bool dry_run,
                               const DesiredState* desired = nullptr, bool stopped = false);

// A zone whose reconcile ended because of a stop request (its next request was not sent).
bool cut_short_by_stop(const ZoneReport& zone);

// The --once exit status. A clean stop is not a failure: after a stop request, zones cut short
// or not started do not count; zones that finished (or failed) before it do.
int once_exit_status(const CycleReport& cycle, bool stopped);

}  // namespace orc
