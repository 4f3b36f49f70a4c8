// Simulated time for tests that drive threads (Envoy's SimulatedTimeSystem is the model): one
// clock, sleeper and thread starter shared by every thread of the test. Time moves only when
// every participating thread waits in sleep_for, and then jumps straight to the earliest
// deadline, so a run is deterministic and hours of simulated time pass in milliseconds.
//
// Participants: the thread that made the SimulatedTime (the test, which drives with
// advance_to / advance and steps aside with leave()), and every thread started through
// start(). A thread that sleeps must be one (a non-participant's sleep would let time run
// ahead of it): sleep_for throws std::logic_error otherwise. Other threads may read the clock.
// A participant blocked anywhere but in sleep_for holds time still, so a participant must not
// wait on another participant outside sleep_for for long (joining a thread that is about to
// end is fine: it stops participating when its work returns).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <list>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include "base/clock.h"
#include "service/daemon.h"

namespace orc::testing {

class SimulatedTime final : public Clock, public Sleeper, public ThreadStarter {
 public:
  SimulatedTime() {
    std::lock_guard lock(mu_);
    ++participants_;
    participant_of() = this;
  }
  ~SimulatedTime() override { leave(); }

  MonoTime monotonic() const override {
    std::lock_guard lock(mu_);
    return mono_;
  }
  WallTime wall() const override {
    std::lock_guard lock(mu_);
    return kWallStart + std::chrono::duration_cast<WallTime::duration>(mono_ - kMonoStart);
  }
  static MonoTime start() { return kMonoStart; }

  bool sleep_for(Millis d, std::stop_token stop) override {
    if (participant_of() != this) {
      throw std::logic_error("SimulatedTime: sleep_for on a thread that does not participate");
    }
    Waiter w;
    {
      std::lock_guard lock(mu_);
      if (stop.stop_requested()) return false;
      w.deadline = mono_ + std::max(d, Millis(0));
      waiters_.push_back(&w);
      ++asleep_;
    }
    {
      // Registered without the lock: a token already stopped runs the callback right here.
      std::stop_callback on_stop(stop, [this, &w] {
        std::lock_guard lock(mu_);
        wake(w, /*by_stop=*/true);
      });
      std::unique_lock lock(mu_);
      advance_if_idle();
      cv_.wait(lock, [&w] { return w.awake; });
      waiters_.remove(&w);
    }
    return !w.by_stop;
  }

  // A participant from before it runs until its work returns.
  std::jthread start(std::function<void()> work) override {
    {
      std::lock_guard lock(mu_);
      ++participants_;
    }
    return std::jthread([this, work = std::move(work)] {
      participant_of() = this;
      work();
      leave();
    });
  }

  // For the driving thread: time runs (the other participants do their work) until `t`, then
  // stands still until the driver sleeps again or leaves.
  void advance_to(MonoTime t) { sleep_for(std::chrono::ceil<Millis>(t - monotonic()), {}); }
  void advance(Millis d) { sleep_for(d, {}); }

  // The calling thread stops participating (the driver, before it joins a thread that runs
  // on in simulated time). Idempotent.
  void leave() {
    if (participant_of() != this) return;
    participant_of() = nullptr;
    std::lock_guard lock(mu_);
    --participants_;
    advance_if_idle();
  }

 private:
  static constexpr MonoTime kMonoStart{std::chrono::hours(1000)};
  static constexpr WallTime kWallStart{std::chrono::seconds(1'700'000'000)};

  struct Waiter {
    MonoTime deadline{};
    bool awake = false;
    bool by_stop = false;
  };

  static const SimulatedTime*& participant_of() {
    thread_local const SimulatedTime* of = nullptr;
    return of;
  }

  // Under mu_.
  void wake(Waiter& w, bool by_stop) {
    if (w.awake) return;
    w.awake = true;
    w.by_stop = by_stop;
    --asleep_;
    cv_.notify_all();
  }

  // Under mu_: when every participant sleeps, time jumps to the earliest deadline and wakes
  // whoever is due then. Woken threads count as awake at once, so time cannot move again
  // before they have run and slept again.
  void advance_if_idle() {
    if (participants_ == 0 || asleep_ < participants_) return;
    MonoTime earliest = MonoTime::max();
    for (const Waiter* w : waiters_) {
      if (!w->awake) earliest = std::min(earliest, w->deadline);
    }
    if (earliest == MonoTime::max()) return;
    mono_ = std::max(mono_, earliest);
    for (Waiter* w : waiters_) {
      if (!w->awake && w->deadline <= mono_) wake(*w, /*by_stop=*/false);
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  MonoTime mono_{kMonoStart};
  std::list<Waiter*> waiters_;
  int participants_ = 0;
  int asleep_ = 0;
};

}  // namespace orc::testing
