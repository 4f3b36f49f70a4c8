#include "status/http_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "status/http_request.h"
#include "status/listen_socket.h"

namespace orc {

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr int kAcceptsPerTurn = 64;  // then serve the connections we have before more
constexpr auto kMaxPollWait = std::chrono::milliseconds(1000);
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

struct Connection {
  enum class Phase { kReading, kAwaitingMetrics, kWriting };
  int fd = -1;
  Phase phase = Phase::kReading;
  std::string in;
  std::string out;  // what is being sent: a whole answer, or the head of a shared body
  // /metrics: one serialization's text, shared by every client it answers (sent after `out`),
  // so that a client that takes its answer slowly holds a reference, not a copy.
  std::shared_ptr<const std::string> shared_body;
  std::size_t sent = 0;
  bool close_after = false;
  MonoTime deadline{};
  MonoTime last_active{};  // the oldest idle connection is the first to go when full
};

// Serializes /metrics on its own thread, once per scrape generation: the requests waiting
// when a serialization starts and those that arrive while it runs all get its text (data
// collected a moment before the latest of them arrived), so that a burst of scrapes costs one
// serialization and one copy of the text, however many clients take part.
class MetricsSerializer {
 public:
  using Done = std::function<void(std::vector<std::uint64_t>, std::shared_ptr<std::string>)>;
  MetricsSerializer(std::function<std::string()> metrics, Done done)
      : metrics_(std::move(metrics)), done_(std::move(done)), thread_([this] { run(); }) {}
  ~MetricsSerializer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void request(std::uint64_t id) {
    {
      std::lock_guard lock(mu_);
      waiting_.push_back(id);
    }
    cv_.notify_all();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      std::vector<std::uint64_t> ids;
      ids.swap(waiting_);
      lock.unlock();
      std::shared_ptr<std::string> text;  // null: serializing failed
      try {
        text = std::make_shared<std::string>(metrics_());
      } catch (const std::exception&) {
        text.reset();
      }
      lock.lock();
      ids.insert(ids.end(), waiting_.begin(), waiting_.end());  // arrived meanwhile
      waiting_.clear();
      lock.unlock();
      done_(std::move(ids), std::move(text));
      lock.lock();
    }
  }

  std::function<std::string()> metrics_;
  Done done_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::uint64_t> waiting_;
  std::thread thread_;  // last: starts once the rest exists
};

}  // namespace

struct StatusServer::Impl {
  Impl(std::function<std::string()> m, std::function<HealthAnswer()> h, const Clock& c,
       StatusServerLimits l)
      : metrics(std::move(m)), health(std::move(h)), clock(c), limits(l) {}

  void loop();
  // One turn of the loop: what to poll (the wake and listening sockets first, then one entry a
  // connection, whose id goes to `ids`), and when the next connection deadline falls.
  MonoTime poll_set(std::vector<pollfd>& fds, std::vector<std::uint64_t>& ids) const;
  void serve_ready(const std::vector<pollfd>& fds, const std::vector<std::uint64_t>& ids,
                   MonoTime now);
  void drop_closed_and_expired(MonoTime now);
  void accept_new(MonoTime now);
  void evict_oldest_idle();
  void on_readable(std::uint64_t id, Connection& c, MonoTime now);
  void on_writable(Connection& c, MonoTime now);
  void serve_buffered(std::uint64_t id, Connection& c, MonoTime now);
  void serve_one(std::uint64_t id, Connection& c, MonoTime now);
  void respond(Connection& c, std::string response, bool keep_alive, MonoTime now);
  void take_metrics_results(MonoTime now);
  void close_connection(std::uint64_t id);
  static void drop(Connection& c);
  void wake();

  std::function<std::string()> metrics;
  std::function<HealthAnswer()> health;
  const Clock& clock;
  const StatusServerLimits limits;

  int listen_fd = -1;
  int wake_fd = -1;
  std::atomic<bool> stopping{false};
  std::map<std::uint64_t, Connection> connections;  // by id: ids outlive closed descriptors
  std::uint64_t next_id = 1;

