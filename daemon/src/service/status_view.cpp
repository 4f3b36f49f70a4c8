#include "service/status_view.h"

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

namespace orc {

void ProgressObserver::on_request(Operation op, int status, double seconds) {
  metrics_.on_request(op, status, seconds);
  health_.progress(clock_.monotonic());
}

void ProgressObserver::on_retry(Operation op, RetryReason reason, Millis delay) {
  metrics_.on_retry(op, reason, delay);
  health_.quiet_until(clock_.monotonic() + delay);
}

void StatusView::desired_state(const DesiredState& state) {
  std::vector<std::string> ids;
  std::map<std::string, std::string> names;
  for (const auto& z : state.zones) {
    ids.push_back(z.zone_id);
    if (z.zone_name) names.emplace(z.zone_id, *z.zone_name);
  }
  zone_count_ = state.zones.size();
  metrics_.set_zones(ids);
  metrics_.set_zone_names(names);
}

void StatusView::condition(DesiredCondition c) {
  condition_ = c;
  metrics_.set_desired_state_valid(c == DesiredCondition::kValid || c == DesiredCondition::kHeld);
  metrics_.set_desired_state_held(c == DesiredCondition::kHeld);
}

void StatusView::cycle_done(std::string summary) {
  std::lock_guard lock(mu_);
  last_summary_ = std::move(summary);
}

// The budget window moves with time, not only with requests: read it at each scrape.
std::string StatusView::metrics_text() {
  const auto usage = limiter_.usage();
  metrics_.set_api_budget(usage.in_window, usage.limit);
  metrics_.set_leader(leadership_.leading(), leadership_.transitions());
  metrics_.set_api_budget_remaining(usage.server_remaining);
  metrics_.set_duplicate_identity(leadership_.duplicate_identity());
  if (outcomes_ != nullptr) metrics_.set_events(outcomes_->event_counts());
  return metrics_.serialize();
}

HealthAnswer StatusView::health_answer() {
  const MonoTime now = clock_.monotonic();
  nlohmann::json body;
  // A healthy standby is healthy: only a standby cut off from the Lease API is not.
  const bool lease_ok = leadership_.healthy(now);
  const bool ok = health_.healthy(now) && lease_ok;
  body["status"] = ok ? "ok" : (lease_ok ? "stalled" : "lease API unreachable");
  body["leadership"] = leadership_.describe();
  body["seconds_since_progress"] = health_.since_progress(now).count() / 1000.0;
  {
    std::lock_guard lock(mu_);
    body["last_cycle"] = last_summary_;
  }
  if (const auto wait = limiter_.announced_wait()) {
    body["api_wait"] = {
        {"reason", wait->from_headers ? "rate-limit headers: the API user's budget is spent"
                                      : "Retry-After of a 429 answer"},
        {"seconds_left",
         std::chrono::duration_cast<std::chrono::milliseconds>(wait->until - now).count() /
             1000.0}};
  }
  body["zones"] = zone_count_.load();  // of the desired state in force
  body["desired_state"] = std::string(to_string(condition_.load()));
  return {ok, body.dump()};
}

}  // namespace orc
