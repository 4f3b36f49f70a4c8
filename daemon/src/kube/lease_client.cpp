#include "kube/lease_client.h"

#include "base/redact.h"
#include "base/source_text.h"
#include "base/text.h"

namespace orc {

namespace {

constexpr std::size_t kMaxTokenBytes = 64u << 10;

}  // namespace

std::string leases_url(const LeaseEndpoint& e) {
  return e.api_server + "/apis/coordination.k8s.io/v1/namespaces/" + e.ns + "/leases";
}

std::string lease_url(const LeaseEndpoint& e) {
  return leases_url(e) + "/" + e.name;
}

LeaseReply interpret_lease_answer(const HttpResponse& response) {
  LeaseReply reply;
  if (response.status == 0) {
    reply.error =
        "no answer from the API server: " +
        redact(response.transport_error.empty() ? "transport error" : response.transport_error);
    return reply;
  }
  if (response.status == 200 || response.status == 201) {
    if (auto lease = parse_lease(response.body); lease.ok()) {
      reply.outcome = LeaseOutcome::kOk;
      reply.lease = std::move(*lease);
    } else {
      reply.error = "HTTP " + std::to_string(response.status) + ": " + lease.error().message;
    }
    return reply;
  }
  if (response.status == 404) reply.outcome = LeaseOutcome::kNotFound;
  if (response.status == 409) reply.outcome = LeaseOutcome::kConflict;
  reply.error = "HTTP " + std::to_string(response.status) + ": " + status_message(response.body);
  return reply;
}

LeaseReply LeaseClient::send(const char* method, const std::string& url, const std::string& body) {
  const auto content = read_file(endpoint_.token_file, kMaxTokenBytes);
  if (!content.ok()) {
    LeaseReply reply;
    reply.error = "cannot read the token file " + endpoint_.token_file.string() + ": " +
                  content.error().message;
    return reply;
  }
  const std::string token(trim_space(content->text));
  for (const char c : token) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      LeaseReply reply;
      reply.error = "the token in " + endpoint_.token_file.string() +
                    " contains control characters (not shown)";
      return reply;
    }
  }
  if (token.empty()) {
    LeaseReply reply;
    reply.error = "the token file " + endpoint_.token_file.string() + " is empty";
    return reply;
  }
  // Registered before it is sent: an answer (or a transport error) quoting it is redacted
  // wherever it is shown, like the Cloudflare credentials.
  add_redacted_secret(token);
  HttpRequest request{method, url, {}, body};
  request.headers.emplace_back("Authorization", "Bearer " + token);
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("User-Agent", std::string("origin-reconciler/") + ORC_VERSION);
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  return interpret_lease_answer(http_.perform(request, timeout_));
}

LeaseReply LeaseClient::get() {
  return send("GET", lease_url(endpoint_), {});
}

LeaseReply LeaseClient::create(const LeaseRecord& record) {
  return send("POST", leases_url(endpoint_), new_lease_body(endpoint_.ns, endpoint_.name, record));
}

LeaseReply LeaseClient::update(const Lease& current, const LeaseRecord& record) {
  return send("PUT", lease_url(endpoint_), updated_lease_body(current, record));
}

}  // namespace orc
