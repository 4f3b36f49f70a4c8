// The systemd watchdog as the loop feeds it: a ping at most every watchdog_interval(), and only
// while the loop makes progress (Health), so a stuck daemon is restarted. step() is how long
// the loop may wait before it looks again: its poll step, or less when the watchdog wants
// pings more often.
#pragma once

#include <algorithm>
#include <chrono>

#include "base/clock.h"
#include "service/notify.h"
#include "status/health.h"

namespace orc {

class Watchdog {
 public:
  Watchdog(ServiceNotifier& notifier, const Health& health, const Clock& clock,
           std::chrono::milliseconds poll_step)
      : notifier_(notifier), health_(health), clock_(clock), poll_step_(poll_step) {}

  std::chrono::milliseconds step() const {
    const auto interval = notifier_.watchdog_interval();
    if (!interval) return poll_step_;
    return std::min(poll_step_,
                    std::max(std::chrono::milliseconds(1),
                             std::chrono::duration_cast<std::chrono::milliseconds>(*interval)));
  }

  void ping() {
    const auto interval = notifier_.watchdog_interval();
    if (!interval) return;
    const MonoTime now = clock_.monotonic();
    if (now - last_ >= *interval && health_.healthy(now)) {
      notifier_.watchdog();
      last_ = now;
    }
  }

 private:
  ServiceNotifier& notifier_;
  const Health& health_;
  const Clock& clock_;
  std::chrono::milliseconds poll_step_;
  MonoTime last_{};
};

}  // namespace orc
