#include "kube/kube_request.h"

#include "base/redact.h"
#include "base/source_text.h"
#include "base/text.h"
#include "kube/lease.h"

namespace orc {

namespace {

constexpr std::size_t kMaxTokenBytes = 64u << 10;

}  // namespace

StatusOr<HttpResponse> send_kube_request(HttpClient& http, const std::filesystem::path& token_file,
                                         const std::string& method, const std::string& url,
                                         const std::string& body, const std::string& content_type,
                                         Millis timeout) {
  const auto content = read_file(token_file, kMaxTokenBytes);
  if (!content.ok()) {
    return Error{"cannot read the token file " + token_file.string() + ": " +
                 content.error().message};
  }
  const std::string token(trim_space(content->text));
  for (const char c : token) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error{"the token in " + token_file.string() +
                   " contains control characters (not shown)"};
    }
  }
  if (token.empty()) return Error{"the token file " + token_file.string() + " is empty"};
  // Registered before it is sent: an answer (or a transport error) quoting it is redacted
  // wherever it is shown, like the Cloudflare credentials.
  add_redacted_secret(token);
  HttpRequest request{method, url, {}, body};
  request.headers.emplace_back("Authorization", "Bearer " + token);
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("User-Agent", std::string("origin-reconciler/") + ORC_VERSION);
  if (!body.empty()) request.headers.emplace_back("Content-Type", content_type);
  return http.perform(request, timeout);
}

KubeError kube_error(const HttpResponse& response) {
  KubeError e;
  if (response.status == 0) {
    e.retryable = !response.too_large;  // an answer too large would be too large again
    e.message =
        "no answer from the API server: " +
        redact(response.transport_error.empty() ? "transport error" : response.transport_error);
    return e;
  }
  if (response.status == 404) e.kind = KubeError::Kind::kNotFound;
  if (response.status == 409) e.kind = KubeError::Kind::kConflict;
  e.retryable = response.status == 429 || response.status >= 500;
  e.message = "HTTP " + std::to_string(response.status) + ": " + status_message(response.body);
  return e;
}

}  // namespace orc
