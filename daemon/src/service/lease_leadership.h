// Leadership on a Kubernetes Lease: the elector (kube/elector.h) run on its own thread, one
// attempt every retry_period, and what the rest of the daemon asks of it (leadership.h).
//
// Logs: "became leader", "lost leadership: <why>", "standing by: lease held by <who>", and an
// error when another process renews the Lease under this replica's identity.
// leading() is judged on the clock at the moment of asking, so a request path that checks it
// sends nothing once renew_deadline has passed since the last renewal, whatever the thread
// is doing (it may be stuck in a request to an unreachable API server).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "base/clock.h"
#include "kube/elector.h"
#include "kube/lease_client.h"
#include "kube/lease_settings.h"
#include "net/curl_http.h"
#include "service/leadership.h"

namespace orc {

class LeaseLeadership final : public Leadership {
 public:
  // `waits` paces the thread; release() cuts its wait short.
  // `lease_label` names the Lease in logs ("namespace/name").
  LeaseLeadership(LeaseApi& api, ElectorSettings settings, std::string lease_label,
                  const Clock& clock, Sleeper& waits);
  ~LeaseLeadership() override;

  // Starts the thread (one attempt at once, then every retry_period). Idempotent;
  // await_leading() calls it too. Nothing starts after release().
  void start();
  void start(LeadershipCallbacks callbacks) override;
  // One attempt and its consequences (logs, role, cycle token); returns how long to wait
  // before the next. The thread calls it; tests call it directly.
  Millis step();

  // Blocks until this instance leads, or until `stop` is requested (false).
  bool await_leading(std::stop_token stop);
  std::stop_token cycle_token() const override;
  bool leading() const override;
  // Stops the thread, then gives the Lease up if this instance holds it. Bounded in time
  // whatever the API server does: a request in flight gets kReleaseGrace to finish before it
  // is aborted (then nothing more is sent: the Lease expires on its own), and the release
  // itself kReleaseGrace to be answered.
  void release() override;
  static constexpr Millis kReleaseGrace{2000};
  // How release() cuts the API requests short: `abort` ends a request in flight (and every
  // later one), `limit` caps the time of the next ones. Without them, release() waits for
  // requests as they are (tests on a fake API).
  void on_release(std::function<void()> abort, std::function<void(Millis)> limit);

  bool elects() const override { return true; }
  // False once the API server has not answered usefully for lease_duration x 4.
  bool healthy(MonoTime now) const override;
  // "leader" or "standby: lease held by X" (or why it cannot tell).
  std::string describe() const override;
  std::uint64_t transitions() const override { return transitions_.load(); }
  bool duplicate_identity() const override { return duplicate_.load(); }

 private:
  void lose(const std::string& why, const std::string& status = "standby: lost leadership");
  // What one attempt's outcome does: to a standby that now leads, to a leader whose renewal
  // failed, and to a standby that still does not lead.
  void become_leader();
  void renewal_failed(const Attempt& attempt, MonoTime now);
  void stand_by(const Attempt& attempt);

  Elector elector_;
  const std::string label_;
  const Clock& clock_;
  Sleeper& waits_;
  std::stop_source interrupt_waits_;  // stopped by release() and the destructor

  std::atomic<std::int64_t> deadline_ns_{0};   // monotonic; leading while now < this
  std::atomic<std::int64_t> contact_ns_;       // last useful answer from the API server
  std::atomic<std::uint64_t> transitions_{0};  // times this instance became leader
  std::atomic<bool> duplicate_{false};         // the last attempt saw our identity renewed
  bool leader_ = false;                        // the role as the thread last decided it

  mutable std::mutex mu_;
  std::condition_variable_any changed_;
  std::stop_source cycle_;          // mu_: stopped when a term ends
  std::string status_ = "standby";  // mu_
  std::string last_standby_log_;    // mu_: not repeated while it says the same
  LeadershipCallbacks callbacks_;
  std::function<void()> abort_requests_;
  std::function<void(Millis)> limit_requests_;
  std::stop_source thread_done_;  // stopped when the thread's loop ends
  std::jthread thread_;
  bool started_ = false;   // mu_
  bool released_ = false;  // mu_
};

// The real thing: libcurl verifying the API server against ca_file, the Lease client, the
// system clock and a stop signal for the elector's thread. Requests time out after
// renew_deadline (a renewal answered later than that is too late anyway).
struct LeaseRuntime {
  explicit LeaseRuntime(const LeaseSettings& settings);
  SystemClock clock;
  SystemSleeper waits;
  std::stop_source abort_requests;  // release(): a request the API server does not answer
  CurlHttpClient http;
  LeaseClient api;
  LeaseLeadership leadership;
};

}  // namespace orc
