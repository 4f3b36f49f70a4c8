// Zone outcomes as Kubernetes Events on the daemon's own Pod (README "Kubernetes Events"):
// which outcomes matter and what their Events say (pure), and the sink the loop reports to.
//
// | outcome                               | type    | reason           |
// | changes sent (creates, updates, deletes) | Normal  | ZoneApplied      |
// | the safety guard blocked the zone     | Warning | ZoneBlocked      |
// | a desired-state change held           | Warning | DesiredStateHeld |
// | the zone failed                       | Warning | ZoneFailed       |
// | the zone is suspended                 | Normal  | ZoneSuspended    |
// A zone in line with nothing to do, a dry run, and a zone cut short by a stop before it sent
// anything record nothing (nothing happened; the next cycle or leader reconciles it); a zone
// cut short after it sent changes records ZoneApplied for what it sent, saying it was cut
// short.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "kube/event.h"
#include "kube/event_client.h"
#include "kube/lease_settings.h"
#include "net/curl_http.h"
#include "service/daemon.h"
#include "service/event_recorder.h"
#include "service/outcome_sink.h"

namespace orc {

inline constexpr const char* kReasonApplied = "ZoneApplied";
inline constexpr const char* kReasonBlocked = "ZoneBlocked";
inline constexpr const char* kReasonHeld = "DesiredStateHeld";
inline constexpr const char* kReasonFailed = "ZoneFailed";
inline constexpr const char* kReasonSuspended = "ZoneSuspended";

// The Event a zone's reconcile deserves, or none. Messages carry no times or durations, so the
// same outcome in the next cycle is the same Event (deduplicated: its count goes up).
std::optional<EventNote> zone_event(const ZoneReport& report);
// One Event per zone a held desired-state change would shrink.
std::vector<EventNote> held_events(const std::vector<ZoneShrink>& shrinks, Millis confirm_period);

// The sink: each note to the recorder, never blocking. Held changes are recorded only while
// `leading()` (every replica watches the file; the leader is the one that acts on it).
class ZoneEvents final : public OutcomeSink {
 public:
  ZoneEvents(EventRecorder& recorder, std::function<bool()> leading)
      : recorder_(recorder), leading_(std::move(leading)) {}
  void on_zone_done(const ZoneReport& report) override;
  void on_change_held(const std::vector<ZoneShrink>& shrinks, Millis confirm_period) override;
  EventCounts event_counts() const override { return recorder_.counts(); }

 private:
  EventRecorder& recorder_;
  std::function<bool()> leading_;
};

// The real thing: libcurl verifying the API server against ca_file, the events client, the
// recorder on its own thread, and the sink. The recorder is closed (within its grace) when
// this is destroyed, or earlier with close().
struct EventsRuntime {
  EventsRuntime(const EventSettings& settings, std::function<bool()> leading);
  ~EventsRuntime();
  void close() { recorder.close(); }
  // At the stop request: no Event is sent after `deadline`.
  void stop_by(MonoTime deadline) { recorder.stop_by(deadline); }

  SystemClock clock;
  SystemSleeper sleeper;
  SystemThreads threads;
  std::stop_source abort_requests;  // close(): a request the API server does not answer
  CurlHttpClient http;
  EventClient api;
  EventRecorder recorder;
  ZoneEvents sink;
};

}  // namespace orc
