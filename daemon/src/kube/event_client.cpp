#include "kube/event_client.h"

#include "kube/kube_request.h"

namespace orc {

std::string events_url(const EventEndpoint& e, const std::string& ns) {
  return e.api_server + "/api/v1/namespaces/" + ns + "/events";
}

std::string event_url(const EventEndpoint& e, const std::string& ns, const std::string& name) {
  return events_url(e, ns) + "/" + name;
}

EventReply EventClient::send(const char* method, const std::string& url, const std::string& body,
                             const char* content_type, Millis timeout) {
  auto response =
      send_kube_request(http_, endpoint_.token_file, method, url, body, content_type, timeout);
  if (!response.ok()) return KubeError{KubeError::Kind::kFailed, response.error().message};
  return interpret_event_answer(*response);
}

EventReply EventClient::create(const EventRecord& record, Millis timeout) {
  return send("POST", events_url(endpoint_, source_.ns), new_event_body(source_, record),
              "application/json", timeout);
}

EventReply EventClient::patch(const EventRecord& record, Millis timeout) {
  return send("PATCH", event_url(endpoint_, source_.ns, record.name), event_patch_body(record),
              kEventPatchType, timeout);
}

}  // namespace orc