  std::mutex results_mu;
  std::deque<std::pair<std::vector<std::uint64_t>, std::shared_ptr<std::string>>> results;
  std::unique_ptr<MetricsSerializer> serializer;
  std::thread thread;
};

StatusServer::StatusServer(std::function<std::string()> metrics,
                           std::function<HealthAnswer()> health, const Clock& clock,
                           StatusServerLimits limits)
    : impl_(std::make_unique<Impl>(std::move(metrics), std::move(health), clock, limits)) {}

StatusServer::~StatusServer() {
  stop();
}

int StatusServer::start(const std::string& host, int port) {
  const ListeningSocket socket = listen_on(host, port);
  Impl& s = *impl_;
  s.listen_fd = socket.fd;
  s.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.wake_fd < 0) {
    ::close(s.listen_fd);
    throw ListenError("cannot listen on " + format_host_port(host, port) + ": no eventfd");
  }
  s.serializer = std::make_unique<MetricsSerializer>(
      s.metrics, [&s](std::vector<std::uint64_t> ids, std::shared_ptr<std::string> text) {
        {
          std::lock_guard lock(s.results_mu);
          s.results.emplace_back(std::move(ids), std::move(text));
        }
        s.wake();
      });
  s.thread = std::thread([&s] { s.loop(); });
  return socket.port;
}

void StatusServer::stop() {
  Impl& s = *impl_;
  if (!s.thread.joinable()) return;
  s.stopping = true;
  s.wake();
  s.thread.join();
  s.serializer.reset();
  for (auto& [id, c] : s.connections) ::close(c.fd);
  s.connections.clear();
  ::close(s.listen_fd);
  ::close(s.wake_fd);
  s.listen_fd = s.wake_fd = -1;
}

void StatusServer::Impl::wake() {
  const std::uint64_t one = 1;
  (void)!::write(wake_fd, &one, sizeof(one));
}

void StatusServer::Impl::loop() {
  std::vector<pollfd> fds;
  std::vector<std::uint64_t> ids;  // ids[i] for fds[i + 2]
  while (!stopping) {
    const MonoTime next_deadline = poll_set(fds, ids);
    const auto wait =
        std::chrono::ceil<std::chrono::milliseconds>(next_deadline - clock.monotonic());
    const int ready =
        ::poll(fds.data(), fds.size(),
               static_cast<int>(std::max<long long>(0, static_cast<long long>(wait.count()))));
    if (ready < 0 && errno != EINTR) break;
    const MonoTime now = clock.monotonic();

    if (fds[0].revents & POLLIN) {
      std::uint64_t drained = 0;
      (void)!::read(wake_fd, &drained, sizeof(drained));
    }
    try {
      take_metrics_results(now);
    } catch (const std::exception&) {
      // Out of memory: the scrapes still waiting time out (their deadline) and close.
    }
    serve_ready(fds, ids, now);
    drop_closed_and_expired(now);
    try {
      if (fds[1].revents & POLLIN) accept_new(now);
    } catch (const std::exception&) {
      // Out of memory: the pending connections wait in the backlog for the next turn.
    }
  }
}

MonoTime StatusServer::Impl::poll_set(std::vector<pollfd>& fds,
                                      std::vector<std::uint64_t>& ids) const {
  fds.clear();
  ids.clear();
  fds.push_back({wake_fd, POLLIN, 0});
  fds.push_back({listen_fd, POLLIN, 0});
  MonoTime next_deadline = clock.monotonic() + kMaxPollWait;
  for (const auto& [id, c] : connections) {
    short events = 0;
    if (c.phase == Connection::Phase::kReading) events = POLLIN;
    if (c.phase == Connection::Phase::kWriting) events = POLLOUT;
    fds.push_back({c.fd, events, 0});
    ids.push_back(id);
    next_deadline = std::min(next_deadline, c.deadline);
  }
  return next_deadline;
}

