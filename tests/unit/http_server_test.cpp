// The status server over loopback: routes, refusals, keep-alive and pipelining, the
// connection cap, deadlines (on a fake clock), /healthz while /metrics is busy, and bind
// errors that name the address and the reason.
#include "status/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "fakes.h"
#include "status/listen_socket.h"
#include "thrown_message.h"

namespace orc {
namespace {

using testing::FakeClock;

// A blocking loopback client socket with a receive timeout, so a broken server fails the
// test instead of hanging it.
class Client {
 public:
  // `receive_buffer`: SO_RCVBUF, for a client that takes little; 0 leaves the default.
  explicit Client(int port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& text) { (void)!::send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }
  // Reads until `responses` complete answers (by Content-Length) arrived, or EOF/timeout.
  std::string receive(int responses = 1) {
    std::string got;
    char buf[4096];
    while (complete_answers(got) < responses) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
  // What one recv() brings (at most 4 KiB): the start of an answer.
  std::string receive_some() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
  // True once the server has closed the connection (EOF or reset) within the timeout.
  bool closed_by_server() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  static int complete_answers(const std::string& s) {
    int count = 0;
    std::size_t pos = 0;
    while (true) {
      const std::size_t end = s.find("\r\n\r\n", pos);
      if (end == std::string::npos) return count;
      const std::size_t cl = s.find("Content-Length: ", pos);
      const std::size_t length = std::stoul(s.substr(cl + 16));
      if (s.size() < end + 4 + length) return count;
      pos = end + 4 + length;
      ++count;
    }
  }
  int fd_ = -1;
  bool connected_ = false;
};

std::string request(int port, const std::string& text) {
  Client c(port);
  c.send(text);
  return c.receive();
}

struct Served {
  std::atomic<bool> healthy{true};
  FakeClock clock;
  StatusServer server{
      [] { return std::string("origin_reconciler_build_info 1\n"); },
      [this] {
        return HealthAnswer{healthy.load(), R"({"status":"x"})"};
      },
      clock, StatusServerLimits{4, 1024, std::chrono::seconds(10), std::chrono::seconds(10)}};
  int port = server.start("127.0.0.1", 0);
};

TEST(StatusServer, HealthzFollowsTheHealthAnswerAndMetricsServeText) {
  Served s;
  ASSERT_GT(s.port, 0);
  std::string ok = request(s.port, "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_TRUE(ok.ends_with("\r\n\r\n{\"status\":\"x\"}")) << ok;
  EXPECT_NE(ok.find("Content-Type: application/json"), std::string::npos);

  s.healthy = false;
  EXPECT_TRUE(request(s.port, "GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 503 "));

  const std::string metrics = request(s.port, "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(metrics.starts_with("HTTP/1.1 200 OK\r\n")) << metrics;
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_TRUE(metrics.ends_with("\r\n\r\norigin_reconciler_build_info 1\n"));

  EXPECT_TRUE(request(s.port, "GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
  const std::string post = request(s.port, "DELETE /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 ")) << post;
  EXPECT_NE(post.find("Allow: GET"), std::string::npos);
}

TEST(StatusServer, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
  Served s;
  Client c(s.port);
  c.send("GET /metrics HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n");
  const std::string got = c.receive(3);
  const auto metrics = got.find("build_info");
  const auto health = got.find("{\"status\"");
  const auto missing = got.find("404 Not Found");
  ASSERT_NE(metrics, std::string::npos) << got;
  ASSERT_NE(health, std::string::npos) << got;
  ASSERT_NE(missing, std::string::npos) << got;
  EXPECT_LT(metrics, health);
  EXPECT_LT(health, missing);
}

TEST(StatusServer, ARequestBodyIsRefusedAndTheConnectionClosed) {
  Served s;
  Client c(s.port);
  c.send("GET /healthz HTTP/1.1\r\nContent-Length: 1500000000\r\n\r\nxxxxxxxx");
  const std::string got = c.receive();
  EXPECT_TRUE(got.starts_with("HTTP/1.1 413 ")) << got;
  EXPECT_TRUE(c.closed_by_server());
}

TEST(StatusServer, AnOversizedHeadIsRefused) {
  Served s;
  Client c(s.port);
  c.send("GET /healthz HTTP/1.1\r\nX: " + std::string(2000, 'a'));
  EXPECT_TRUE(c.receive().starts_with("HTTP/1.1 431 "));
  EXPECT_TRUE(c.closed_by_server());
}

TEST(StatusServer, AHeadThatDoesNotArriveInTimeIsCut) {
  Served s;
  Client slow(s.port);
  slow.send("GET /healthz HTTP/1.1\r\n");
  // Let the server take the connection, then move its clock past the request timeout.
  EXPECT_TRUE(request(s.port, "GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
  s.clock.advance(std::chrono::seconds(11));
  EXPECT_TRUE(slow.closed_by_server());
}

TEST(StatusServer, AtTheCapTheOldestIdleConnectionMakesRoom) {
  Served s;  // at most 4 connections
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<Client>(s.port));
    // Each is accepted (and so ordered) before the next: a request on a fresh connection
    // is answered only after the idle ones before it were taken.
    EXPECT_TRUE(request(s.port, "GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
  }
  EXPECT_TRUE(idle[0]->closed_by_server());
  idle[3]->send("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(idle[3]->receive().starts_with("HTTP/1.1 200")) << "the newest idle one stays";
}

// A status server whose /metrics answer ("late\n") waits until release() is called.
struct SlowMetricsServer {
  std::promise<void> released;
  std::atomic<int> serialized{0};
  FakeClock clock;
  StatusServer server{[this, done = released.get_future().share()] {
                        ++serialized;
                        done.wait();
                        return std::string("late\n");
                      },
                      [] {
                        return HealthAnswer{true, "{}"};
                      },
                      clock};
  const int port = server.start("127.0.0.1", 0);
  bool was_released = false;
  Client scrape{port};

  // Sends a scrape that waits on the metrics callback; meanwhile /healthz still answers.
  void start_scrape() {
    scrape.send("GET /metrics HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(request(port, "GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
  }

  void release() {
    released.set_value();
    was_released = true;
  }
  // A failed expectation must not leave the server's scrape thread waiting forever.
  ~SlowMetricsServer() {
    if (!was_released) release();
  }
};

TEST(StatusServer, HealthzAnswersWhileMetricsIsBusy) {
  SlowMetricsServer slow;
  slow.start_scrape();
  slow.release();
  EXPECT_TRUE(slow.scrape.receive().ends_with("late\n"));
}

TEST(StatusServer, AScrapeWaitingTooLongForMetricsIsClosed) {
  SlowMetricsServer slow;
  slow.start_scrape();
  slow.clock.advance(std::chrono::seconds(11));
  EXPECT_TRUE(slow.scrape.closed_by_server());
  slow.release();  // the late text goes nowhere
  EXPECT_TRUE(request(slow.port, "GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
}

TEST(StatusServer, ScrapesThatArriveWhileOneIsPreparedShareItsAnswer) {
  SlowMetricsServer slow;
  slow.start_scrape();
  std::vector<std::unique_ptr<Client>> more;
  for (int i = 0; i < 3; ++i) {
    more.push_back(std::make_unique<Client>(slow.port));
    more.back()->send("GET /metrics HTTP/1.1\r\n\r\n");
  }
  // Once a connection opened after them is answered, the server has read their requests.
  EXPECT_TRUE(request(slow.port, "GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
  slow.release();
  EXPECT_TRUE(slow.scrape.receive().ends_with("late\n"));
  for (auto& c : more) EXPECT_TRUE(c->receive().ends_with("late\n"));
  EXPECT_EQ(slow.serialized.load(), 1) << "one serialization for the scrapes of one generation";
  // A scrape after that one is answered gets a serialization of its own.
  EXPECT_TRUE(request(slow.port, "GET /metrics HTTP/1.1\r\n\r\n").ends_with("late\n"));
  EXPECT_EQ(slow.serialized.load(), 2);
}

// Bytes queued in the kernel for sending on the TCP sockets of local port `port` (tx_queue of
// /proc/self/net/tcp).
std::size_t queued_bytes(int port) {
  std::ifstream tcp("/proc/self/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  std::size_t total = 0;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    if (std::stoi(local.substr(local.find(':') + 1), nullptr, 16) != port) continue;
    total += std::stoul(queues.substr(0, queues.find(':')), nullptr, 16);
  }
  return total;
}

TEST(StatusServer, AScraperThatTakesNothingPinsOnlyASmallSendBuffer) {
  FakeClock clock;
  StatusServer server([] { return std::string(8u << 20, 'm'); },
                      [] {
                        return HealthAnswer{true, "{}"};
                      },
                      clock);
  const int port = server.start("127.0.0.1", 0);
  std::vector<std::unique_ptr<Client>> scrapers;
  for (int i = 0; i < 4; ++i) {
    scrapers.push_back(std::make_unique<Client>(port, 4096));
    scrapers.back()->send("GET /metrics HTTP/1.1\r\n\r\n");
  }
  for (auto& s : scrapers) EXPECT_TRUE(s->receive_some().starts_with("HTTP/1.1 200"));
  // Answered in a later turn of the server's loop than the writes to the scrapers.
  EXPECT_TRUE(request(port, "GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
  const std::size_t queued = queued_bytes(port);
  EXPECT_GT(queued, 0u);
  EXPECT_LE(queued, 4u * 2 * StatusServerLimits{}.send_buffer_bytes)
      << "bytes queued for 4 scrapers that take nothing";
}

// This process's resident memory in KiB (VmRSS).
long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Scrapers that do not take their answer hold a reference to one shared text, not a copy each:
// 24 of them waiting on a 16 MiB answer cost about 16 MiB, not 384.
TEST(StatusServer, SlowScrapersShareOneCopyOfTheMetricsText) {
  constexpr std::size_t kText = 16u << 20;
  std::atomic<int> serialized{0};
  FakeClock clock;
  StatusServer server(
      [&] {
        ++serialized;
        return std::string(kText, 'm');
      },
      [] {
        return HealthAnswer{true, "{}"};
      },
      clock, StatusServerLimits{64, 1024, std::chrono::seconds(10), std::chrono::seconds(10)});
  const int port = server.start("127.0.0.1", 0);
  const long before = resident_kib();
  std::vector<std::unique_ptr<Client>> scrapers;
  for (int i = 0; i < 24; ++i) {
    scrapers.push_back(std::make_unique<Client>(port));
    scrapers.back()->send("GET /metrics HTTP/1.1\r\n\r\n");
  }
  // Each has its answer once its first bytes arrive; none reads on.
  for (auto& s : scrapers) EXPECT_TRUE(s->receive_some().starts_with("HTTP/1.1 200"));
  const long during = resident_kib();
  EXPECT_LE(serialized.load(), 24);
  EXPECT_LT(during - before, 100 * 1024) << "KiB more with 24 slow scrapers: " << during - before;
  // /healthz is not behind them.
  EXPECT_TRUE(request(port, "GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
}

TEST(StatusServer, ABusyPortIsAClearError) {
  FakeClock clock;
  StatusServer first([] { return std::string(); }, [] { return HealthAnswer{true, "{}"}; }, clock);
  const int port = first.start("127.0.0.1", 0);
  StatusServer second([] { return std::string(); }, [] { return HealthAnswer{true, "{}"}; }, clock);
  EXPECT_EQ(testing::thrown_message<ListenError>([&] { return second.start("127.0.0.1", port); }),
            "cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
}

TEST(ListenOn, NamesTheAddressAndTheReason) {
  // TEST-NET-1: not an address of this host.
  EXPECT_EQ(testing::thrown_message<ListenError>([] { return listen_on("192.0.2.1", 9464); }),
            "cannot listen on 192.0.2.1:9464: Cannot assign requested address");
  EXPECT_EQ(format_host_port("::1", 80), "[::1]:80");
}

}  // namespace
}  // namespace orc
