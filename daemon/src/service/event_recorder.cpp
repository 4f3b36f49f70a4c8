#include "service/event_recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace orc {

namespace {

// The thread's wait while nothing is queued; record() and close() cut it short.
constexpr Millis kIdleWait = std::chrono::hours(1);

}  // namespace

EventRecorder::EventRecorder(EventApi& api, std::string pod, const Clock& clock, Sleeper& sleeper,
                             EventRecorderLimits limits)
    : api_(api),
      clock_(clock),
      sleeper_(sleeper),
      limits_(limits),
      correlator_(std::move(pod), limits.correlator) {}

EventRecorder::~EventRecorder() {
  close();
}

void EventRecorder::start(ThreadStarter& threads) {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || closing_) return;
  thread_ = threads.start([this] { run(); });
}

void EventRecorder::on_close(std::function<void()> abort) {
  abort_ = std::move(abort);
}

void EventRecorder::record(EventNote note) {
  std::lock_guard lock(mu_);
  if (closing_) return;
  if (queue_.size() >= limits_.queue_capacity) {
    ++counts_.queue_full;
    return;
  }
  queue_.push_back(std::move(note));
  wake_.request_stop();
}

EventCounts EventRecorder::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void EventRecorder::run() {
  for (;;) {
    std::optional<EventNote> next;
    std::stop_token woken_by;
    {
      std::lock_guard lock(mu_);
      if (closing_ && !queue_.empty() && clock_.monotonic() >= *close_deadline_) {
        dropped_at_close_ += queue_.size();
        queue_.clear();
      }
      if (!queue_.empty()) {
        next = std::move(queue_.front());
        queue_.pop_front();
      } else if (closing_) {
        break;
      } else {
        if (wake_.stop_requested()) wake_ = std::stop_source();  // the last wake-up was seen
        woken_by = wake_.get_token();
      }
    }
    if (next) {
      deliver(*next);
    } else {
      sleeper_.sleep_for(kIdleWait, woken_by);
    }
  }
  done_.request_stop();
}

std::optional<Millis> EventRecorder::next_timeout() {
  std::lock_guard lock(mu_);
  const std::optional<MonoTime> end = closing_ ? close_deadline_ : stop_by_;
  if (!end) return limits_.request_timeout;
  const auto left = std::chrono::duration_cast<Millis>(*end - clock_.monotonic());
  if (left <= Millis(0)) return std::nullopt;
  return std::min(limits_.request_timeout, left);
}

void EventRecorder::stop_by(MonoTime deadline) {
  std::lock_guard lock(mu_);
  if (!stop_by_ || deadline < *stop_by_) stop_by_ = deadline;
  if (closing_ && *stop_by_ < *close_deadline_) close_deadline_ = stop_by_;
}

void EventRecorder::deliver(const EventNote& note) {
  Correlated c = correlator_.correlate(note, clock_.monotonic(), clock_.wall());
  if (c.skip) {
    spdlog::debug(
        "event {} not recorded: the events budget is spent ({} at once, then one every "
        "{:.0f}s); its count is carried by the next one recorded",
        c.record.note.reason, limits_.correlator.spam_burst,
        1.0 / limits_.correlator.spam_per_second);
    std::lock_guard lock(mu_);
    ++counts_.rate_limited;
    return;
  }
  Millis wait = limits_.retry_wait;
  EventReply reply = KubeError{};  // each attempt's answer; the last one says why it failed
  for (int attempt = 1;; ++attempt) {
    auto timeout = next_timeout();
    if (!timeout) {
      std::lock_guard lock(mu_);
      ++dropped_at_close_;
      if (!c.patch) correlator_.not_stored(c.key);
      return;
    }
    reply = c.patch ? api_.patch(c.record, *timeout) : api_.create(c.record, *timeout);
    // The API server no longer has it (Events expire): create it again, with the count so
    // far. Or it has it already (the answer to an earlier create was lost): patch it.
    const bool gone = c.patch && !reply.ok() && reply.error().is(KubeError::Kind::kNotFound);
    const bool there = !c.patch && !reply.ok() && reply.error().is(KubeError::Kind::kConflict);
    if ((gone || there) && (timeout = next_timeout())) {
      c.patch = there;
      reply = c.patch ? api_.patch(c.record, *timeout) : api_.create(c.record, *timeout);
    }
    if (reply.ok()) {
      correlator_.stored(c.key, reply->name);
      std::lock_guard lock(mu_);
      ++(c.patch ? counts_.patched : counts_.created);
      return;
    }
    if (!reply.error().retryable || attempt >= limits_.attempts) break;
    if (const auto left = next_timeout(); !left || *left <= wait) break;  // no time for it
    if (!sleeper_.sleep_for(wait, stop_waits_.get_token())) break;        // closing
    wait *= 2;
  }
  if (!c.patch) correlator_.not_stored(c.key);
  {
    // Cut short by the shutdown (its grace over, the transfer aborted): one line at close says
    // how many were not recorded, rather than a warning about each.
    std::lock_guard lock(mu_);
    if (closing_) {
      ++dropped_at_close_;
      return;
    }
  }
  count_failure(c.record, reply.error().message);
}

void EventRecorder::count_failure(const EventRecord& record, const std::string& error) {
  {
    std::lock_guard lock(mu_);
    ++counts_.failed;
  }
  const MonoTime now = clock_.monotonic();
  if (last_warning_ && now - *last_warning_ < limits_.warning_interval) {
    ++unwarned_;
    return;
  }
  const std::string more = unwarned_ == 0
                               ? ""
                               : " (and " + std::to_string(unwarned_) +
                                     " more events not recorded since the last such warning)";
  spdlog::warn(
      "kubernetes event {} {} not recorded: {}{}; reconciling is not affected (events not "
      "recorded: origin_reconciler_events_dropped_total)",
      record.note.reason, record.name, error, more);
  last_warning_ = now;
  unwarned_ = 0;
}

void EventRecorder::close() {
  Millis grace{0};
  {
    std::lock_guard lock(mu_);
    if (closing_) return;
    closing_ = true;
    close_deadline_ = clock_.monotonic() + limits_.close_grace;
    if (stop_by_ && *stop_by_ < *close_deadline_) close_deadline_ = stop_by_;
    grace = std::max(Millis(0),
                     std::chrono::duration_cast<Millis>(*close_deadline_ - clock_.monotonic()));
    wake_.request_stop();
    if (!thread_.joinable()) return;
  }
  stop_waits_.request_stop();
  // The thread sends what is queued within the grace; a request it is still waiting on then is
  // aborted, so that a stalled API server cannot hold the shutdown.
  if (sleeper_.sleep_for(grace, done_.get_token()) && abort_) abort_();
  thread_.join();
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    dropped = dropped_at_close_ + queue_.size();
    queue_.clear();
  }
  if (dropped > 0) {
    spdlog::info("shutdown: {} kubernetes events not recorded (no time left to send them)",
                 dropped);
  }
}

}  // namespace orc