void StatusServer::Impl::serve_ready(const std::vector<pollfd>& fds,
                                     const std::vector<std::uint64_t>& ids, MonoTime now) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const short revents = fds[i + 2].revents;
    if (revents == 0) continue;
    auto it = connections.find(ids[i]);
    if (it == connections.end()) continue;
    Connection& c = it->second;
    try {
      if ((revents & (POLLERR | POLLNVAL)) ||
          (c.phase == Connection::Phase::kAwaitingMetrics && (revents & POLLHUP))) {
        drop(c);
      } else if (c.phase == Connection::Phase::kReading && (revents & (POLLIN | POLLHUP))) {
        on_readable(ids[i], c, now);
      } else if (c.phase == Connection::Phase::kWriting && (revents & (POLLOUT | POLLHUP))) {
        on_writable(c, now);
        serve_buffered(ids[i], c, now);  // a request sent before this answer was taken
      }
    } catch (const std::exception&) {
      drop(c);  // out of memory, or /healthz failed: this connection, not the server
    }
  }
}

// Closed ones go; so do those past their deadline: a head that does not arrive, an answer the
// client does not take, or metrics that take too long to serialize.
void StatusServer::Impl::drop_closed_and_expired(MonoTime now) {
  for (auto it = connections.begin(); it != connections.end();) {
    Connection& c = it->second;
    if (c.deadline <= now) drop(c);
    it = c.fd < 0 ? connections.erase(it) : std::next(it);
  }
}

void StatusServer::Impl::accept_new(MonoTime now) {
  for (int n = 0; n < kAcceptsPerTurn; ++n) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: none left; EMFILE and the like: try again next turn
    if (connections.size() >= limits.max_connections) evict_oldest_idle();
    if (connections.size() >= limits.max_connections) {
      ::close(fd);  // every connection is busy answering: refuse this one
      continue;
    }
    // A client that does not take its answer leaves at most this much queued in the kernel
    // (left alone, Linux lets a send buffer grow to 4 MiB: 157 MB for 40 idle scrapers).
    const int send_buffer = static_cast<int>(limits.send_buffer_bytes);
    if (send_buffer > 0) {
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
    }
    Connection c;
    c.fd = fd;
    c.deadline = now + limits.request_timeout;
    c.last_active = now;
    connections.emplace(next_id++, std::move(c));
  }
}

void StatusServer::Impl::evict_oldest_idle() {
  auto oldest = connections.end();
  for (auto it = connections.begin(); it != connections.end(); ++it) {
    if (it->second.phase != Connection::Phase::kReading) continue;
    if (oldest == connections.end() || it->second.last_active < oldest->second.last_active) {
      oldest = it;
    }
  }
  if (oldest != connections.end()) close_connection(oldest->first);
}

void StatusServer::Impl::on_readable(std::uint64_t id, Connection& c, MonoTime now) {
  char buf[kReadChunk];
  const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    drop(c);
    return;
  }
  if (n < 0) return;
  c.in.append(buf, static_cast<std::size_t>(n));
  c.last_active = now;
  serve_buffered(id, c, now);
}

// Answers the requests at the start of c.in whose heads have arrived, one at a time: until
// one has to wait (for /metrics, or for the client to take an answer) or the rest is partial.
void StatusServer::Impl::serve_buffered(std::uint64_t id, Connection& c, MonoTime now) {
  while (c.fd >= 0 && c.phase == Connection::Phase::kReading && !c.in.empty()) {
    const std::size_t before = c.in.size();
    serve_one(id, c, now);
    if (c.in.size() == before) return;  // incomplete
  }
}

