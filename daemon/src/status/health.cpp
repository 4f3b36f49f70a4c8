#include "status/health.h"

#include <algorithm>

namespace orc {

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
