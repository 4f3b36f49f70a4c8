// Time and waiting, injected so that the logic above them runs deterministically in tests
// (see tests/unit/fakes.h). Only system_clock.cpp touches the real clocks.
#pragma once

#include <chrono>
#include <mutex>
#include <stop_token>

namespace orc {

using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime monotonic() const = 0;  // for intervals
  virtual WallTime wall() const = 0;       // for people and timestamps
};

// Waits that a stop request cuts short. Cancellation is one std::stop_token, handed down from
// the shutdown (and the leadership) through the cycle to every wait.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Waits `d`, or less when `stop` is requested first. Returns false when `stop` was requested
  // (before or during the wait: the caller should give up what it was doing), true when the
  // full duration passed.
  virtual bool sleep_for(std::chrono::milliseconds d, std::stop_token stop) = 0;
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

// Real waits: a condition variable that a std::stop_callback on the token wakes at once.
class SystemSleeper final : public Sleeper {
 public:
  bool sleep_for(std::chrono::milliseconds d, std::stop_token stop) override;
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
