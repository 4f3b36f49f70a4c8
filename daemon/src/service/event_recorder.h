// Kubernetes Events sent on a thread of their own, so that the reconcile loop never waits for
// the Kubernetes API (client-go's event broadcaster and recorder are the model):
//
// - record() puts a note on a bounded queue and returns at once; a full queue drops the note
//   (counted as queue_full).
// - The thread takes notes in order, runs them through client-go's correlator
//   (kube/event_correlator.h: combined, deduplicated, spam-filtered: rate_limited) and sends
//   each as a POST (a new Event) or a PATCH (a repeat: count + 1, lastTimestamp). A PATCH of an
//   Event the API server no longer has (404: Events expire) creates it again; a POST of a name
//   it has already (409: an earlier answer was lost) patches it. No answer, 429 and 5xx are
//   tried again, `attempts` times in all, waiting `retry_wait` and then twice as long each
//   time; anything else is given up at once. An Event given up is counted (failed) and logged
//   at warning level, at most once per `warning_interval` (the next warning says how many
//   more there were). Nothing here ever fails a cycle.
// - close() (at shutdown) stops taking notes and sends what is queued for at most
//   `close_grace`, each request limited to the grace left; then a request still in flight is
//   aborted (on_close) and whatever is left is dropped, with one log line. stop_by() (at the
//   stop request) sets a time nothing is sent after, however the rest of the shutdown goes, so
//   that Events never stretch the shutdown past what the daemon promises.
//
// Every wait is on the injected Sleeper (the thread's idle wait is cut short by record()), so
// tests run it on simulated time.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/duration.h"
#include "kube/event.h"
#include "kube/event_client.h"
#include "kube/event_correlator.h"
#include "service/daemon.h"
#include "status/metrics.h"

namespace orc {

struct EventRecorderLimits {
  std::size_t queue_capacity = 256;
  Millis request_timeout{5000};
  int attempts = 3;
  Millis retry_wait{1000};
  Millis close_grace{1000};
  Millis warning_interval{60000};
  CorrelatorLimits correlator;
};

class EventRecorder {
 public:
  // `pod` prefixes the Events' names (kube/event.h event_name).
  EventRecorder(EventApi& api, std::string pod, const Clock& clock, Sleeper& sleeper,
                EventRecorderLimits limits = {});
  ~EventRecorder();  // close()
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Starts the sending thread (once).
  void start(ThreadStarter& threads);
  // Queues one Event; never blocks. Thread-safe. Ignored after close().
  void record(EventNote note);
  // Sends what is queued for at most close_grace (and not after stop_by's time), then stops
  // the thread. Idempotent.
  void close();
  // Nothing is sent after `deadline` (requests end by it, waits past it are not waited);
  // notes are still taken until close(). Thread-safe; the earliest deadline given holds.
  void stop_by(MonoTime deadline);
  // How close() aborts a request still in flight when the grace is over (the HTTP client's
  // abort). Set before start().
  void on_close(std::function<void()> abort);

  EventCounts counts() const;

 private:
  void run();
  void deliver(const EventNote& note);
  // How long the next request may take: request_timeout, or while closing the grace left
  // (nullopt once it is over).
  std::optional<Millis> next_timeout();
  void count_failure(const EventRecord& record, const std::string& error);

  EventApi& api_;
  const Clock& clock_;
  Sleeper& sleeper_;
  const EventRecorderLimits limits_;
  EventCorrelator correlator_;  // the thread's alone

  mutable std::mutex mu_;
  std::deque<EventNote> queue_;             // mu_
  EventCounts counts_;                      // mu_
  std::stop_source wake_;                   // mu_: stopped when a note is queued or at close
  bool closing_ = false;                    // mu_
  std::optional<MonoTime> close_deadline_;  // mu_: close_grace, or stop_by's if earlier
  std::optional<MonoTime> stop_by_;         // mu_
  std::size_t dropped_at_close_ = 0;        // mu_
  std::stop_source stop_waits_;             // close(): a retry's wait ends at once
  std::stop_source done_;                   // stopped when the thread's loop has ended
  std::function<void()> abort_;
  std::jthread thread_;
  // The thread's: warnings about Events given up.
  std::optional<MonoTime> last_warning_;
  std::size_t unwarned_ = 0;
};

}  // namespace orc