void StatusServer::Impl::serve_one(std::uint64_t id, Connection& c, MonoTime now) {
  const ParsedRequest parsed = parse_request_head(c.in, limits.max_head_bytes);
  if (parsed.state == ParsedRequest::State::kIncomplete) return;
  if (parsed.state == ParsedRequest::State::kBad) {
    c.in.clear();
    respond(
        c, format_response(parsed.status, "text/plain; charset=utf-8", parsed.reason + "\n", false),
        false, now);
    return;
  }
  const RequestHead& head = parsed.head;
  c.in.erase(0, head.length);
  if (head.method != "GET") {
    respond(c,
            format_response(405, "text/plain; charset=utf-8", "only GET\n", head.keep_alive,
                            {{"Allow", "GET"}}),
            head.keep_alive, now);
  } else if (head.path == "/healthz") {
    const HealthAnswer answer = health();
    respond(c,
            format_response(answer.healthy ? 200 : 503, "application/json", answer.body,
                            head.keep_alive),
            head.keep_alive, now);
  } else if (head.path == "/metrics") {
    c.phase = Connection::Phase::kAwaitingMetrics;
    c.deadline = now + limits.write_timeout;  // a serializer stuck that long: give up
    c.close_after = !head.keep_alive;
    serializer->request(id);
  } else {
    respond(c, format_response(404, "text/plain; charset=utf-8", "not found\n", head.keep_alive),
            head.keep_alive, now);
  }
}

void StatusServer::Impl::respond(Connection& c, std::string response, bool keep_alive,
                                 MonoTime now) {
  c.out = std::move(response);
  c.sent = 0;
  c.close_after = !keep_alive;
  c.phase = Connection::Phase::kWriting;
  c.deadline = now + limits.write_timeout;
  on_writable(c, now);  // most answers fit the socket buffer at once
}

void StatusServer::Impl::on_writable(Connection& c, MonoTime now) {
  if (c.phase != Connection::Phase::kWriting) return;
  const std::size_t head = c.out.size();
  const std::size_t total = head + (c.shared_body ? c.shared_body->size() : 0);
  while (c.sent < total) {
    const char* from =
        c.sent < head ? c.out.data() + c.sent : c.shared_body->data() + (c.sent - head);
    const std::size_t left = c.sent < head ? head - c.sent : total - c.sent;
    const ssize_t n = ::send(c.fd, from, left, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // wait for POLLOUT
    if (n <= 0) {
      c.close_after = true;
      c.sent = total;
      break;
    }
    c.sent += static_cast<std::size_t>(n);
  }
  std::string().swap(c.out);
  c.shared_body.reset();
  c.sent = 0;
  if (c.close_after) {
    drop(c);
    return;
  }
  c.phase = Connection::Phase::kReading;
  c.deadline = now + limits.request_timeout;
  c.last_active = now;
}

void StatusServer::Impl::take_metrics_results(MonoTime now) {
  std::deque<std::pair<std::vector<std::uint64_t>, std::shared_ptr<std::string>>> done;
  {
    std::lock_guard lock(results_mu);
    done.swap(results);
  }
  for (const auto& [waiting, text] : done) {
    for (const std::uint64_t id : waiting) {
      auto it = connections.find(id);
      if (it == connections.end()) continue;
      Connection& c = it->second;
      const bool keep_alive = !c.close_after;
      if (text) {
        c.shared_body = text;  // one copy for every client of this serialization
        respond(c, format_response_head(200, kMetricsType, text->size(), keep_alive), keep_alive,
                now);
      } else {
        respond(c, format_response(500, "text/plain; charset=utf-8", "metrics failed\n", false),
                false, now);
      }
      serve_buffered(id, c, now);
    }
  }
}

// Closes the descriptor; the loop removes the entry (fd < 0) at the end of its turn.
void StatusServer::Impl::drop(Connection& c) {
  if (c.fd < 0) return;
  ::shutdown(c.fd, SHUT_RDWR);
  ::close(c.fd);
  c.fd = -1;
}

void StatusServer::Impl::close_connection(std::uint64_t id) {
  auto it = connections.find(id);
  if (it == connections.end()) return;
  if (it->second.fd >= 0) ::close(it->second.fd);
  connections.erase(it);
}

}  // namespace orc
