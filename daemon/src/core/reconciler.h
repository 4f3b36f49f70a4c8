// The orchestrator: for each managed zone, list -> plan (under the zone's policy) -> supported
// regions -> safety guards -> apply. It is the only place that joins the desired state, the
// plan, the API and the observer (metrics).
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/api.h"
#include "core/cancellation.h"
#include "core/clock.h"
#include "core/desired_state.h"
#include "core/enum_names.h"
#include "core/plan.h"
#include "core/zone_queue.h"

namespace orc {

struct ApplyResult {
  bool dry_run = false;
  std::size_t requests = 0;                // batch requests sent, upserts and deletes
  std::size_t upsert_requests = 0;         // of those, batch upserts
  std::size_t upserted = 0;                // created or updated by our requests
  std::vector<ItemFailure> upsert_failed;  // creates and updates the API refused
  std::size_t pruned = 0;                  // deleted by our requests
  std::size_t already_gone = 0;            // not deleted by us, but the API says no mapping is left
  std::vector<ItemFailure> failed;  // deletes still there (or that could not be confirmed gone)
  std::size_t unrequested = 0;      // answer entries naming an IP no request asked for: ignored
  std::optional<ApiError> error;    // a whole request failed; the rest of the plan was not sent
  Operation error_operation = Operation::kBatchDelete;  // the request that failed
};

// A batch answer matched against the request it answers. Every list holds requested IPs only,
// spelled as requested, each at most once and in request order. An IP the answer lists as not
// applied (absent or refused) is not applied even if it is also listed as applied; the first
// such entry decides (for a delete, the follow-up check decides after that). The answer may
// spell an IP differently from the request: they are compared in RFC 5952 form, then in
// canonical origin form (ip.h). Answer entries that name no requested IP (or no IP at all) are
// kept, as the API gave them, only to be reported: they are never counted, and never sent
// anywhere.
struct MatchedBatch {
  std::vector<std::string> applied;
  std::vector<std::string> absent;
  std::vector<ItemFailure> refused;
  std::vector<std::string> unrequested;
  std::size_t unanswered = 0;  // requested IPs the answer does not mention at all
};
MatchedBatch match_batch_answer(const std::vector<std::string>& requested,
                                const BatchResult& answer);

// Whatever carries out a zone's change set. The real one sends batches; DryRunApplier wraps
// nothing and sends nothing: dry-run lives in exactly one place.
class PlanApplier {
 public:
  virtual ~PlanApplier() = default;
  virtual ApplyResult apply(const std::string& zone_id, const ChangeSet& changes) = 0;
};

// Upserts first (creates, then updates), then deletes, each in chunks of `batch_size`, as few
// requests as possible. A request that fails as a whole stops the zone: nothing after it is
// sent. A delete item the API refused is checked with a GET: gone is as good as deleted.
class ChangeSetApplier final : public PlanApplier {
 public:
  ChangeSetApplier(ZoneApi& api, std::size_t batch_size, std::stop_token stop)
      : api_(api), batch_size_(batch_size), stop_(stop) {}
  ApplyResult apply(const std::string& zone_id, const ChangeSet& changes) override;

 private:
  void upsert(const std::string& zone_id, const std::vector<Mapping>& items, ApplyResult& out);
  void remove(const std::string& zone_id, const std::vector<std::string>& ips, ApplyResult& out);

  ZoneApi& api_;
  std::size_t batch_size_;
  std::stop_token stop_;
};

class DryRunApplier final : public PlanApplier {
 public:
  ApplyResult apply(const std::string&, const ChangeSet&) override {
    ApplyResult result;
    result.dry_run = true;
    return result;
  }
};

// kSuspended: listed and planned, nothing sent (the zone's suspend: in the desired state).
enum class ZoneOutcome { kSuccess, kFailure, kBlocked, kDryRun, kSuspended };
inline constexpr std::array kZoneOutcomeNames = {
    EnumName{ZoneOutcome::kSuccess, "success"},     EnumName{ZoneOutcome::kFailure, "failure"},
    EnumName{ZoneOutcome::kBlocked, "blocked"},     EnumName{ZoneOutcome::kDryRun, "dry_run"},
    EnumName{ZoneOutcome::kSuspended, "suspended"},
};
// success | failure | blocked | dry_run | suspended
std::string_view to_string(ZoneOutcome outcome);

struct ZoneReport {
  std::string zone_id;
  ZoneOutcome outcome = ZoneOutcome::kFailure;
  bool listed = false;  // the live mappings were read (plan counts are meaningful)
  ZonePlan plan;
  std::vector<Mapping> unsupported;  // held back from the plan: a region the API does not list
  ApplyResult applied;
  std::string error;                     // why the zone failed or was blocked
  std::optional<StopReason> stopped_by;  // the stop that cut the zone short, if one did
  std::optional<Suspension> suspension;  // the zone's suspend: as written, in force or ended
  double seconds = 0;
  WallTime attempted_at{};
};

struct CycleReport {
  std::vector<ZoneReport> zones;  // in desired-state order
  bool interrupted = false;       // a stop request cut the cycle short

