#include "kube/elector.h"

namespace orc {

Attempt Elector::failed(const LeaseReply& reply) {
  Attempt a;
  a.kind =
      reply.outcome == LeaseOutcome::kConflict ? Attempt::Kind::kConflict : Attempt::Kind::kFailed;
  a.error = reply.error;
  return a;
}

void Elector::observe(const Lease& lease, MonoTime at) {
  if (!observed_ || observed_->record != lease.record) observed_time_ = at;
  observed_ = lease;
}

Attempt Elector::try_acquire_or_renew() {
  const MonoTime started = clock_.monotonic();
  const std::string now = format_micro_time(clock_.wall());
  LeaseRecord mine;
  mine.holder_identity = settings_.identity;
  mine.lease_duration_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(settings_.lease_duration).count();
  mine.acquire_time = now;
  mine.renew_time = now;

  const LeaseReply got = api_.get();
  if (got.outcome == LeaseOutcome::kNotFound) {
    const LeaseReply created = api_.create(mine);
    if (created.outcome != LeaseOutcome::kOk) return failed(created);
    observe(created.lease, clock_.monotonic());
    deadline_ = started + settings_.renew_deadline;
    Attempt a;
    a.kind = Attempt::Kind::kLeading;
    a.acquired = true;
    return a;
  }
  if (got.outcome != LeaseOutcome::kOk) return failed(got);

  observe(got.lease, clock_.monotonic());
  const LeaseRecord& old = got.lease.record;
  const bool ours = old.holder_identity == settings_.identity;
  if (!old.holder_identity.empty() && !ours &&
      observed_time_ + std::chrono::seconds(old.lease_duration_seconds) > clock_.monotonic()) {
    deadline_.reset();  // whatever we thought: someone else holds it now
    Attempt a;
    a.kind = Attempt::Kind::kHeld;
    a.holder = old.holder_identity;
    return a;
  }
  if (ours) {
    mine.acquire_time = old.acquire_time.empty() ? now : old.acquire_time;
    mine.lease_transitions = old.lease_transitions;
  } else {
    mine.lease_transitions = old.lease_transitions + 1;
  }
  const LeaseReply updated = api_.update(got.lease, mine);
  if (updated.outcome != LeaseOutcome::kOk) return failed(updated);
  observe(updated.lease, clock_.monotonic());
  deadline_ = started + settings_.renew_deadline;
  Attempt a;
  a.kind = Attempt::Kind::kLeading;
  a.acquired = !ours;
  return a;
}

Status Elector::release() {
  deadline_.reset();
  if (!observed_ || observed_->record.holder_identity != settings_.identity) return ok_status();
  const std::string now = format_micro_time(clock_.wall());
  LeaseRecord released;
  released.lease_duration_seconds = 1;
  released.acquire_time = now;
  released.renew_time = now;
  released.lease_transitions = observed_->record.lease_transitions;
  const LeaseReply reply = api_.update(*observed_, released);
  if (reply.outcome != LeaseOutcome::kOk) return Error{reply.error};
  observe(reply.lease, clock_.monotonic());
  return ok_status();
}

}  // namespace orc
