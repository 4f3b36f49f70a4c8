// The orchestrator: for each managed zone, list -> plan -> safety guard -> apply. It is the
// only place that joins the desired state, the plan, the API and the observer (metrics).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/api.h"
#include "core/clock.h"
#include "core/desired_state.h"
#include "core/plan.h"
#include "core/zone_queue.h"

namespace orc {

struct ApplyResult {
  bool dry_run = false;
  std::size_t requests = 0;              // batch delete requests sent
  std::size_t pruned = 0;                // deleted by our requests
  std::size_t already_gone = 0;          // reported failed, but the API says no mapping is left
  std::vector<BatchItemFailure> failed;  // still there (or could not be confirmed gone)
  std::size_t unrequested = 0;    // answer entries naming an IP no request asked for: ignored
  std::optional<ApiError> error;  // a whole request failed; the rest of the plan was not sent
};

// A batch delete answer matched against the request it answers. `succeeded` and `failed`
// hold requested IPs only, spelled as requested, each at most once and in request order; an IP
// the answer lists as failed is failed even if it is also listed as succeeded (the follow-up
// check decides). The answer may spell an IP differently from the request: they are compared
// in RFC 5952 form, then in canonical origin form (ip.h). Answer entries that name no requested
// IP (or no IP at all) are kept, as the API gave them, only to be reported: they are never
// counted, and never sent anywhere.
struct MatchedBatch {
  std::vector<std::string> succeeded;
  std::vector<BatchItemFailure> failed;
  std::vector<std::string> unrequested;
  std::size_t unanswered = 0;  // requested IPs the answer does not mention at all
};
MatchedBatch match_batch_answer(const std::vector<std::string>& requested,
                                const BatchDeleteResult& answer);

// Whatever carries out a plan. The real one deletes in batches; DryRunApplier wraps nothing
// and sends nothing: dry-run lives in exactly one place.
class PlanApplier {
 public:
  virtual ~PlanApplier() = default;
  virtual ApplyResult apply(const std::string& zone_id, const std::vector<std::string>& stale) = 0;
};

class BatchDeleteApplier final : public PlanApplier {
 public:
  BatchDeleteApplier(ZoneApi& api, std::size_t batch_size, std::stop_token stop)
      : api_(api), batch_size_(batch_size), stop_(stop) {}
  ApplyResult apply(const std::string& zone_id, const std::vector<std::string>& stale) override;

 private:
  ZoneApi& api_;
  std::size_t batch_size_;
  std::stop_token stop_;
};

class DryRunApplier final : public PlanApplier {
 public:
  ApplyResult apply(const std::string&, const std::vector<std::string>&) override {
    ApplyResult result;
    result.dry_run = true;
    return result;
  }
};

enum class ZoneOutcome { kSuccess, kFailure, kBlocked, kDryRun };
std::string_view to_string(ZoneOutcome outcome);  // success | failure | blocked | dry_run

struct ZoneReport {
  std::string zone_id;
  ZoneOutcome outcome = ZoneOutcome::kFailure;
  bool listed = false;  // the live mappings were read (plan counts are meaningful)
  ZonePlan plan;
  ApplyResult applied;
  std::string error;  // why the zone failed or was blocked
  double seconds = 0;
  WallTime attempted_at{};
};

struct CycleReport {
  std::vector<ZoneReport> zones;  // in desired-state order
  bool interrupted = false;       // a stop request cut the cycle short

  std::size_t count(ZoneOutcome outcome) const;
  std::size_t failed_items() const;
  // --once exit status: 1 if any zone failed or any item could not be deleted, else 3 if the
  // guard blocked a zone, else 0.
  int exit_status() const;
  std::string summary() const;  // one line, for STATUS= and the log
};

class ReconcileObserver {
 public:
  virtual ~ReconcileObserver() = default;
  virtual void on_zone_done(const ZoneReport& report) = 0;
};

struct ReconcileSettings {
  double max_delete_fraction = 0.3;
  bool force = false;
  int concurrency = 4;
};

class Reconciler {
 public:
  Reconciler(ZoneApi& api, PlanApplier& applier, const Clock& clock, std::stop_token stop,
             ReconcileObserver& observer)
      : api_(api), applier_(applier), clock_(clock), stop_(stop), observer_(observer) {}

  ZoneReport reconcile_zone(const DesiredZone& zone, const ReconcileSettings& settings);

  // Every zone once, `settings.concurrency` at a time. Zones are independent: one failing
  // does not stop the others.
  CycleReport run_cycle(const DesiredState& desired, const ReconcileSettings& settings);
  // The zones of `queue` until it is empty, `settings.concurrency` at a time (at most as many
  // as it holds at the start); zones pushed to its front meanwhile are taken next. The report
  // lists zones in queue order (ZoneQueue::Item::order).
  CycleReport run_cycle(ZoneQueue& queue, const ReconcileSettings& settings);

 private:
  ZoneApi& api_;
  PlanApplier& applier_;
  const Clock& clock_;
  std::stop_token stop_;
  ReconcileObserver& observer_;
};

}  // namespace orc
