// Why a cycle was told to stop. The stop itself stays one std::stop_token (loops, waits and
// requests see only that); the reason travels beside it, set by whoever requests the stop, so
// that what the stop cut short can say why: a zone abandoned because this instance no longer
// leads must not read like a shutdown.
#pragma once

#include <atomic>
#include <stop_token>
#include <string_view>

#include "base/enum_names.h"

namespace orc {

enum class StopReason {
  kShutdown,   // SIGTERM/SIGINT: the daemon is stopping
  kNotLeader,  // this instance no longer holds the Lease: another replica takes over
};

// The text an operation cut short reports.
inline constexpr auto kStopReasonNames =
    enum_names<StopReason>("shutting down", "this instance is no longer the leader");

constexpr std::string_view describe(StopReason reason) {
  return enum_name(kStopReasonNames, reason, "shutting down");
}

// A std::stop_source that keeps why it was stopped: the first request's reason is the one kept,
// recorded before the token is stopped, so whoever sees the token stopped reads it.
class Cancellation {
 public:
  std::stop_token get_token() const { return source_.get_token(); }
  bool stop_requested() const { return source_.stop_requested(); }

  // Stops the token for `why`. True when this call stopped it; false when it was already
  // stopped (or being stopped), whose reason is kept.
  bool request_stop(StopReason why) {
    int none = kNone;
    if (!reason_.compare_exchange_strong(none, static_cast<int>(why))) return false;
    return source_.request_stop();
  }

  // Why the token was stopped; kShutdown while it is not.
  StopReason reason() const {
    const int r = reason_.load();
    return r == kNone ? StopReason::kShutdown : static_cast<StopReason>(r);
  }

 private:
  static constexpr int kNone = -1;
  std::stop_source source_;
  std::atomic<int> reason_{kNone};
};

// A stop token with the reason of its stop: what the request executor and the applier are
// given, so that the error they make where they see the stop names why ("shutting down", "no
// longer the leader") and nobody patches it later. A bare std::stop_token converts to one
// whose reason is the shutdown.
class StopView {
 public:
  StopView() = default;
  StopView(std::stop_token token) : token_(std::move(token)) {}  // implicit: a plain stop
  StopView(const Cancellation& cancel) : token_(cancel.get_token()), cancel_(&cancel) {}

  const std::stop_token& token() const { return token_; }
  bool stop_requested() const { return token_.stop_requested(); }
  StopReason reason() const {
    return cancel_ != nullptr ? cancel_->reason() : StopReason::kShutdown;
  }

 private:
  std::stop_token token_;
  const Cancellation* cancel_ = nullptr;
};

}  // namespace orc
