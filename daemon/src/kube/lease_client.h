// The Lease API client: GET, POST and PUT of one coordination.k8s.io/v1 Lease over the
// HttpClient interface. The bearer token is read from its file on every request (projected
// service account tokens rotate) and never appears in a message.
#pragma once

#include <filesystem>
#include <string>

#include "base/duration.h"
#include "base/status.h"
#include "kube/kube_request.h"
#include "kube/lease.h"
#include "net/http.h"

namespace orc {

// The Lease a 200/201 answer holds, or why there is none.
using LeaseReply = StatusOr<Lease, KubeError>;

// What the elector needs of the API: an interface so that its tests run on a fake.
class LeaseApi {
 public:
  virtual ~LeaseApi() = default;
  virtual LeaseReply get() = 0;
  virtual LeaseReply create(const LeaseRecord& record) = 0;
  // PUT `current` (with its resourceVersion) holding `record`.
  virtual LeaseReply update(const Lease& current, const LeaseRecord& record) = 0;
};

struct LeaseEndpoint {
  std::string api_server;  // https://host:port, no trailing slash
  std::string ns;
  std::string name;
  std::filesystem::path token_file;
};

// ".../apis/coordination.k8s.io/v1/namespaces/NS/leases" (and "/NAME" for one Lease).
std::string leases_url(const LeaseEndpoint& endpoint);
std::string lease_url(const LeaseEndpoint& endpoint);

// Interprets one answer of the Lease API (pure).
LeaseReply interpret_lease_answer(const HttpResponse& response);

class LeaseClient final : public LeaseApi {
 public:
  LeaseClient(HttpClient& http, LeaseEndpoint endpoint, Millis request_timeout)
      : http_(http), endpoint_(std::move(endpoint)), timeout_(request_timeout) {}

  LeaseReply get() override;
  LeaseReply create(const LeaseRecord& record) override;
  LeaseReply update(const Lease& current, const LeaseRecord& record) override;

  const LeaseEndpoint& endpoint() const { return endpoint_; }
  // The time each later request may take (not thread-safe: set while no request runs).
  void set_request_timeout(Millis timeout) { timeout_ = timeout; }

 private:
  LeaseReply send(const char* method, const std::string& url, const std::string& body);

  HttpClient& http_;
  LeaseEndpoint endpoint_;
  Millis timeout_;
};

}  // namespace orc
