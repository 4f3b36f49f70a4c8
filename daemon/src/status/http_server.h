// The daemon's own HTTP endpoint: GET /metrics (Prometheus text format) and GET /healthz.
//
// One thread runs a poll() loop over every connection, so a slow or idle client costs a
// file descriptor and a few bytes, never a thread: /healthz keeps answering while clients
// trickle bytes (slow loris), hold thousands of idle connections, or while /metrics is being
// serialized (that happens on a second thread, off the loop). Bounds:
//   - a request head of at most max_head_bytes, received within request_timeout of the
//     connection opening (or of the previous answer on a kept-alive connection);
//   - no request bodies: a Content-Length other than 0 or a Transfer-Encoding is refused
//     (413) and the connection closed, without reading the body;
//   - an answer must be taken by the client within write_timeout (and /metrics serialized
//     within it too);
//   - at most max_connections at once; a new one beyond that closes the connection that has
//     been waiting longest for a request (the oldest idle one);
//   - a connection's kernel send buffer is send_buffer_bytes (the kernel doubles it for its
//     bookkeeping), so an answer a client does not take pins that much socket memory;
//   - /metrics is serialized once for every scrape waiting or arriving while it runs, and
//     the text is shared by the connections it answers.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"

namespace orc {

struct HealthAnswer {
  bool healthy = false;
  std::string body;  // a short JSON document for people and probes
};

struct StatusServerLimits {
  std::size_t max_connections = 256;
  std::size_t max_head_bytes = 8192;
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  // SO_SNDBUF of each connection; 0 leaves the kernel's default (which grows to 4 MiB).
  std::size_t send_buffer_bytes = 64 * 1024;
};

class StatusServer {
 public:
  // `metrics` runs on the server's serializer thread, `health` on its loop thread; both may
  // run while the daemon's own threads work. `clock` times the connections' deadlines.
  StatusServer(std::function<std::string()> metrics, std::function<HealthAnswer()> health,
               const Clock& clock, StatusServerLimits limits = {});
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Binds (port 0 picks a free one) and starts serving; returns the bound port. Throws
  // ListenError (listen_socket.h) naming the address and the reason when it cannot bind.
  int start(const std::string& host, int port);
  // Closes the listener and every connection; waits for both threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orc
