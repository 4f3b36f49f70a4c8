#include "status/health.h"

#include <algorithm>

namespace orc {

std::chrono::milliseconds stall_threshold(const Config& c) {
  const auto per_request = c.cloudflare.request_timeout + c.reconcile.retry.max_backoff;
  return std::max<std::chrono::milliseconds>(2 * c.reconcile.interval, per_request) +
         std::chrono::minutes(1);
}

void Health::progress(MonoTime now) {
  std::lock_guard lock(mu_);
  last_progress_ = std::max(last_progress_, now);
}

void Health::quiet_until(MonoTime until) {
  std::lock_guard lock(mu_);
  quiet_until_ = std::max(quiet_until_, until);
}

bool Health::healthy(MonoTime now) const {
  std::lock_guard lock(mu_);
  const MonoTime reference = std::max(last_progress_, quiet_until_);
  return now - reference <= stall_after_;
}

std::chrono::milliseconds Health::since_progress(MonoTime now) const {
  std::lock_guard lock(mu_);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress_);
}

}  // namespace orc
