// Prometheus metrics (prometheus-cpp). Every family is registered at construction, so a bad
// name fails at start-up, not on the first scrape. Metric reference: README "Metrics".
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "reconcile/reconciler.h"
#include "reconcile/zone_api.h"

namespace orc {

// metrics.zone_series unset: every zone has its own series below this many zones; from there
// on only the zones not in line (failing, blocked, items not deleted, stale in a dry run). A
// zone's series are about 1.3 KB of each scrape: 1,000 zones are 1.3 MB.
inline constexpr std::size_t kZoneSeriesAllBelow = 1000;
ZoneSeriesMode zone_series_for(std::optional<ZoneSeriesMode> setting, std::size_t zones);

// Kubernetes Events (service/event_recorder.h) so far: sent, and dropped by why.
struct EventCounts {
  std::uint64_t created = 0;       // POSTed: a new Event
  std::uint64_t patched = 0;       // PATCHed: a repeat's count and lastTimestamp
  std::uint64_t queue_full = 0;    // dropped: the queue was full
  std::uint64_t rate_limited = 0;  // dropped: the spam filter's budget was spent
  std::uint64_t failed = 0;        // dropped: the API server refused it or did not answer
  friend bool operator==(const EventCounts&, const EventCounts&) = default;
};

class Metrics final : public ApiObserver, public ReconcileObserver {
 public:
  // `zone_series`: metrics.zone_series (unset: by the number of zones, zone_series_for).
  explicit Metrics(const std::string& version,
                   std::optional<ZoneSeriesMode> zone_series = std::nullopt);
  ~Metrics() override;

  // The zones now managed. With zone_series all their series exist from the start (at zero)
  // so rate() and absence alerts work; with failing a zone has series while it is not in line
  // (created with its totals so far); with none no zone has any. Fleet-wide aggregates are
  // always exported. Series of zones no longer managed are removed.
  void set_zones(const std::vector<std::string>& zone_ids);
  // Zones the desired state writes by name (zone id -> name): origin_reconciler_zone_info
  // {zone, zone_name} 1, one series per named zone whatever zone_series says (a join target for
  // dashboards, not a per-zone series family). Replaces the previous set.
  void set_zone_names(const std::map<std::string, std::string>& names);
  ZoneSeriesMode zone_series() const;
  void set_desired_state_valid(bool valid);
  // 1 while a desired-state change is held (it would remove too many desired origins).
  void set_desired_state_held(bool held);
  // The shared API budget: requests started in the last 5 minutes and the cap in force.
  void set_api_budget(int window_requests, int window_limit);
  // Requests the user has left, as the last API answer's rate-limit headers said (all clients
  // of the user); the series appears with the first answer that says.
  void set_api_budget_remaining(std::optional<int> remaining);
  // Leader election: whether this instance leads now, and how many times it became leader
  // (the counter follows that total; it never goes down).
  void set_leader(bool leading, std::uint64_t transitions);
  // 1 while another process keeps renewing the Lease under this replica's identity.
  void set_duplicate_identity(bool duplicate);
  // Kubernetes Events sent and dropped (the counters follow these totals); the series appear
  // with the first call, so a daemon without Events has none.
  void set_events(const EventCounts& counts);

  void on_request(Operation op, int status, double seconds) override;
  void on_retry(Operation op, RetryReason reason, Millis delay) override;
  void on_zone_done(const ZoneReport& report) override;

  std::string serialize() const;  // Prometheus text format
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  struct ZoneSeries;
  // What a zone's series would show, kept for every zone whether it has series or not.
  struct ZoneState {
    std::optional<ZoneOutcome> last;  // none before its first reconcile
    bool in_line = true;              // no series with zone_series failing
    double live = 0, desired = 0, stale = 0, missing = 0, mismatched = 0, unsupported = 0;
    double last_success = 0, last_attempt = 0;
    std::array<double, kZoneOutcomeNames.size()> runs{};  // by ZoneOutcome
    double pruned = 0, prune_failures = 0, safety_blocks = 0;
    double upserted = 0, upsert_failures = 0;
  };
  ZoneSeries& zone(const std::string& zone_id);                      // mu_ held
  void remove_series(const std::string& zone_id);                    // mu_ held
  void sync_series(const std::string& zone_id, const ZoneState& s);  // mu_ held
  void update_fleet() const;                                         // mu_ held

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Counter>& runs_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Gauge>& last_attempt_;
  prometheus::Family<prometheus::Gauge>& mappings_;
  prometheus::Family<prometheus::Counter>& pruned_;
  prometheus::Family<prometheus::Counter>& prune_failures_;
  prometheus::Family<prometheus::Counter>& upserted_;
  prometheus::Family<prometheus::Counter>& upsert_failures_;
  prometheus::Family<prometheus::Gauge>& unsupported_;
  prometheus::Family<prometheus::Counter>& api_requests_;
  prometheus::Family<prometheus::Histogram>& api_duration_;
  prometheus::Family<prometheus::Counter>& api_retries_;
  prometheus::Family<prometheus::Counter>& safety_blocks_;
  prometheus::Family<prometheus::Gauge>& desired_valid_family_;
  prometheus::Gauge& desired_valid_;
  prometheus::Histogram& reconcile_duration_;
  prometheus::Family<prometheus::Gauge>& desired_held_family_;
  prometheus::Gauge& desired_held_;
  prometheus::Gauge& budget_window_requests_;
  prometheus::Gauge& budget_window_limit_;
  prometheus::Family<prometheus::Gauge>& budget_remaining_;
  prometheus::Gauge& leader_;
  prometheus::Counter& leader_transitions_;
  prometheus::Gauge& duplicate_identity_;
  prometheus::Family<prometheus::Counter>& events_sent_;
  prometheus::Family<prometheus::Counter>& events_dropped_;

  prometheus::Family<prometheus::Gauge>& zones_by_result_;
  prometheus::Family<prometheus::Counter>& fleet_runs_;
  prometheus::Family<prometheus::Gauge>& fleet_mappings_;
  prometheus::Counter& fleet_pruned_;
  prometheus::Counter& fleet_prune_failures_;
  prometheus::Counter& fleet_safety_blocks_;
  prometheus::Gauge& oldest_success_;
  prometheus::Family<prometheus::Gauge>& zone_info_;
  // Zones with a suspend: in the desired state (only those have these series).
  prometheus::Family<prometheus::Gauge>& suspended_;
  prometheus::Family<prometheus::Gauge>& suspended_until_;
  void set_suspension(const ZoneReport& report);       // mu_ held
  void remove_suspension(const std::string& zone_id);  // mu_ held

  mutable std::mutex mu_;
  mutable std::atomic<std::size_t> last_size_{0};             // of the last serialization's text
  std::map<std::string, std::unique_ptr<ZoneSeries>> zones_;  // the zones that have series
  std::optional<ZoneSeriesMode> zone_series_setting_;
  ZoneSeriesMode zone_series_ = ZoneSeriesMode::kAll;
  std::map<std::string, ZoneState> states_;  // every managed zone
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> zone_info_series_;
};

}  // namespace orc