  std::size_t count(ZoneOutcome outcome) const;
  std::size_t failed_items() const;  // deletes and upserts not done
  // --once exit status: 1 if any zone failed or any item could not be deleted, created or
  // updated, else 3 if the guard blocked a zone, else 0.
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
  Policy policy = Policy::kPrune;  // for zones whose desired state names none
  double max_update_fraction = 0.5;
  // The guards lifted for these zones only (--force-zone), by zone id.
  std::vector<std::string> force_zones = {};
  // --apply-plan: zones the reviewed plan shows blocked (or made with --force), with their
  // changes listed: the review approves them, so the guards do not block them again. Only
  // changes the plan holds can reach the API (ReviewedPlanApplier).
  std::vector<std::string> approved_zones = {};
  // reconcile.suspend: every zone's writes paused (a zone's own suspend: goes first).
  std::optional<Suspension> freeze = std::nullopt;
};

// The suspension in force for a zone at `now`: its own, while its `until` has not passed; none
// when it has none or its `until` has passed (the zone resumes).
std::optional<Suspension> active_suspension(const DesiredZone& zone, WallTime now);

// Why the guards do not apply to a zone: "" (they apply), "--force", "--force-zone" or
// "approved by the reviewed plan".
std::string guard_lifted_by(const ReconcileSettings& settings, const std::string& zone_id);

// What the block of a zone's changes says to do about it: the command that approves them.
std::string approval_hint(const std::string& zone_id);

class Reconciler {
 public:
  Reconciler(ZoneApi& api, PlanApplier& applier, const Clock& clock, std::stop_token stop,
             ReconcileObserver& observer)
      : api_(api), applier_(applier), clock_(clock), stop_(stop), observer_(observer) {}
  // Under `cancel`'s token; a zone it cuts short reports the reason of the stop.
  Reconciler(ZoneApi& api, PlanApplier& applier, const Clock& clock, const Cancellation& cancel,
             ReconcileObserver& observer)
      : Reconciler(api, applier, clock, cancel.get_token(), observer) {
    cancel_ = &cancel;
  }

  ZoneReport reconcile_zone(const DesiredZone& zone, const ReconcileSettings& settings);

  // Every zone once, `settings.concurrency` at a time. Zones are independent: one failing
  // does not stop the others. The supported regions are read at most once per cycle, by the
  // first zone that has something to create or update.
  CycleReport run_cycle(const DesiredState& desired, const ReconcileSettings& settings);
  // The zones of `queue` until it is empty, `settings.concurrency` at a time (at most as many
  // as it holds at the start); zones pushed to its front meanwhile are taken next. The report
  // lists zones in queue order (ZoneQueue::Item::order).
  CycleReport run_cycle(ZoneQueue& queue, const ReconcileSettings& settings);

 private:
  Result<SupportedRegions> supported_regions(const std::string& zone_id);
  // Why the stop was requested: the Cancellation's reason, or kShutdown without one.
  StopReason stop_reason() const;

  ZoneApi& api_;
  PlanApplier& applier_;
  const Clock& clock_;
  std::stop_token stop_;
  const Cancellation* cancel_ = nullptr;  // the reason beside stop_, when given
  ReconcileObserver& observer_;
  std::mutex regions_mu_;  // guards regions_; held while it is read, so it is read once
  std::optional<Result<SupportedRegions>> regions_;  // this cycle's answer, success or not
};

}  // namespace orc
