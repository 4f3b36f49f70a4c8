#include <random>

#include "core/clock.h"

namespace orc {

bool StopSignal::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopped_.load(); });
}

void StopSignal::request_stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
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
