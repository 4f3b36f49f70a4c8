#include "kube/lease_client.h"

#include "kube/kube_request.h"

namespace orc {

std::string leases_url(const LeaseEndpoint& e) {
  return e.api_server + "/apis/coordination.k8s.io/v1/namespaces/" + e.ns + "/leases";
}

std::string lease_url(const LeaseEndpoint& e) {
  return leases_url(e) + "/" + e.name;
}

LeaseReply interpret_lease_answer(const HttpResponse& response) {
  if (response.status != 200 && response.status != 201) return kube_error(response);
  auto lease = parse_lease(response.body);
  if (!lease.ok()) {
    return KubeError{KubeError::Kind::kFailed,
                     "HTTP " + std::to_string(response.status) + ": " + lease.error().message};
  }
  return std::move(*lease);
}

LeaseReply LeaseClient::send(const char* method, const std::string& url, const std::string& body) {
  auto response = send_kube_request(http_, endpoint_.token_file, method, url, body,
                                    "application/json", timeout_);
  if (!response.ok()) return KubeError{KubeError::Kind::kFailed, response.error().message};
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
