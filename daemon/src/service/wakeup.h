// The loop's one way to wait: until a deadline or a wake-up, whichever comes first, through the
// injected Sleeper (so simulated time drives it in tests). A wake-up (a signal, a change of
// leadership, the end of a cycle) given while nobody waits is kept for the next wait: none is
// lost, and a stale one only makes the loop look around once more.
#pragma once

#include <chrono>
#include <mutex>
#include <stop_token>

#include "base/clock.h"

namespace orc {

class Wakeup {
 public:
  Wakeup(const Clock& clock, Sleeper& sleeper) : clock_(clock), sleeper_(sleeper) {}

  void notify() {  // from any thread
    std::lock_guard lock(mu_);
    source_.request_stop();
  }

  // True when woken, false when the deadline came first.
  bool wait_until(MonoTime deadline) {
    std::stop_token token;
    {
      std::lock_guard lock(mu_);
      if (consume()) return true;
      token = source_.get_token();
    }
    const MonoTime now = clock_.monotonic();
    if (now < deadline) {
      sleeper_.sleep_for(std::chrono::ceil<std::chrono::milliseconds>(deadline - now), token);
    }
    std::lock_guard lock(mu_);
    return consume();
  }

 private:
  bool consume() {  // mu_
    if (!source_.stop_requested()) return false;
    source_ = std::stop_source();
    return true;
  }

  const Clock& clock_;
  Sleeper& sleeper_;
  std::mutex mu_;
  std::stop_source source_;
};

}  // namespace orc
