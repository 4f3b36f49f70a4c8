#include "kube/event.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "base/json_bounds.h"
#include "base/rfc3339.h"
#include "kube/lease.h"

namespace orc {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxName = 253;

// An Event answer is a few kB, like a Lease: read with the same bounds.
constexpr JsonBounds kEventAnswerBounds = kLeaseAnswerBounds;

std::string timestamp(WallTime t) {
  return format_utc(t);  // metav1.Time: RFC 3339, whole seconds, UTC
}

}  // namespace

std::string_view to_string(EventType type) {
  return enum_name(kEventTypeNames, type);
}

std::string event_name(std::string_view pod, std::uint64_t unix_nanos) {
  char hex[24];
  std::snprintf(hex, sizeof(hex), ".%llx", static_cast<unsigned long long>(unix_nanos));
  const std::string suffix(hex);
  std::string head(pod.substr(0, std::min(pod.size(), kMaxName - suffix.size())));
  while (!head.empty() && (head.back() == '-' || head.back() == '.')) head.pop_back();
  return head + suffix;
}

std::string new_event_body(const EventSource& source, const EventRecord& record) {
  json involved = {
      {"apiVersion", "v1"}, {"kind", "Pod"}, {"namespace", source.ns}, {"name", source.pod}};
  if (!source.pod_uid.empty()) involved["uid"] = source.pod_uid;
  const json doc = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", record.name}, {"namespace", source.ns}}},
      {"involvedObject", std::move(involved)},
      {"type", std::string(to_string(record.note.type))},
      {"reason", record.note.reason},
      {"message", record.note.message},
      {"source", {{"component", source.component}}},
      {"reportingComponent", source.component},
      {"reportingInstance", source.pod},
      {"count", record.count},
      {"firstTimestamp", timestamp(record.first_timestamp)},
      {"lastTimestamp", timestamp(record.last_timestamp)},
  };
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string event_patch_body(const EventRecord& record) {
  const json doc = {{"count", record.count},
                    {"lastTimestamp", timestamp(record.last_timestamp)},
                    {"message", record.note.message}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

EventReply interpret_event_answer(const HttpResponse& response) {
  if (response.status != 200 && response.status != 201) return kube_error(response);
  json doc(json::value_t::discarded);
  if (check_json_bounds(response.body, kEventAnswerBounds).ok()) {
    doc = json::parse(response.body, nullptr, false);
  }
  const auto field = [&](const json& obj, const char* key) -> const json* {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  };
  const json* kind = field(doc, "kind");
  const json* meta = field(doc, "metadata");
  const json* name = meta != nullptr ? field(*meta, "name") : nullptr;
  const json* count = field(doc, "count");
  if (kind == nullptr || !kind->is_string() || *kind != "Event" || name == nullptr ||
      !name->is_string() || name->get<std::string>().empty()) {
    return KubeError{KubeError::Kind::kFailed,
                     "HTTP " + std::to_string(response.status) + ": the answer is not an Event"};
  }
  return StoredEvent{name->get<std::string>(),
                     count != nullptr && count->is_number_integer() ? count->get<long long>() : 0};
}

}  // namespace orc
