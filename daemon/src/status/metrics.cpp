#include "status/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>
#include <sstream>

namespace orc {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

namespace {

const Histogram::BucketBoundaries kReconcileBuckets{0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                                    5,    10,  30,   60,  120, 300};
const Histogram::BucketBoundaries kRequestBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                  0.5,   1,    2.5,   5,    10,  30};

constexpr std::array<ZoneOutcome, kZoneOutcomeNames.size()> kOutcomes{
    ZoneOutcome::kSuccess, ZoneOutcome::kFailure,     ZoneOutcome::kBlocked,
    ZoneOutcome::kDryRun,  ZoneOutcome::kInterrupted, ZoneOutcome::kSuspended};

std::size_t index(ZoneOutcome o) {
  return static_cast<std::size_t>(o);
}

// A family registered under `name` with its help text: the one place families are built.
template <class Builder>
auto& family(Builder builder, prometheus::Registry& registry, const char* name, const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}

double unix_seconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

// One zone's series, created together and removed together.
struct Metrics::ZoneSeries {
  std::map<std::string, Counter*> runs;  // by result
  Gauge* last_success;
  Gauge* last_attempt;
  Gauge* live;
  Gauge* desired;
  Gauge* stale;
  Gauge* missing;
  Gauge* mismatched;
  Gauge* unsupported;
  Counter* pruned;
  Counter* prune_failures;
  Counter* upserted;
  Counter* upsert_failures;
  Counter* safety_blocks;
};

ZoneSeriesMode zone_series_for(std::optional<ZoneSeriesMode> setting, std::size_t zones) {
  if (setting) return *setting;
  return zones < kZoneSeriesAllBelow ? ZoneSeriesMode::kAll : ZoneSeriesMode::kFailing;
}

Metrics::Metrics(const std::string& version, std::optional<ZoneSeriesMode> zone_series)
    : registry_(std::make_shared<prometheus::Registry>()),
      build_info_(family(BuildGauge(), *registry_, "origin_reconciler_build_info",
                         "Always 1; the version label says which build is running.")),
      runs_(family(BuildCounter(), *registry_, "origin_reconciler_reconcile_runs_total",
                   "Zone reconcile runs, by result (success, failure, blocked, dry_run, "
                   "interrupted: cut short by a stop, not a failure; suspended).")),
      duration_(family(BuildHistogram(), *registry_, "origin_reconciler_reconcile_duration_seconds",
                       "Time to reconcile one zone: list, plan and prune.")),
      last_success_(family(BuildGauge(), *registry_,
                           "origin_reconciler_last_success_timestamp_seconds",
                           "Unix time of the zone's last successful reconcile.")),
      last_attempt_(family(BuildGauge(), *registry_,
                           "origin_reconciler_last_attempt_timestamp_seconds",
                           "Unix time the zone's last reconcile started.")),
      mappings_(family(BuildGauge(), *registry_, "origin_reconciler_mappings",
                       "Mappings seen in the zone's last reconcile, by state (live, "
                       "desired, stale; missing and mismatched: desired origins naming vendor "
                       "and region that have no mapping, or one with another vendor or "
                       "region).")),
      pruned_(family(BuildCounter(), *registry_, "origin_reconciler_pruned_total",
                     "Stale mappings deleted.")),
      prune_failures_(family(BuildCounter(), *registry_, "origin_reconciler_prune_failures_total",
                             "Stale mappings the API did not delete (failed batch items).")),
      upserted_(family(BuildCounter(), *registry_, "origin_reconciler_upserted_total",
                       "Mappings created or updated (sync policy).")),
      upsert_failures_(family(BuildCounter(), *registry_, "origin_reconciler_upsert_failures_total",
                              "Mappings the API did not create or update (refused batch "
                              "items).")),
      unsupported_(family(BuildGauge(), *registry_, "origin_reconciler_unsupported_region_origins",
                          "Desired origins the zone's last reconcile did not send because "
                          "the API does not list their region as supported.")),
      api_requests_(family(BuildCounter(), *registry_, "origin_reconciler_api_requests_total",
                           "Cloudflare API requests, by operation and HTTP status (error: "
                           "no answer).")),
      api_duration_(family(BuildHistogram(), *registry_,
                           "origin_reconciler_api_request_duration_seconds",
                           "Cloudflare API request latency, by operation.")),
      api_retries_(family(BuildCounter(), *registry_, "origin_reconciler_api_retries_total",
                          "Cloudflare API requests retried, by operation and reason "
                          "(rate_limited, server_error, transport).")),
      safety_blocks_(family(BuildCounter(), *registry_, "origin_reconciler_safety_blocks_total",
                            "Zone reconciles blocked by the safety guard "
                            "(max_delete_fraction).")),
      desired_valid_family_(family(BuildGauge(), *registry_,
                                   "origin_reconciler_desired_state_valid",
                                   "1 if the last read of the desired state was valid, else "
                                   "0 (the last valid one stays in force).")),
      desired_valid_(desired_valid_family_.Add({})),
      reconcile_duration_(duration_.Add({}, kReconcileBuckets)),
      desired_held_family_(family(BuildGauge(), *registry_, "origin_reconciler_desired_state_held",
                                  "1 while a change of the desired state is held because it "
                                  "would remove more than max_delete_fraction of a zone's "
                                  "desired origins (or widen its manage_cidrs), else 0.")),
      desired_held_(desired_held_family_.Add({})),
      budget_window_requests_(
          family(BuildGauge(), *registry_, "origin_reconciler_api_budget_window_requests",
                 "Cloudflare API requests started in the last 5 minutes (all zones, retries "
                 "included).")
              .Add({})),
      budget_window_limit_(family(BuildGauge(), *registry_,
                                  "origin_reconciler_api_budget_window_limit",
                                  "Most requests the client-side budget lets start in any "
                                  "5 minutes now (halved for 5 minutes after a 429).")
                               .Add({})),
      budget_remaining_(family(BuildGauge(), *registry_, "origin_reconciler_api_budget_remaining",
                               "Requests the API user has left in Cloudflare's window, as the "
                               "last answer's rate-limit headers said (every client of the "
                               "user counts).")),
      leader_(family(BuildGauge(), *registry_, "origin_reconciler_leader",
                     "1 while this instance leads (holds the Lease, or leader election is "
                     "off), else 0.")
                  .Add({})),
      leader_transitions_(family(BuildCounter(), *registry_,
                                 "origin_reconciler_leader_transitions_total",
                                 "Times this instance became leader.")
                              .Add({})),
      duplicate_identity_(family(BuildGauge(), *registry_,
                                 "origin_reconciler_leader_duplicate_identity",
                                 "1 while another process keeps renewing the Lease under this "
                                 "replica's leader_election.identity (identities must be "
                                 "unique), else 0.")
                              .Add({})),
      events_sent_(family(BuildCounter(), *registry_, "origin_reconciler_events_sent_total",
                          "Kubernetes Events recorded on the pod, by operation (create: a new "
                          "Event; patch: a repeat's count).")),
      events_dropped_(family(BuildCounter(), *registry_, "origin_reconciler_events_dropped_total",
                             "Kubernetes Events not recorded, by reason (queue_full, "
                             "rate_limited: the spam filter's budget, failed: the API server "
                             "refused or did not answer).")),
      zones_by_result_(family(BuildGauge(), *registry_, "origin_reconciler_zones",
                              "Managed zones by the result of their last reconcile (success, "
                              "failure, blocked, dry_run, suspended; none: not reconciled yet).")),
      fleet_runs_(family(BuildCounter(), *registry_, "origin_reconciler_fleet_reconcile_runs_total",
                         "Zone reconcile runs of all zones, by result.")),
      fleet_mappings_(family(BuildGauge(), *registry_, "origin_reconciler_fleet_mappings",
                             "Mappings of all managed zones as their last listings found them, "
                             "by state (live, desired, stale).")),
      fleet_pruned_(family(BuildCounter(), *registry_, "origin_reconciler_fleet_pruned_total",
                           "Stale mappings deleted, all zones.")
                        .Add({})),
      fleet_prune_failures_(family(BuildCounter(), *registry_,
                                   "origin_reconciler_fleet_prune_failures_total",
                                   "Stale mappings the API did not delete, all zones.")
                                .Add({})),
      fleet_safety_blocks_(family(BuildCounter(), *registry_,
                                  "origin_reconciler_fleet_safety_blocks_total",
                                  "Zone reconciles blocked by the safety guard, all zones.")
                               .Add({})),
      oldest_success_(family(BuildGauge(), *registry_,
                             "origin_reconciler_oldest_success_timestamp_seconds",
                             "The oldest last successful reconcile among the managed zones "
                             "(Unix time; 0 while a zone has none yet).")
                          .Add({})),
      zone_info_(family(BuildGauge(), *registry_, "origin_reconciler_zone_info",
                        "1 for each zone the desired state writes by name: its id (zone) and "
                        "name (zone_name).")),
      suspended_(family(BuildGauge(), *registry_, "origin_reconciler_zone_suspended",
                        "Zones with suspend: in the desired state: 1 while the suspension is in "
                        "force (nothing is sent), 0 once its until has passed.")),
      suspended_until_(family(BuildGauge(), *registry_,
                              "origin_reconciler_zone_suspended_until_timestamp_seconds",
                              "The until of a zone's suspend: (Unix time), for zones that set "
                              "one.")),
      zone_series_setting_(zone_series) {
  build_info_.Add({{"version", version}}).Set(1);
  for (ZoneOutcome o : kOutcomes) {
    fleet_runs_.Add({{"result", std::string(to_string(o))}});
  }
  for (Operation op :
       {Operation::kList, Operation::kBatchDelete, Operation::kGet, Operation::kBatchUpsert,
        Operation::kSupportedRegions, Operation::kZoneLookup}) {
    api_duration_.Add({{"operation", std::string(to_string(op))}}, kRequestBuckets);
    for (RetryReason r :
         {RetryReason::kRateLimited, RetryReason::kServerError, RetryReason::kTransport}) {
      api_retries_.Add(
          {{"operation", std::string(to_string(op))}, {"reason", std::string(to_string(r))}});
    }
  }
}

Metrics::~Metrics() = default;

Metrics::ZoneSeries& Metrics::zone(const std::string& zone_id) {
  auto& slot = zones_[zone_id];
  if (!slot) {
    slot = std::make_unique<ZoneSeries>();
    for (ZoneOutcome o : kOutcomes) {
      const std::string result(to_string(o));
      slot->runs[result] = &runs_.Add({{"zone", zone_id}, {"result", result}});
    }
    slot->last_success = &last_success_.Add({{"zone", zone_id}});
    slot->last_attempt = &last_attempt_.Add({{"zone", zone_id}});
    slot->live = &mappings_.Add({{"zone", zone_id}, {"state", "live"}});
    slot->desired = &mappings_.Add({{"zone", zone_id}, {"state", "desired"}});
    slot->stale = &mappings_.Add({{"zone", zone_id}, {"state", "stale"}});
    slot->missing = &mappings_.Add({{"zone", zone_id}, {"state", "missing"}});
    slot->mismatched = &mappings_.Add({{"zone", zone_id}, {"state", "mismatched"}});
    slot->unsupported = &unsupported_.Add({{"zone", zone_id}});
    slot->pruned = &pruned_.Add({{"zone", zone_id}});
    slot->prune_failures = &prune_failures_.Add({{"zone", zone_id}});
    slot->upserted = &upserted_.Add({{"zone", zone_id}});
    slot->upsert_failures = &upsert_failures_.Add({{"zone", zone_id}});
    slot->safety_blocks = &safety_blocks_.Add({{"zone", zone_id}});
  }
  return *slot;
}

void Metrics::remove_series(const std::string& zone_id) {
  auto it = zones_.find(zone_id);
  if (it == zones_.end()) return;
  ZoneSeries& s = *it->second;
  for (auto& [result, counter] : s.runs) runs_.Remove(counter);
  last_success_.Remove(s.last_success);
  last_attempt_.Remove(s.last_attempt);
  mappings_.Remove(s.live);
  mappings_.Remove(s.desired);
  mappings_.Remove(s.stale);
  mappings_.Remove(s.missing);
  mappings_.Remove(s.mismatched);
  unsupported_.Remove(s.unsupported);
  pruned_.Remove(s.pruned);
  prune_failures_.Remove(s.prune_failures);
  upserted_.Remove(s.upserted);
  upsert_failures_.Remove(s.upsert_failures);
  safety_blocks_.Remove(s.safety_blocks);
  zones_.erase(it);
}

// Gives the zone series, or takes them away, as the mode and its state say; new series start
// from the zone's totals so far, existing ones are brought up to them.
void Metrics::sync_series(const std::string& zone_id, const ZoneState& st) {
  const bool wanted = zone_series_ == ZoneSeriesMode::kAll ||
                      (zone_series_ == ZoneSeriesMode::kFailing && !st.in_line);
  if (!wanted) {
    remove_series(zone_id);
    return;
  }
  ZoneSeries& s = zone(zone_id);
  auto catch_up = [](Counter* c, double total) {
    if (total > c->Value()) c->Increment(total - c->Value());
  };
  for (ZoneOutcome o : kOutcomes) catch_up(s.runs[std::string(to_string(o))], st.runs[index(o)]);
  catch_up(s.pruned, st.pruned);
  catch_up(s.prune_failures, st.prune_failures);
  catch_up(s.upserted, st.upserted);
  catch_up(s.upsert_failures, st.upsert_failures);
  catch_up(s.safety_blocks, st.safety_blocks);
  s.last_success->Set(st.last_success);
  s.last_attempt->Set(st.last_attempt);
  s.live->Set(st.live);
  s.desired->Set(st.desired);
  s.stale->Set(st.stale);
  s.missing->Set(st.missing);
  s.mismatched->Set(st.mismatched);
  s.unsupported->Set(st.unsupported);
}

void Metrics::set_zones(const std::vector<std::string>& zone_ids) {
  std::lock_guard lock(mu_);
  const std::set<std::string> wanted(zone_ids.begin(), zone_ids.end());
  for (auto it = states_.begin(); it != states_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    remove_series(it->first);
    remove_suspension(it->first);
    it = states_.erase(it);
  }
  zone_series_ = zone_series_for(zone_series_setting_, wanted.size());
  for (const auto& id : wanted) sync_series(id, states_[id]);
}

void Metrics::set_zone_names(const std::map<std::string, std::string>& names) {
  std::lock_guard lock(mu_);
  for (auto it = zone_info_series_.begin(); it != zone_info_series_.end();) {
    const auto named = names.find(it->first.first);
    if (named != names.end() && named->second == it->first.second) {
      ++it;
      continue;
    }
    zone_info_.Remove(it->second);
    it = zone_info_series_.erase(it);
  }
  for (const auto& [id, name] : names) {
    auto& series = zone_info_series_[{id, name}];
    if (series == nullptr) {
      series = &zone_info_.Add({{"zone", id}, {"zone_name", name}});
      series->Set(1);
    }
  }
}

ZoneSeriesMode Metrics::zone_series() const {
  std::lock_guard lock(mu_);
  return zone_series_;
}

void Metrics::set_desired_state_valid(bool valid) {
  desired_valid_.Set(valid ? 1 : 0);
}

void Metrics::set_desired_state_held(bool held) {
  desired_held_.Set(held ? 1 : 0);
}

void Metrics::set_api_budget(int window_requests, int window_limit) {
  budget_window_requests_.Set(window_requests);
  budget_window_limit_.Set(window_limit);
}

void Metrics::set_leader(bool leading, std::uint64_t transitions) {
  leader_.Set(leading ? 1 : 0);
  const double more = static_cast<double>(transitions) - leader_transitions_.Value();
  if (more > 0) leader_transitions_.Increment(more);
}

void Metrics::set_duplicate_identity(bool duplicate) {
  duplicate_identity_.Set(duplicate ? 1 : 0);
}

void Metrics::set_events(const EventCounts& counts) {
  const auto follow = [](Counter& counter, std::uint64_t total) {
    const double more = static_cast<double>(total) - counter.Value();
    if (more > 0) counter.Increment(more);
  };
  follow(events_sent_.Add({{"operation", "create"}}), counts.created);
  follow(events_sent_.Add({{"operation", "patch"}}), counts.patched);
  follow(events_dropped_.Add({{"reason", "queue_full"}}), counts.queue_full);
  follow(events_dropped_.Add({{"reason", "rate_limited"}}), counts.rate_limited);
  follow(events_dropped_.Add({{"reason", "failed"}}), counts.failed);
}

void Metrics::set_api_budget_remaining(std::optional<int> remaining) {
  if (remaining) budget_remaining_.Add({}).Set(*remaining);
}

void Metrics::on_request(Operation op, int status, double seconds) {
  const std::string operation(to_string(op));
  const std::string code = status == 0 ? "error" : std::to_string(status);
  api_requests_.Add({{"operation", operation}, {"code", code}}).Increment();
  api_duration_.Add({{"operation", operation}}, kRequestBuckets).Observe(seconds);
}

void Metrics::on_retry(Operation op, RetryReason reason, Millis) {
  api_retries_
      .Add({{"operation", std::string(to_string(op))}, {"reason", std::string(to_string(reason))}})
      .Increment();
}

void Metrics::on_zone_done(const ZoneReport& report) {
  std::lock_guard lock(mu_);
  ZoneState& st = states_[report.zone_id];
  st.last = report.outcome;
  st.runs[index(report.outcome)] += 1;
  reconcile_duration_.Observe(report.seconds);
  fleet_runs_.Add({{"result", std::string(to_string(report.outcome))}}).Increment();
  st.last_attempt = unix_seconds(report.attempted_at);
  // A suspended zone was listed and planned: the reconciler works, the operator paused it.
  if (report.outcome == ZoneOutcome::kSuccess || report.outcome == ZoneOutcome::kDryRun ||
      report.outcome == ZoneOutcome::kSuspended) {
    st.last_success = unix_seconds(report.attempted_at);
  }
  set_suspension(report);
  if (report.listed) {  // a zone that failed before listing keeps its last known counts
    st.live = static_cast<double>(report.plan.live);
    st.desired = static_cast<double>(report.plan.desired);
    st.stale = static_cast<double>(report.plan.changes.delete_count());
    st.missing = static_cast<double>(report.plan.missing);
    st.mismatched = static_cast<double>(report.plan.mismatched);
    st.unsupported = static_cast<double>(report.unsupported.size());
  }
  st.upserted += static_cast<double>(report.applied.upserted);
  st.upsert_failures += static_cast<double>(report.applied.upsert_failed.size());
  const auto pruned = static_cast<double>(report.applied.pruned);
  const auto failed = static_cast<double>(report.applied.delete_failed.size());
  st.pruned += pruned;
  st.prune_failures += failed;
  fleet_pruned_.Increment(pruned);
  fleet_prune_failures_.Increment(failed);
  if (report.outcome == ZoneOutcome::kBlocked) {
    st.safety_blocks += 1;
    fleet_safety_blocks_.Increment();
  }
  // In line: the last run succeeded with every change applied, or a dry run found nothing to
  // change. A run a stop interrupted says nothing new about it.
  if (report.outcome == ZoneOutcome::kInterrupted) {
    sync_series(report.zone_id, st);
    return;
  }
  st.in_line =
      (report.outcome == ZoneOutcome::kSuccess && report.applied.delete_failed.empty() &&
       report.applied.upsert_failed.empty()) ||
      ((report.outcome == ZoneOutcome::kDryRun || report.outcome == ZoneOutcome::kSuspended) &&
       report.plan.changes.empty());
  sync_series(report.zone_id, st);
}

void Metrics::set_suspension(const ZoneReport& report) {
  const std::string& zone_id = report.zone_id;
  if (!report.suspension) {
    remove_suspension(zone_id);
    return;
  }
  suspended_.Add({{"zone", zone_id}}).Set(report.outcome == ZoneOutcome::kSuspended ? 1 : 0);
  if (report.suspension->until) {
    suspended_until_.Add({{"zone", zone_id}}).Set(unix_seconds(*report.suspension->until));
  } else if (suspended_until_.Has({{"zone", zone_id}})) {
    suspended_until_.Remove(&suspended_until_.Add({{"zone", zone_id}}));
  }
}

void Metrics::remove_suspension(const std::string& zone_id) {
  for (auto* f : {&suspended_, &suspended_until_}) {
    if (f->Has({{"zone", zone_id}})) f->Remove(&f->Add({{"zone", zone_id}}));
  }
}

void Metrics::update_fleet() const {
  std::array<double, kOutcomes.size()> by_result{};
  double never = 0, live = 0, desired = 0, stale = 0;
  double oldest = std::numeric_limits<double>::infinity();
  for (const auto& [id, st] : states_) {
    if (st.last) {
      by_result[index(*st.last)] += 1;
    } else {
      never += 1;
    }
    live += st.live;
    desired += st.desired;
    stale += st.stale;
    oldest = std::min(oldest, st.last_success);
  }
  for (ZoneOutcome o : kOutcomes) {
    zones_by_result_.Add({{"last_result", std::string(to_string(o))}}).Set(by_result[index(o)]);
  }
  zones_by_result_.Add({{"last_result", "none"}}).Set(never);
  fleet_mappings_.Add({{"state", "live"}}).Set(live);
  fleet_mappings_.Add({{"state", "desired"}}).Set(desired);
  fleet_mappings_.Add({{"state", "stale"}}).Set(stale);
  oldest_success_.Set(states_.empty() ? 0 : oldest);
}

std::string Metrics::serialize() const {
  {
    std::lock_guard lock(mu_);
    update_fleet();
  }
  const std::vector<prometheus::MetricFamily> families = registry_->Collect();
  // Written into a string the size of the last answer and a little more, which it takes over:
  // no copy of the text at the end, and no doubling of a stream's buffer on the way (each
  // leaves memory behind that a large answer does not give back).
  std::string text;
  text.reserve(last_size_.load() + last_size_.load() / 8);
  std::ostringstream out(std::move(text));
  prometheus::TextSerializer().Serialize(out, families);
  text = std::move(out).str();
  last_size_.store(text.size());
  return text;
}

}  // namespace orc
