// A reconcile cycle's request path, built once from the configuration and the loop's edges.
// Each run() binds a fresh request executor, API client and applier to the cycle's token; the
// request budget (RateLimiter), the observers and the remembered listings outlive it. Which
// applier a run uses (dry run, the reviewed plan's gate, or the change applier) and the
// reconcile settings are decided once, here.
#pragma once

#include "base/cancellation.h"
#include "cloudflare/cloudflare_api.h"
#include "config/config.h"
#include "model/zone_queue.h"
#include "net/rate_limiter.h"
#include "reconcile/reconciler.h"
#include "service/leadership.h"
#include "service/plan_report.h"

namespace orc {

struct CycleEdges {
  HttpClient& http;
  RateLimiter& limiter;
  Sleeper& sleeper;
  RandomSource& random;
  const Clock& clock;
  ApiObserver& api_observer;    // every request and retry
  ReconcileObserver& observer;  // every zone's outcome (the metrics)
  ListingMemory& listings;
  // Asked before every request: an instance that no longer leads abandons the cycle.
  const Leadership& leadership;
};

// What a cycle does with the plans it makes.
enum class CycleMode {
  kApply,     // the change applier
  kDryRun,    // --dry-run: nothing is sent but the reads
  kReviewed,  // --apply-plan: only the reviewed plan's changes go through
};

class CycleFactory {
 public:
  // `options.output.reviewed` must be set for --apply-plan. All references must outlive it.
  CycleFactory(const Config& config, const Credentials& credentials, bool dry_run,
               const OnceOutput& output, std::vector<std::string> force_zones, bool force,
               CycleEdges edges);

  // One cycle over `queue` under `cycle`'s token. Before every request the leadership is
  // asked; once this instance does not lead, the cycle is stopped (kNotLeader), which is
  // logged once, and no further request is sent.
  CycleReport run(Cancellation& cycle, ZoneQueue& queue) const;

  CycleMode mode() const { return mode_; }

 private:
  const Config& config_;
  const Credentials& credentials_;
  const OnceOutput& output_;
  CycleEdges edges_;
  CycleMode mode_;
  ReconcileSettings settings_;
};

}  // namespace orc
