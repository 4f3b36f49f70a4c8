// One request to the Kubernetes API server as the daemon's service account: the bearer token
// read from its file for every request (projected service account tokens rotate), registered
// with base/redact before it is sent (an answer or a transport error quoting it is redacted
// wherever it is shown), and never part of a message. The Lease client and the Event client
// both send through it.
#pragma once

#include <filesystem>
#include <string>

#include "base/duration.h"
#include "base/status.h"
#include "net/http.h"

namespace orc {

// Why the API server did not give the object asked for: `kind` is what a caller acts on (a
// Lease to create, a write another replica won, an Event that expired), `message` what
// happened, printable and never the token.
struct KubeError {
  enum class Kind {
    kNotFound,  // 404: no such object
    kConflict,  // 409: someone else wrote it first (a stale resourceVersion, or it exists)
    kFailed,    // no answer, another status, or an answer that is not the object
  };
  Kind kind = Kind::kFailed;
  std::string message;
  bool retryable = false;  // no answer, 429 or 5xx: the same request may succeed later

  bool is(Kind k) const { return kind == k; }
};

// The error an answer other than 200/201 stands for (status 0: no answer at all):
// "HTTP 409: Conflict: ..." or "no answer from the API server: ...".
KubeError kube_error(const HttpResponse& response);

// Sends `method` `url` with `body` (Content-Type `content_type` when there is a body) and the
// token of `token_file`. An Error, with nothing sent, when the token cannot be read, is empty
// or holds control characters (the message names the file, never the token).
StatusOr<HttpResponse> send_kube_request(HttpClient& http, const std::filesystem::path& token_file,
                                         const std::string& method, const std::string& url,
                                         const std::string& body, const std::string& content_type,
                                         Millis timeout);

}  // namespace orc
