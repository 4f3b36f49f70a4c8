// Prometheus metrics (prometheus-cpp). Every family is registered at construction, so a bad
// name fails at start-up, not on the first scrape. Metric reference: README "Metrics".
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/api.h"
#include "core/reconciler.h"

namespace orc {

class Metrics final : public ApiObserver, public ReconcileObserver {
 public:
  explicit Metrics(const std::string& version);
  ~Metrics() override;

  // The zones now managed: their series exist from the start (at zero) so rate() and
  // absence alerts work; series of zones no longer managed are removed.
  void set_zones(const std::vector<std::string>& zone_ids);
  void set_desired_state_valid(bool valid);
  // 1 while a desired-state change is held (it would remove too many desired origins).
  void set_desired_state_held(bool held);
  // The shared API budget: requests started in the last 5 minutes and the cap in force.
  void set_api_budget(int window_requests, int window_limit);
  // Requests the user has left, as the last API answer's rate-limit headers said (all clients
  // of the user); the series appears with the first answer that says.
  void set_api_budget_remaining(std::optional<int> remaining);

  void on_request(Operation op, int status, double seconds) override;
  void on_retry(Operation op, RetryReason reason, Millis delay) override;
  void on_zone_done(const ZoneReport& report) override;

  std::string serialize() const;  // Prometheus text format
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  struct ZoneSeries;
  ZoneSeries& zone(const std::string& zone_id);  // mu_ held

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Counter>& runs_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Gauge>& last_attempt_;
  prometheus::Family<prometheus::Gauge>& mappings_;
  prometheus::Family<prometheus::Counter>& pruned_;
  prometheus::Family<prometheus::Counter>& prune_failures_;
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

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<ZoneSeries>> zones_;
};

}  // namespace orc
