// Time and waiting, injected so that the logic above them runs deterministically in tests
// (see tests/unit/fakes.h). Only system_clock.cpp touches the real clocks.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace orc {

using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime monotonic() const = 0;  // for intervals
  virtual WallTime wall() const = 0;       // for people and timestamps
};

// Waits that a shutdown can cut short.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Returns false when the wait was interrupted by a stop request (the caller should
  // give up what it was doing), true when the full duration passed.
  virtual bool sleep_for(std::chrono::milliseconds d) = 0;
  virtual bool stop_requested() const = 0;
};

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual double uniform01() = 0;  // in [0, 1)
};

class SystemClock final : public Clock {
 public:
  MonoTime monotonic() const override { return std::chrono::steady_clock::now(); }
  WallTime wall() const override { return std::chrono::system_clock::now(); }
};

// A sleeper backed by a condition variable; request_stop() wakes every sleeper at once.
class StopSignal final : public Sleeper {
 public:
  bool sleep_for(std::chrono::milliseconds d) override;
  bool stop_requested() const override { return stopped_.load(); }
  void request_stop();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopped_{false};
};

class SystemRandom final : public RandomSource {
 public:
  SystemRandom();
  double uniform01() override;

 private:
  std::mutex mu_;
  unsigned long long state_;
};

}  // namespace orc
