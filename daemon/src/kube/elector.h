// Leader election on a Lease, as client-go's tools/leaderelection does it, as a state machine
// driven by the caller (one attempt per call) on an injected clock:
//
//  - GET the Lease; 404: create it (POST) holding it.
//  - Held by another identity and not expired: not ours, try again after retry_period.
//    Expiry is judged like client-go: from the local monotonic time at which this instance
//    last saw the record change, plus the record's leaseDurationSeconds, never by comparing
//    another host's timestamps with our clock.
//  - Held by our identity but not written by this process (another replica configured with the
//    same identity, or what a previous run of this one left behind): someone else's, as above.
//    Ours means the record this process last wrote (its resourceVersion as answered, or the
//    record itself when the answer was lost), so two replicas sharing an identity never both
//    lead. When such a record changes while we watch, a live process renews it: a duplicate
//    identity (Attempt::duplicate_identity).
//  - Expired, released (no holder) or ours: PUT it with the resourceVersion read, so that a
//    concurrent writer gets 409 Conflict and loses. leaseTransitions goes up when the holder
//    changes; acquireTime is kept while we keep it.
//
// Leading is judged at the moment of asking: until renew_deadline after the start of the
// last successful acquire or renewal (measured from when that request was sent, so a slow
// answer shortens the lead rather than lengthening it). Not thread-safe: one caller.
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "base/duration.h"
#include "base/status.h"
#include "kube/lease_client.h"

namespace orc {

struct ElectorSettings {
  std::string identity;
  Millis lease_duration{15000};  // whole seconds: written as leaseDurationSeconds
  Millis renew_deadline{10000};
  Millis retry_period{2000};
};

struct Attempt {
  enum class Kind {
    kLeading,   // acquired or renewed: we hold the Lease
    kHeld,      // another identity holds it and it has not expired
    kConflict,  // someone else wrote it first (409): try again
    kFailed,    // no usable answer
  };
  Kind kind = Kind::kFailed;
  std::string holder;     // kHeld: who
  std::string error;      // kConflict, kFailed: what happened
  bool acquired = false;  // kLeading: the holder changed to us (not a renewal)
  // kHeld: the holder has our identity and another process keeps renewing the Lease under it.
  bool duplicate_identity = false;
};

class Elector {
 public:
  Elector(LeaseApi& api, const Clock& clock, ElectorSettings settings)
      : api_(api), clock_(clock), settings_(std::move(settings)) {}

  // One round of client-go's tryAcquireOrRenew.
  Attempt try_acquire_or_renew();

  // Gives the Lease up (holderIdentity cleared, leaseDurationSeconds 1, like client-go's
  // ReleaseOnCancel) when the last record seen was written by this process. Stops leading before it
  // sends. An Error saying what happened when the update failed (the Lease then expires on its
  // own).
  Status release();

  bool leading_at(MonoTime now) const { return deadline_ && now < *deadline_; }
  // The end of the lead as it stands (last successful renewal's start + renew_deadline).
  std::optional<MonoTime> leading_until() const { return deadline_; }
  // The holder named by the last record seen ("" when none was seen or it was released).
  std::string observed_holder() const { return observed_ ? observed_->record.holder_identity : ""; }
  std::optional<LeaseRecord> observed_record() const {
    return observed_ ? std::optional<LeaseRecord>(observed_->record) : std::nullopt;
  }
  const ElectorSettings& settings() const { return settings_; }

 private:
  Attempt failed(const KubeError& error);
  void observe(const Lease& lease, MonoTime at);
  // After a create or update of `sent`: remembers what this process wrote.
  void wrote(const LeaseRecord& sent, const LeaseReply& reply);
  // The attempt a create or update of `sent` (begun at `started`) makes: leading until the
  // renew deadline when it was accepted, `acquired` when the Lease was not ours before.
  Attempt after_write(const LeaseRecord& sent, const LeaseReply& reply, MonoTime started,
                      bool acquired);
  // The record as read was written by this process (its last write).
  bool written_here(const Lease& lease) const;

  LeaseApi& api_;
  const Clock& clock_;
  ElectorSettings settings_;
  std::optional<Lease> observed_;  // the last Lease seen
  MonoTime observed_time_{};       // when its record was first seen as it is
  std::optional<MonoTime> deadline_;
  std::string written_version_;            // resourceVersion answered to our last write
  std::optional<LeaseRecord> unanswered_;  // our last write, when its answer was lost
  bool duplicate_ = false;                 // the last attempt saw a duplicate identity
};

}  // namespace orc
