// The shutdown's grace as the loop keeps it: from the first stop request, requests in flight
// have `grace` to end; past it, the transfers are abandoned (their stop source stopped), once.
// begin() is called from the thread that handles signals, the rest from the loop's.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <stop_token>

#include <spdlog/spdlog.h>

#include "base/clock.h"

namespace orc {

class ShutdownGrace {
 public:
  ShutdownGrace(const Clock& clock, std::stop_source& abort_transfers, std::chrono::seconds grace)
      : clock_(clock), abort_(abort_transfers), grace_(grace) {}

  // Starts the grace; true for the first call only.
  bool begin() {
    std::lock_guard lock(mu_);
    if (started_) return false;
    started_ = clock_.monotonic();
    return true;
  }

  // `next`, or the end of the grace when that comes first: the loop wakes up for it.
  MonoTime wake_by(MonoTime next) const {
    std::lock_guard lock(mu_);
    return started_ ? std::min(next, *started_ + grace_) : next;
  }

  // Past the grace: abandons the transfers still running, saying so once.
  void enforce() {
    std::lock_guard lock(mu_);
    if (started_ && clock_.monotonic() - *started_ >= grace_ && abort_.request_stop()) {
      spdlog::warn("shutdown: requests still running after {}s; abandoning them", grace_.count());
    }
  }

 private:
  const Clock& clock_;
  std::stop_source& abort_;
  const std::chrono::seconds grace_;
  mutable std::mutex mu_;
  std::optional<MonoTime> started_;  // mu_
};

}  // namespace orc
