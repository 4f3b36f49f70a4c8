// The events API client: POST (create) and PATCH (a repeat's count) of core/v1 Events in the
// Pod's namespace, over the HttpClient interface, as the daemon's service account
// (kube_request.h: the token re-read for every request, redacted, never shown).
#pragma once

#include <filesystem>
#include <string>

#include "base/duration.h"
#include "kube/event.h"
#include "net/http.h"

namespace orc {

// What the recorder needs of the API: an interface so that its tests run on a fake.
class EventApi {
 public:
  virtual ~EventApi() = default;
  // POST a new Event `record` (its name included).
  virtual EventReply create(const EventRecord& record, Millis timeout) = 0;
  // PATCH the stored Event `record.name`: count, lastTimestamp and message.
  virtual EventReply patch(const EventRecord& record, Millis timeout) = 0;
};

struct EventEndpoint {
  std::string api_server;  // https://host:port, no trailing slash
  std::filesystem::path token_file;
};

// ".../api/v1/namespaces/NS/events" (and "/NAME" for one Event).
std::string events_url(const EventEndpoint& endpoint, const std::string& ns);
std::string event_url(const EventEndpoint& endpoint, const std::string& ns,
                      const std::string& name);

class EventClient final : public EventApi {
 public:
  EventClient(HttpClient& http, EventEndpoint endpoint, EventSource source)
      : http_(http), endpoint_(std::move(endpoint)), source_(std::move(source)) {}

  EventReply create(const EventRecord& record, Millis timeout) override;
  EventReply patch(const EventRecord& record, Millis timeout) override;

  const EventSource& source() const { return source_; }

 private:
  EventReply send(const char* method, const std::string& url, const std::string& body,
                  const char* content_type, Millis timeout);

  HttpClient& http_;
  EventEndpoint endpoint_;
  EventSource source_;
};

}  // namespace orc
