// Whether this instance may act. A single daemon always may (AlwaysLeader); replicas of a
// Kubernetes sidecar elect one leader on a Lease and only it sends requests to Cloudflare
// (LeaseLeadership). The loop starts it with callbacks, waits while it does not lead, runs each
// cycle under cycle_token(), and the request path asks leading() before every request it sends.
// Everything the loop and the status endpoints need is here: nothing downcasts.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "base/clock.h"

namespace orc {

// What the holder of a Leadership is told, on the elector's thread (client-go's
// LeaderCallbacks: OnStartedLeading, OnStoppedLeading).
struct LeadershipCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
};

class Leadership {
 public:
  virtual ~Leadership() = default;
  // Starts electing; the callbacks run on every change of role from then on.
  virtual void start(LeadershipCallbacks callbacks) = 0;
  // Stopped as soon as this instance stops leading (a missed renew deadline, a release):
  // the cycle running under it is abandoned.
  virtual std::stop_token cycle_token() const = 0;
  // Judged on this instance's own monotonic clock at the moment of asking, not when the
  // elector last looked: false once the renew deadline has passed without a renewal.
  virtual bool leading() const = 0;
  // Gives the lead up at shutdown so another instance takes over at once.
  virtual void release() = 0;

  // Whether leadership is elected at all (false: leader election is off).
  virtual bool elects() const = 0;
  // False when this instance cannot tell who leads (the Lease API has been unreachable too
  // long): /healthz says so, even for a standby.
  virtual bool healthy(MonoTime now) const = 0;
  // "leader", "standby: lease held by X", "leader (leader election off)": STATUS= and /healthz.
  virtual std::string describe() const = 0;
  virtual std::uint64_t transitions() const = 0;  // the Lease's leaseTransitions
  // True while another process keeps renewing the Lease under this replica's identity.
  virtual bool duplicate_identity() const = 0;
};

// A daemon without leader election: always leading, never abandoned by leadership.
class AlwaysLeader final : public Leadership {
 public:
  void start(LeadershipCallbacks) override {}
  std::stop_token cycle_token() const override { return {}; }
  bool leading() const override { return true; }
  void release() override {}
  bool elects() const override { return false; }
  bool healthy(MonoTime) const override { return true; }
  std::string describe() const override { return "leader (leader election off)"; }
  std::uint64_t transitions() const override { return 0; }
  bool duplicate_identity() const override { return false; }
};

}  // namespace orc
