// The orchestrator: for each managed zone, list -> plan (under the zone's policy) -> supported
// regions -> safety guards -> apply. It is the only place that joins the desired state, the
// plan, the API and the observer (metrics).
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/cancellation.h"
#include "base/clock.h"
#include "base/enum_names.h"
#include "model/desired_state.h"
#include "model/plan.h"
#include "model/zone_queue.h"
#include "reconcile/zone_api.h"

namespace orc {

struct ApplyResult {
  bool dry_run = false;
  std::size_t requests = 0;         // batch requests sent, upserts and deletes
  std::size_t upsert_requests = 0;  // of those, batch upserts
  // Batch upserts: created or updated by our requests, and the items the API refused.
  std::size_t upserted = 0;
  std::vector<ItemFailure> upsert_failed;
  // Batch deletes: deleted by our requests; not deleted by us, but the API says no mapping is
  // left; and still there (or not confirmed gone).
  std::size_t pruned = 0;
  std::size_t already_gone = 0;
  std::vector<ItemFailure> delete_failed;
  std::size_t unrequested = 0;  // answer entries naming an IP no request asked for: ignored
  // A whole request failed (which one: error_operation); the rest of the plan was not sent.
  std::optional<ApiError> error;
  Operation error_operation = Operation::kBatchDelete;
  // --apply-plan: the zone's plan now differs from the reviewed one (why); nothing was sent.
  std::optional<std::string> not_reviewed;
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

// Whatever carries out a zone's plan (its change set; `plan.live` is how many mappings the
// zone held when listed). The real one sends batches; DryRunApplier wraps nothing and sends
// nothing: dry-run lives in exactly one place.
class PlanApplier {
 public:
  virtual ~PlanApplier() = default;
  virtual ApplyResult apply(const std::string& zone_id, const ZonePlan& plan) = 0;
};

// Sends the change set in the order of schedule_batches (plan.h): upserts first (creates, then
// updates), then deletes, in chunks of `batch_size`, as few requests as possible, except that
// deletes make room first where creates would take the zone past Cloudflare's 3,500 mappings.
// A request that fails as a whole stops the zone: nothing after it is sent. A delete item the
// API refused is checked with a GET: gone is as good as deleted.
class ChangeSetApplier final : public PlanApplier {
 public:
  ChangeSetApplier(ZoneApi& api, std::size_t batch_size, StopView stop)
      : api_(api), batch_size_(batch_size), stop_(stop) {}
  ApplyResult apply(const std::string& zone_id, const ZonePlan& plan) override;

 private:
  void upsert(const std::string& zone_id, const std::vector<Mapping>& batch, ApplyResult& out);
  void remove(const std::string& zone_id, const std::vector<std::string>& batch, ApplyResult& out);

  ZoneApi& api_;
  std::size_t batch_size_;
  StopView stop_;
};

class DryRunApplier final : public PlanApplier {
 public:
  ApplyResult apply(const std::string&, const ZonePlan&) override {
    ApplyResult result;
    result.dry_run = true;
    return result;
  }
};

// kInterrupted: a stop request (a shutdown, or this instance no longer leading; the report's
// stopped_by says which) cut the zone short before it was done and nothing in it failed: not
// a failure, the zone is reconciled again by the next cycle or the next leader. A zone where
// the API refused items before the stop is a failure all the same.
// kSuspended: listed and planned, nothing sent (the zone's suspend: in the desired state).
enum class ZoneOutcome { kSuccess, kFailure, kBlocked, kDryRun, kInterrupted, kSuspended };
inline constexpr auto kZoneOutcomeNames =
    enum_names<ZoneOutcome>("success", "failure", "blocked", "dry_run", "interrupted", "suspended");
// success | failure | blocked | dry_run | interrupted | suspended
std::string_view to_string(ZoneOutcome outcome);

struct ZoneReport {
  std::string zone_id;
  std::optional<std::string> zone_name;  // when the desired state names the zone by name
  // "023e… (example.com)" for a named zone, else the id: how logs and reports name it.
  std::string label() const { return zone_name ? zone_id + " (" + *zone_name + ")" : zone_id; }
  ZoneOutcome outcome = ZoneOutcome::kFailure;
  bool listed = false;  // the live mappings were read (plan counts are meaningful)
  ZonePlan plan;
  std::vector<Mapping> unsupported;  // held back from the plan: a region the API does not list
  // Held back from the plan because the zone's supported regions could not be read (the
  // zone's deletes still went out); the zone fails for them.
  std::vector<Mapping> regions_unknown;
  ApplyResult applied;
  std::string error;                     // why the zone failed, was blocked or was interrupted
  std::optional<StopReason> stopped_by;  // the stop that cut the zone short, if one did
  std::optional<Suspension> suspension;  // the zone's suspend: as written, in force or ended
  double seconds = 0;
  WallTime attempted_at{};
};

// The --once exit status when a dry run with --detailed-exitcode finds changes pending and
// nothing failed or was blocked (Terraform's `plan -detailed-exitcode`).
inline constexpr int kExitChangesPending = 4;

// What a --once pass adds to the cycle's own outcomes (CycleReport::exit_status).
struct ExitRules {
  bool reviewed_plan_refused = false;  // --apply-plan: a zone not applied as reviewed
  bool drift_check = false;            // --dry-run --detailed-exitcode
};

struct CycleReport {
  std::vector<ZoneReport> zones;  // in desired-state order
  bool interrupted = false;       // a stop request cut the cycle short

