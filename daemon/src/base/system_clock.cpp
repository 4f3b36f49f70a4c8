#include <condition_variable>
#include <random>

#include "base/clock.h"

namespace orc {

bool SystemSleeper::sleep_for(std::chrono::milliseconds d, std::stop_token stop) {
  if (stop.stop_requested()) return false;
  // One mutex and condition variable per wait: a stop wakes exactly the waits under its token.
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  std::stop_callback wake(stop, [&] {
    {
      std::lock_guard lock(mu);
      stopped = true;
    }
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  return !cv.wait_for(lock, d, [&] { return stopped; });
}

SystemRandom::SystemRandom() : state_(std::random_device{}()) {}

double SystemRandom::uniform01() {
  std::lock_guard lock(mu_);
  // splitmix64: small, fast, and good enough for jitter.
  unsigned long long z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

}  // namespace orc
