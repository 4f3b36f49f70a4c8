// Whether this instance may act. A single daemon always may (AlwaysLeader); replicas of a
// Kubernetes sidecar elect one leader on a Lease and only it sends requests to Cloudflare.
// The loop asks await_leading() before each cycle, runs the cycle under cycle_token(), and
// the request path asks leading() before every request it sends.
#pragma once

#include <stop_token>

namespace orc {

class Leadership {
 public:
  virtual ~Leadership() = default;
  // Blocks until this instance leads, or until `stop` is requested (false).
  virtual bool await_leading(std::stop_token stop) = 0;
  // Stopped as soon as this instance stops leading (a missed renew deadline, a release):
  // the cycle running under it is abandoned.
  virtual std::stop_token cycle_token() const = 0;
  // Judged on this instance's own monotonic clock at the moment of asking, not when the
  // elector last looked: false once the renew deadline has passed without a renewal.
  virtual bool leading() const = 0;
  // Gives the lead up at shutdown so another instance takes over at once.
  virtual void release() = 0;
};

// A daemon without leader election: always leading, never abandoned by leadership.
class AlwaysLeader final : public Leadership {
 public:
  bool await_leading(std::stop_token stop) override { return !stop.stop_requested(); }
  std::stop_token cycle_token() const override { return {}; }
  bool leading() const override { return true; }
  void release() override {}
};

}  // namespace orc
