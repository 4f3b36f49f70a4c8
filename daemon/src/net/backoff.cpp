#include "net/backoff.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace orc {

Millis Backoff::ceiling(int retry_index) const {
  // Double until the cap; stop early so the shift can never overflow.
  Millis c = initial_;
  for (int i = 0; i < retry_index && c < max_; ++i) c *= 2;
  return std::min(c, max_);
}

Millis Backoff::delay(int retry_index, RandomSource& random) const {
  const auto cap = ceiling(retry_index).count();
  const double u = std::clamp(random.uniform01(), 0.0, 1.0);
  return Millis{static_cast<Millis::rep>(std::llround(u * static_cast<double>(cap)))};
}

std::optional<Millis> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = -1;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  constexpr long long kMaxSeconds = 3600;
  return Millis{std::min(seconds, kMaxSeconds) * 1000};
}

}  // namespace orc
