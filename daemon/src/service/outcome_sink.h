// What the daemon's loop tells, beyond its log and its metrics, about the outcomes that
// matter to people: each zone's reconcile (the reconciler's observer) and a desired-state
// change held. Kubernetes Events implement it (service/zone_events.h); without them the loop
// has none.
#pragma once

#include <vector>

#include "base/duration.h"
#include "reconcile/reconciler.h"
#include "service/desired_watch.h"
#include "status/metrics.h"

namespace orc {

class OutcomeSink : public ReconcileObserver {
 public:
  // A valid desired-state change held because it would shrink these zones too much; it takes
  // effect once unchanged for `confirm_period`, or with SIGHUP. Must not block.
  virtual void on_change_held(const std::vector<ZoneShrink>& shrinks, Millis confirm_period) = 0;
  // Events sent and dropped so far, for /metrics.
  virtual EventCounts event_counts() const = 0;
};

}  // namespace orc
