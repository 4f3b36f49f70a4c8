// What a --once or --dry-run pass prints and the exit status it ends with: plain functions
// over the cycle's report, apart from the loop that produces it.
#pragma once

#include <string>

#include "core/desired_state.h"
#include "core/reconciler.h"

namespace orc {

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
