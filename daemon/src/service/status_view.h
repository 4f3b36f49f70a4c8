// What /metrics and /healthz say about the running loop: the metrics with the values read at
// scrape time (the budget window, the leadership), and the health answer with the last cycle,
// the desired state's condition and any wait the API announced. Read on the status server's
// threads while the loop updates it.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "model/desired_state.h"
#include "net/rate_limiter.h"
#include "reconcile/zone_api.h"
#include "service/desired_condition.h"
#include "service/leadership.h"
#include "service/outcome_sink.h"
#include "status/health.h"
#include "status/http_server.h"
#include "status/metrics.h"

namespace orc {

// Forwards API events to the metrics and counts them as progress for /healthz.
class ProgressObserver final : public ApiObserver {
 public:
  ProgressObserver(Metrics& metrics, Health& health, const Clock& clock)
      : metrics_(metrics), health_(health), clock_(clock) {}
  void on_request(Operation op, int status, double seconds) override;
  void on_retry(Operation op, RetryReason reason, Millis delay) override;

 private:
  Metrics& metrics_;
  Health& health_;
  const Clock& clock_;
};

class StatusView {
 public:
  StatusView(Metrics& metrics, Health& health, RateLimiter& limiter, Leadership& leadership,
             const Clock& clock, const OutcomeSink* outcomes = nullptr)
      : metrics_(metrics),
        health_(health),
        limiter_(limiter),
        leadership_(leadership),
        clock_(clock),
        outcomes_(outcomes) {}

  void desired_state(const DesiredState& state);  // its zones, their names and count
  void condition(DesiredCondition c);
  void cycle_done(std::string summary);

  std::string metrics_text();
  HealthAnswer health_answer();

 private:
  Metrics& metrics_;
  Health& health_;
  RateLimiter& limiter_;
  Leadership& leadership_;
  const Clock& clock_;
  const OutcomeSink* outcomes_;  // Kubernetes Events' counts, when they are recorded
  std::atomic<std::size_t> zone_count_{0};
  std::atomic<DesiredCondition> condition_{DesiredCondition::kValid};
  std::mutex mu_;
  std::string last_summary_ = "no cycle yet";  // mu_
};

}  // namespace orc
