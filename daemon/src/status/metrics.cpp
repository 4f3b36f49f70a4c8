#include "status/metrics.h"

#include <prometheus/text_serializer.h>

#include <chrono>
#include <set>

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
  Counter* pruned;
  Counter* prune_failures;
  Counter* safety_blocks;
};

Metrics::Metrics(const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()),
      build_info_(BuildGauge()
                      .Name("origin_reconciler_build_info")
                      .Help("Always 1; the version label says which build is running.")
                      .Register(*registry_)),
      runs_(BuildCounter()
                .Name("origin_reconciler_reconcile_runs_total")
                .Help("Zone reconcile runs, by result (success, failure, blocked, dry_run).")
                .Register(*registry_)),
      duration_(BuildHistogram()
                    .Name("origin_reconciler_reconcile_duration_seconds")
                    .Help("Time to reconcile one zone: list, plan and prune.")
                    .Register(*registry_)),
      last_success_(BuildGauge()
                        .Name("origin_reconciler_last_success_timestamp_seconds")
                        .Help("Unix time of the zone's last successful reconcile.")
                        .Register(*registry_)),
      last_attempt_(BuildGauge()
                        .Name("origin_reconciler_last_attempt_timestamp_seconds")
                        .Help("Unix time the zone's last reconcile started.")
                        .Register(*registry_)),
      mappings_(BuildGauge()
                    .Name("origin_reconciler_mappings")
                    .Help("Mappings seen in the zone's last reconcile, by state (live, "
                          "desired, stale).")
                    .Register(*registry_)),
      pruned_(BuildCounter()
                  .Name("origin_reconciler_pruned_total")
                  .Help("Stale mappings deleted.")
                  .Register(*registry_)),
      prune_failures_(BuildCounter()
                          .Name("origin_reconciler_prune_failures_total")
                          .Help("Stale mappings the API did not delete (failed batch items).")
                          .Register(*registry_)),
      api_requests_(BuildCounter()
                        .Name("origin_reconciler_api_requests_total")
                        .Help("Cloudflare API requests, by operation and HTTP status (error: "
                              "no answer).")
                        .Register(*registry_)),
      api_duration_(BuildHistogram()
                        .Name("origin_reconciler_api_request_duration_seconds")
                        .Help("Cloudflare API request latency, by operation.")
                        .Register(*registry_)),
      api_retries_(BuildCounter()
                       .Name("origin_reconciler_api_retries_total")
                       .Help("Cloudflare API requests retried, by operation and reason "
                             "(rate_limited, server_error, transport).")
                       .Register(*registry_)),
      safety_blocks_(BuildCounter()
                         .Name("origin_reconciler_safety_blocks_total")
                         .Help("Zone reconciles blocked by the safety guard "
                               "(max_delete_fraction).")
                         .Register(*registry_)),
      desired_valid_family_(BuildGauge()
                                .Name("origin_reconciler_desired_state_valid")
                                .Help("1 if the last read of the desired state was valid, else "
                                      "0 (the last valid one stays in force).")
                                .Register(*registry_)),
      desired_valid_(desired_valid_family_.Add({})),
      reconcile_duration_(duration_.Add({}, kReconcileBuckets)),
      desired_held_family_(BuildGauge()
                               .Name("origin_reconciler_desired_state_held")
                               .Help("1 while a change of the desired state is held because it "
                                     "would remove more than max_delete_fraction of a zone's "
                                     "desired origins (or widen its manage_cidrs), else 0.")
                               .Register(*registry_)),
      desired_held_(desired_held_family_.Add({})),
      budget_window_requests_(
          BuildGauge()
              .Name("origin_reconciler_api_budget_window_requests")
              .Help("Cloudflare API requests started in the last 5 minutes (all zones, retries "
                    "included).")
              .Register(*registry_)
              .Add({})),
      budget_window_limit_(BuildGauge()
                               .Name("origin_reconciler_api_budget_window_limit")
                               .Help("Most requests the client-side budget lets start in any "
                                     "5 minutes now (halved for 5 minutes after a 429).")
                               .Register(*registry_)
                               .Add({})),
      budget_remaining_(BuildGauge()
                            .Name("origin_reconciler_api_budget_remaining")
                            .Help("Requests the API user has left in Cloudflare's window, as the "
                                  "last answer's rate-limit headers said (every client of the "
                                  "user counts).")
                            .Register(*registry_)) {
  build_info_.Add({{"version", version}}).Set(1);
  for (Operation op : {Operation::kList, Operation::kBatchDelete, Operation::kGet}) {
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
    for (ZoneOutcome o : {ZoneOutcome::kSuccess, ZoneOutcome::kFailure, ZoneOutcome::kBlocked,
                          ZoneOutcome::kDryRun}) {
      const std::string result(to_string(o));
      slot->runs[result] = &runs_.Add({{"zone", zone_id}, {"result", result}});
    }
    slot->last_success = &last_success_.Add({{"zone", zone_id}});
    slot->last_attempt = &last_attempt_.Add({{"zone", zone_id}});
    slot->live = &mappings_.Add({{"zone", zone_id}, {"state", "live"}});
    slot->desired = &mappings_.Add({{"zone", zone_id}, {"state", "desired"}});
    slot->stale = &mappings_.Add({{"zone", zone_id}, {"state", "stale"}});
    slot->pruned = &pruned_.Add({{"zone", zone_id}});
    slot->prune_failures = &prune_failures_.Add({{"zone", zone_id}});
    slot->safety_blocks = &safety_blocks_.Add({{"zone", zone_id}});
  }
  return *slot;
}

void Metrics::set_zones(const std::vector<std::string>& zone_ids) {
  std::lock_guard lock(mu_);
  const std::set<std::string> wanted(zone_ids.begin(), zone_ids.end());
  for (auto it = zones_.begin(); it != zones_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    ZoneSeries& s = *it->second;
    for (auto& [result, counter] : s.runs) runs_.Remove(counter);
    last_success_.Remove(s.last_success);
    last_attempt_.Remove(s.last_attempt);
    mappings_.Remove(s.live);
    mappings_.Remove(s.desired);
    mappings_.Remove(s.stale);
    pruned_.Remove(s.pruned);
    prune_failures_.Remove(s.prune_failures);
    safety_blocks_.Remove(s.safety_blocks);
    it = zones_.erase(it);
  }
  for (const auto& id : zone_ids) zone(id);
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
  ZoneSeries& s = zone(report.zone_id);
  s.runs[std::string(to_string(report.outcome))]->Increment();
  reconcile_duration_.Observe(report.seconds);
  s.last_attempt->Set(unix_seconds(report.attempted_at));
  if (report.outcome == ZoneOutcome::kSuccess || report.outcome == ZoneOutcome::kDryRun) {
    s.last_success->Set(unix_seconds(report.attempted_at));
  }
  if (report.listed) {  // a zone that failed before listing keeps its last known counts
    s.live->Set(static_cast<double>(report.plan.live));
    s.desired->Set(static_cast<double>(report.plan.desired));
    s.stale->Set(static_cast<double>(report.plan.stale.size()));
  }
  s.pruned->Increment(static_cast<double>(report.applied.pruned));
  s.prune_failures->Increment(static_cast<double>(report.applied.failed.size()));
  if (report.outcome == ZoneOutcome::kBlocked) s.safety_blocks->Increment();
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace orc
