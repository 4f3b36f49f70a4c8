#include "rate_window.h"

#include <utility>

namespace standin {

SlidingWindow::SlidingWindow(int quota, std::chrono::seconds window, bool enforce,
                             RatePolicyHeader policy)
    : quota_(quota), window_(window), enforce_(enforce), policy_(std::move(policy)) {}

SlidingWindow::Verdict SlidingWindow::admit(orc::MonoTime now) {
  expire(now);
  if (locked_until_ && now < *locked_until_) return verdict(now, false);
  locked_until_.reset();
  const bool full = static_cast<int>(times_.size()) >= quota_;
  if (full && enforce_) {
    locked_until_ = now + window_;
    return verdict(now, false);
  }
  if (full) times_.pop_front();
  times_.push_back(now);
  return verdict(now, true);
}

SlidingWindow::Verdict SlidingWindow::peek(orc::MonoTime now) {
  expire(now);
  return verdict(now, true);
}

std::string SlidingWindow::ratelimit_header(const Verdict& v) const {
  return "\"default\";r=" + std::to_string(v.remaining) + ";t=" + std::to_string(v.reset_seconds);
}

std::string SlidingWindow::policy_header() const {
  if (policy_.documented) return "\"burst\";q=100;w=60";
  return "\"" + policy_.name + "\";q=" + std::to_string(quota_) +
         ";w=" + std::to_string(window_.count());
}

void SlidingWindow::expire(orc::MonoTime now) {
  while (!times_.empty() && times_.front() + window_ <= now) times_.pop_front();
}

SlidingWindow::Verdict SlidingWindow::verdict(orc::MonoTime now, bool allowed) const {
  Verdict v;
  v.allowed = allowed;
  v.remaining = quota_ - static_cast<int>(times_.size());
  if (!times_.empty()) {
    const auto left = times_.front() + window_ - now;
    v.reset_seconds = static_cast<int>(std::chrono::ceil<std::chrono::seconds>(left).count());
  }
  if (locked_until_ && now < *locked_until_) {
    v.remaining = 0;
    v.reset_seconds =
        static_cast<int>(std::chrono::ceil<std::chrono::seconds>(*locked_until_ - now).count());
  }
  return v;
}

}  // namespace standin
