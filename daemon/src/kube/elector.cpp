#include "kube/elector.h"

namespace orc {

Attempt Elector::failed(const KubeError& error) {
  Attempt a;
  a.kind = error.is(KubeError::Kind::kConflict) ? Attempt::Kind::kConflict : Attempt::Kind::kFailed;
  a.error = error.message;
  return a;
}

void Elector::observe(const Lease& lease, MonoTime at) {
  if (!observed_ || observed_->record != lease.record) observed_time_ = at;
  observed_ = lease;
}

void Elector::wrote(const LeaseRecord& sent, const LeaseReply& reply) {
  if (reply.ok()) {
    written_version_ = reply->resource_version;
    unanswered_.reset();
  } else if (reply.error().is(KubeError::Kind::kFailed)) {
    // No usable answer: the write may or may not have been applied. A record equal to it is
    // ours (its renewTime, to the microsecond, is this process's).
    unanswered_ = sent;
  }
  // 404/409: refused, nothing written.
}

bool Elector::written_here(const Lease& lease) const {
  if (!written_version_.empty() && lease.resource_version == written_version_) return true;
  return unanswered_ && lease.record == *unanswered_;
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
  if (!got.ok() && got.error().is(KubeError::Kind::kNotFound)) {
    return after_write(mine, api_.create(mine), started, true);
  }
  if (!got.ok()) return failed(got.error());

  const bool seen_before = observed_.has_value();
  const bool changed = seen_before && observed_->record != got->record;
  observe(*got, clock_.monotonic());
  const LeaseRecord& old = got->record;
  const bool same_identity = old.holder_identity == settings_.identity;
  const bool ours = same_identity && written_here(*got);
  if (!old.holder_identity.empty() && !ours &&
      observed_time_ + std::chrono::seconds(old.lease_duration_seconds) > clock_.monotonic()) {
    deadline_.reset();  // whatever we thought: someone else holds it now
    Attempt a;
    a.kind = Attempt::Kind::kHeld;
    a.holder = old.holder_identity;
    // Renewed under our name by someone else since we last looked: a live duplicate (a record
    // left by an earlier run of this replica does not change; it just expires).
    a.duplicate_identity = same_identity && (changed || duplicate_);
    duplicate_ = a.duplicate_identity;
    return a;
  }
  duplicate_ = false;
  if (ours) {
    mine.acquire_time = old.acquire_time.empty() ? now : old.acquire_time;
    mine.lease_transitions = old.lease_transitions;
  } else {
    mine.lease_transitions = old.lease_transitions + 1;
  }
  return after_write(mine, api_.update(*got, mine), started, !ours);
}

Attempt Elector::after_write(const LeaseRecord& sent, const LeaseReply& reply, MonoTime started,
                             bool acquired) {
  wrote(sent, reply);
  if (!reply.ok()) return failed(reply.error());
  observe(*reply, clock_.monotonic());
  deadline_ = started + settings_.renew_deadline;
  Attempt a;
  a.kind = Attempt::Kind::kLeading;
  a.acquired = acquired;
  return a;
}

Status Elector::release() {
  deadline_.reset();
  if (!observed_ || observed_->record.holder_identity != settings_.identity ||
      !written_here(*observed_)) {
    return ok_status();  // not ours to give up (another process may hold it under our name)
  }
  const std::string now = format_micro_time(clock_.wall());
  LeaseRecord released;
  released.lease_duration_seconds = 1;
  released.acquire_time = now;
  released.renew_time = now;
  released.lease_transitions = observed_->record.lease_transitions;
  const LeaseReply reply = api_.update(*observed_, released);
  wrote(released, reply);
  if (!reply.ok()) return Error{reply.error().message};
  observe(*reply, clock_.monotonic());
  return ok_status();
}

}  // namespace orc
