#include "service/lease_leadership.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/redact.h"

namespace orc {

namespace {

std::int64_t ns_of(MonoTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

LeaseLeadership::LeaseLeadership(LeaseApi& api, ElectorSettings settings, std::string lease_label,
                                 const Clock& clock, Sleeper& waits)
    : elector_(api, clock, std::move(settings)),
      label_(std::move(lease_label)),
      clock_(clock),
      waits_(waits),
      contact_ns_(ns_of(clock.monotonic())) {
  cycle_.request_stop();  // no term yet
}

LeaseLeadership::~LeaseLeadership() {
  if (thread_.joinable()) {
    interrupt_waits_.request_stop();
    thread_.join();
  }
}

void LeaseLeadership::start() {
  std::lock_guard lock(mu_);
  if (started_ || released_) return;
  started_ = true;
  spdlog::info(
      "leader election: lease {} as '{}' (lease_duration {}, renew_deadline {}, retry_period {})",
      label_, elector_.settings().identity, format_duration(elector_.settings().lease_duration),
      format_duration(elector_.settings().renew_deadline),
      format_duration(elector_.settings().retry_period));
  thread_ = std::jthread([this] {
    const std::stop_token stop = interrupt_waits_.get_token();
    while (!stop.stop_requested()) {
      if (!waits_.sleep_for(step(), stop)) break;
    }
    thread_done_.request_stop();
  });
}

void LeaseLeadership::on_release(std::function<void()> abort, std::function<void(Millis)> limit) {
  std::lock_guard lock(mu_);
  abort_requests_ = std::move(abort);
  limit_requests_ = std::move(limit);
}

void LeaseLeadership::start(LeadershipCallbacks callbacks) {
  {
    std::lock_guard lock(mu_);
    callbacks_ = std::move(callbacks);
  }
  start();
}

void LeaseLeadership::lose(const std::string& why, const std::string& status) {
  deadline_ns_ = 0;
  leader_ = false;
  std::function<void()> notify;
  {
    std::lock_guard lock(mu_);
    cycle_.request_stop();
    status_ = status;
    last_standby_log_.clear();
    notify = callbacks_.on_stopped_leading;
  }
  spdlog::warn("lost leadership: {}; no further Cloudflare request, standing by", why);
  changed_.notify_all();
  if (notify) notify();
}

Millis LeaseLeadership::step() {
  const ElectorSettings& s = elector_.settings();
  if (leader_ && !elector_.leading_at(clock_.monotonic())) {
    lose("the lease was not renewed within renew_deadline (" + format_duration(s.renew_deadline) +
         ")");
  }
  const Attempt attempt = elector_.try_acquire_or_renew();
  const MonoTime now = clock_.monotonic();
  if (attempt.kind != Attempt::Kind::kFailed) contact_ns_ = ns_of(now);
  if (attempt.kind != Attempt::Kind::kFailed && attempt.kind != Attempt::Kind::kConflict) {
    duplicate_ = attempt.duplicate_identity;
  }

  if (attempt.kind == Attempt::Kind::kLeading) {
    deadline_ns_ = ns_of(*elector_.leading_until());
    if (!leader_ && elector_.leading_at(now)) become_leader();
  } else if (leader_) {
    renewal_failed(attempt, now);
  } else {
    stand_by(attempt);
  }

  if (leader_) {
    // Renew every retry_period, and look again when the lead would end without a renewal.
    const auto left = std::chrono::duration_cast<Millis>(*elector_.leading_until() - now);
    return std::clamp(left, Millis{1}, s.retry_period);
  }
  return s.retry_period;
}

void LeaseLeadership::become_leader() {
  leader_ = true;
  ++transitions_;
  std::function<void()> notify;
  {
    std::lock_guard lock(mu_);
    cycle_ = std::stop_source();
    status_ = "leader";
    last_standby_log_.clear();
    notify = callbacks_.on_started_leading;
  }
  const auto record = elector_.observed_record();
  spdlog::info("became leader: lease {} held by '{}' (lease transitions {})", label_,
               elector_.settings().identity, record ? record->lease_transitions : 0);
  changed_.notify_all();
  if (notify) notify();
}

void LeaseLeadership::renewal_failed(const Attempt& attempt, MonoTime now) {
  if (attempt.kind == Attempt::Kind::kHeld && attempt.duplicate_identity) {
    spdlog::error(
        "duplicate identity: another process wrote lease {} as '{}', this replica's "
        "leader_election.identity; identities must be unique per replica",
        label_, redact(attempt.holder, 256));
    lose("lease " + label_ + " is now held by another process as '" + redact(attempt.holder, 256) +
             "'",
         "standby: lease held by " + redact(attempt.holder, 256) +
             " (another process with this identity renews it)");
  } else if (attempt.kind == Attempt::Kind::kHeld) {
    lose("lease " + label_ + " is now held by '" + redact(attempt.holder, 256) + "'",
         "standby: lease held by " + redact(attempt.holder, 256));
  } else if (!elector_.leading_at(now)) {
    lose("the lease was not renewed within renew_deadline (" +
         format_duration(elector_.settings().renew_deadline) + "): " + attempt.error);
  } else {
    spdlog::warn(
        "renewing lease {} failed: {}; still leader for {} unless a renewal succeeds", label_,
        attempt.error,
        format_duration(std::chrono::duration_cast<Millis>(*elector_.leading_until() - now)));
  }
}

void LeaseLeadership::stand_by(const Attempt& attempt) {
  std::string why;
  if (attempt.kind == Attempt::Kind::kHeld && attempt.duplicate_identity) {
    why = "lease held by " + redact(attempt.holder, 256) +
          " (another process with this identity renews it)";
  } else if (attempt.kind == Attempt::Kind::kHeld) {
    why = "lease held by " + redact(attempt.holder, 256);
  } else if (attempt.kind == Attempt::Kind::kConflict) {
    why = "another replica wrote lease " + label_ + " first (" + attempt.error + ")";
  } else {
    why = "cannot reach the lease " + label_ + ": " + attempt.error;
  }
  bool log = false;
  {
    std::lock_guard lock(mu_);
    status_ = "standby: " + why;
    if (why != last_standby_log_) {  // each reason once, not every retry_period
      last_standby_log_ = why;
      log = true;
    }
  }
  if (!log) return;
  if (attempt.duplicate_identity) {
    spdlog::error(
        "duplicate identity: another process keeps renewing lease {} as '{}', this replica's "
        "leader_election.identity; identities must be unique per replica (set it from the pod "
        "name or leave it empty); standing by while the other holds it",
        label_, redact(elector_.settings().identity, 256));
  } else if (attempt.kind == Attempt::Kind::kFailed) {
    spdlog::warn("standing by: {}; trying again every {}", why,
                 format_duration(elector_.settings().retry_period));
  } else {
    spdlog::info("standing by: {}", why);
  }
}

bool LeaseLeadership::await_leading(std::stop_token stop) {
  start();  // a loop that knows only the Leadership interface starts the elector here
  std::unique_lock lock(mu_);
  changed_.wait(lock, stop, [&] { return leading(); });
  return !stop.stop_requested() && leading();
}

std::stop_token LeaseLeadership::cycle_token() const {
  std::lock_guard lock(mu_);
  return cycle_.get_token();
}

bool LeaseLeadership::leading() const {
  return ns_of(clock_.monotonic()) < deadline_ns_.load();
}

void LeaseLeadership::release() {
  {
    std::lock_guard lock(mu_);
    if (released_) return;
    released_ = true;  // no start() after this
  }
  bool aborted = false;
  if (thread_.joinable()) {
    interrupt_waits_.request_stop();
    // A request in flight may hang on an API server that stalls: it gets kReleaseGrace, then
    // it is aborted, so that the shutdown keeps its time limit.
    if (abort_requests_ && !thread_done_.stop_requested() &&
        waits_.sleep_for(kReleaseGrace, thread_done_.get_token())) {
      abort_requests_();
      aborted = true;
    }
    thread_.join();
  }
  const bool was = leader_;
  deadline_ns_ = 0;
  leader_ = false;
  {
    std::lock_guard lock(mu_);
    cycle_.request_stop();
    status_ = "standby: released";
  }
  changed_.notify_all();
  if (aborted) {
    if (was) {
      spdlog::warn(
          "could not release lease {}: the API server did not answer within {}; another "
          "replica takes over once it expires",
          label_, format_duration(kReleaseGrace));
    }
    return;
  }
  if (limit_requests_) limit_requests_(kReleaseGrace);
  if (const Status released = elector_.release(); released.ok()) {
    if (was) spdlog::info("released lease {}: another replica can take over now", label_);
  } else {
    spdlog::warn("could not release lease {}: {}; another replica takes over once it expires",
                 label_, released.error().message);
  }
}

bool LeaseLeadership::healthy(MonoTime now) const {
  const auto limit =
      std::chrono::duration_cast<std::chrono::nanoseconds>(elector_.settings().lease_duration * 4)
          .count();
  return ns_of(now) - contact_ns_.load() <= limit;
}

std::string LeaseLeadership::describe() const {
  if (leading()) return "leader";
  std::lock_guard lock(mu_);
  return status_ == "leader" ? "standby: lost leadership" : status_;
}

LeaseRuntime::LeaseRuntime(const LeaseSettings& settings)
    : http(clock, kLeaseAnswerBounds.max_bytes, abort_requests.get_token(),
           settings.ca_file.string()),
      api(http, settings.endpoint, settings.elector.renew_deadline),
      leadership(api, settings.elector, settings.endpoint.ns + "/" + settings.endpoint.name, clock,
                 waits) {
  const Millis usual = settings.elector.renew_deadline;
  leadership.on_release(
      [this] { abort_requests.request_stop(); },
      [this, usual](Millis limit) { api.set_request_timeout(std::min(limit, usual)); });
}

}  // namespace orc
