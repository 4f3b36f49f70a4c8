// The daemon's own HTTP endpoint: GET /metrics (Prometheus text format, serialized by
// prometheus-cpp) and GET /healthz. Served by cpp-httplib on one background thread pool.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace orc {

struct HealthAnswer {
  bool healthy = false;
  std::string body;  // a short JSON document for people and probes
};

class StatusServer {
 public:
  StatusServer(std::function<std::string()> metrics, std::function<HealthAnswer()> health);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Binds (port 0 picks a free one) and starts serving; returns the bound port. Throws
  // std::runtime_error naming the address when it cannot bind.
  int start(const std::string& host, int port);
  void stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listener_done_{false};
};

}  // namespace orc