  std::size_t count(ZoneOutcome outcome) const;
  std::size_t failed_items() const;  // deletes and upserts not done
  // Whether a zone has a change to make (a create, an update or a delete), blocked zones
  // included.
  bool changes_pending() const;
  // The exit status of a --once pass, every rule of it here: 1 if any zone failed, any item
  // could not be deleted, created or updated, or the reviewed plan was not applied
  // (`reviewed_plan_refused`); else 3 if the guard blocked a zone; else 4
  // (kExitChangesPending) for a dry run with --detailed-exitcode (`drift_check`) when changes
  // are pending; else 0. Zones a stop interrupted do not count.
  int exit_status(ExitRules rules = {}) const;
  std::string summary() const;  // one line, for STATUS= and the log
};

class ReconcileObserver {
 public:
  virtual ~ReconcileObserver() = default;
  virtual void on_zone_done(const ZoneReport& report) = 0;
};

// Each zone's report to several observers, in order (the metrics, and Kubernetes Events when
// the daemon records them); null ones are left out.
class ReconcileFanOut final : public ReconcileObserver {
 public:
  explicit ReconcileFanOut(std::initializer_list<ReconcileObserver*> observers) {
    for (ReconcileObserver* o : observers) {
      if (o != nullptr) observers_.push_back(o);
    }
  }
  void on_zone_done(const ZoneReport& report) override {
    for (ReconcileObserver* o : observers_) o->on_zone_done(report);
  }

 private:
  std::vector<ReconcileObserver*> observers_;
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
  // Whether a zone's report keeps the IPs of the deletes it sent (a plan document or a review
  // lists them), or only their number (ChangeSet::release_deletes). Dry runs and blocked and
  // suspended zones keep them whatever this says: their reports list what was not done.
  bool keep_sent_deletes = true;
};

// What each zone's last listing held, kept across cycles by the daemon (one instance for its
// life): what "the zone had a moment ago" means to the checks that a glitch (one empty page, a
// generation-1 "empty zone" answer) cannot turn into a mass rewrite. The mappings themselves
// are kept only for sync zones, the only ones whose plans create. Thread-safe.
class ListingMemory {
 public:
  struct Zone {
    std::size_t live = 0;           // mappings listed
    std::vector<Mapping> mappings;  // sync zones only
  };
  std::optional<Zone> last(const std::string& zone_id) const;
  void remember(const std::string& zone_id, Zone zone);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, Zone> zones_;  // mu_
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
  // Under `stop` (a Cancellation's, whose reason a zone cut short reports, or a plain token).
  Reconciler(ZoneApi& api, PlanApplier& applier, const Clock& clock, StopView stop,
             ReconcileObserver& observer)
      : api_(api), applier_(applier), clock_(clock), stop_(std::move(stop)), observer_(observer) {}

  // The listings of earlier cycles (without: this cycle's only). An empty listing of a zone
  // that had mappings, or one that the plan would fill with creates, is listed again before
  // planning; creates that would replace mappings the last listing had count toward the update
  // guard as the updates they are.
  void remember_listings(ListingMemory& memory) { memory_ = &memory; }

  ZoneReport reconcile_zone(const DesiredZone& zone, const ReconcileSettings& settings);

  // Every zone once, `settings.concurrency` at a time. Zones are independent: one failing
  // does not stop the others. Each zone reads its own supported regions (the API ties them to
  // the zone's Tiered Cache), at most once, and only when it has something to create or update.
  CycleReport run_cycle(const DesiredState& desired, const ReconcileSettings& settings);
  // The zones of `queue` until it is empty, `settings.concurrency` at a time (at most as many
  // as it holds at the start); zones pushed to its front meanwhile are taken next. The report
  // lists zones in queue order (ZoneQueue::Item::order).
  CycleReport run_cycle(ZoneQueue& queue, const ReconcileSettings& settings);

 private:
  ZoneApi& api_;
  PlanApplier& applier_;
  const Clock& clock_;
  StopView stop_;
  ReconcileObserver& observer_;
  ListingMemory own_memory_;
  ListingMemory* memory_ = &own_memory_;
};

}  // namespace orc
