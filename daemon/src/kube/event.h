// core/v1 Events as client-go's event recorder (tools/record) writes them: what one Event
// says, the object it is about (this daemon's own Pod), its JSON bodies for POST (create) and
// PATCH (a repeat: count and lastTimestamp), and the answers of the events API. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/enum_names.h"
#include "base/status.h"
#include "kube/kube_request.h"
#include "net/http.h"

namespace orc {

enum class EventType { kNormal, kWarning };
inline constexpr auto kEventTypeNames = enum_names<EventType>("Normal", "Warning");
std::string_view to_string(EventType type);  // "Normal" | "Warning"

// What one Event says. `reason` is short and UpperCamelCase (ZoneApplied, ZoneBlocked, ...),
// for people filtering with kubectl; `message` is for reading, at most kEventMessageMax bytes.
struct EventNote {
  EventType type = EventType::kNormal;
  std::string reason;
  std::string message;
  friend bool operator==(const EventNote&, const EventNote&) = default;
};

// The longest message sent (the API server's limit on an Event's note); longer ones are cut.
inline constexpr std::size_t kEventMessageMax = 1024;

// Who reports, and the object every Event is about: the Pod the daemon runs in
// (involvedObject), in whose namespace the Events are stored.
struct EventSource {
  std::string ns;       // the Pod's namespace
  std::string pod;      // the Pod's name (a DNS-1123 subdomain)
  std::string pod_uid;  // metadata.uid, "" when unknown (kubectl describe pod matches on it)
  std::string component = "origin-reconciler";  // source.component, reportingComponent
};

// One Event as it is sent: its note, its name and its counts.
struct EventRecord {
  std::string name;
  EventNote note;
  long long count = 1;  // occurrences so far
  WallTime first_timestamp{};
  WallTime last_timestamp{};
};

// client-go's name: "<pod>.<unix nanoseconds in hex>", the Pod part cut so that the whole stays
// within the 253 characters of a DNS-1123 subdomain (a cut that leaves a '-' or '.' at its end
// drops those too).
std::string event_name(std::string_view pod, std::uint64_t unix_nanos);

// POST body of a new Event (namespace, involvedObject, source, reportingComponent and
// reportingInstance from `source`; timestamps as RFC 3339 in whole seconds, as metav1.Time).
std::string new_event_body(const EventSource& source, const EventRecord& record);
// PATCH body, a strategic merge patch as client-go sends for a repeat: count, lastTimestamp
// and message (message: a combined event carries the latest one).
std::string event_patch_body(const EventRecord& record);
// Content-Type of the PATCH body.
inline constexpr const char* kEventPatchType = "application/strategic-merge-patch+json";

// What the API server stored: the Event's name and count.
struct StoredEvent {
  std::string name;
  long long count = 0;
};

// The stored Event a 200/201 answer describes, or why there is none (a 404 to a patch: the
// Event expired, the API server keeps them an hour by default; a 409 to a create: it exists).
using EventReply = StatusOr<StoredEvent, KubeError>;

// Interprets one answer of the events API (a create or a patch).
EventReply interpret_event_answer(const HttpResponse& response);

}  // namespace orc
