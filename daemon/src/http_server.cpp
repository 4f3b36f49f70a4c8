#include "http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <stdexcept>

namespace orc {

StatusServer::StatusServer(std::function<std::string()> metrics,
                           std::function<HealthAnswer()> health)
    : server_(std::make_unique<httplib::Server>()) {
  server_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [health](const httplib::Request&, httplib::Response& res) {
    const HealthAnswer answer = health();
    res.status = answer.healthy ? 200 : 503;
    res.set_content(answer.body, "application/json");
  });
  // httplib's default also sets SO_REUSEPORT, which would let a second daemon bind the same
  // port silently and take half of the scrapes. SO_REUSEADDR alone: restarts still rebind.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->set_keep_alive_max_count(100);
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
}

StatusServer::~StatusServer() {
  stop();
}

int StatusServer::start(const std::string& host, int port) {
  const int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) +
                             " (address in use, or not an address of this host)");
  }
  listener_done_ = false;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listener_done_ = true;
  });
  // cpp-httplib's stop() is a no-op until the listener thread has marked the server running,
  // so a stop right after start would leave that thread (and its join) waiting forever.
  while (!server_->is_running() && !listener_done_) std::this_thread::yield();
  return bound;
}

void StatusServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace orc
