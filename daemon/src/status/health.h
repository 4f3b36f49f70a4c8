// "Is the loop making progress?" — the answer behind /healthz and the systemd watchdog.
// Pure arithmetic over monotonic times handed in by the caller.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

#include "base/clock.h"
#include "config/config.h"

namespace orc {

// Stuck means: no API answer and no loop step for this long beyond any announced wait: twice
// the interval, or one request's timeout and longest backoff, plus a minute.
std::chrono::milliseconds stall_threshold(const Config& config);

class Health {
 public:
  // The loop counts as stuck when nothing happened for `stall_after` beyond any wait it
  // announced (a Retry-After, the interval between cycles).
  explicit Health(std::chrono::milliseconds stall_after, MonoTime now)
      : stall_after_(stall_after), last_progress_(now) {}

  void progress(MonoTime now);
  // A deliberate quiet period: healthy until `until` + stall_after even without progress.
  void quiet_until(MonoTime until);
  bool healthy(MonoTime now) const;
  std::chrono::milliseconds since_progress(MonoTime now) const;

 private:
  const std::chrono::milliseconds stall_after_;
  mutable std::mutex mu_;
  MonoTime last_progress_;
  MonoTime quiet_until_{};
};

}  // namespace orc
