#include "kube/lease_client.h"

#include "base/redact.h"
#include "kube/kube_request.h"

namespace orc {

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
  auto response = send_kube_request(http_, endpoint_.token_file, method, url, body,
                                    "application/json", timeout_);
  if (!response.ok()) {
    LeaseReply reply;
    reply.error = response.error().message;
    return reply;
  }
  return interpret_lease_answer(*response);
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
