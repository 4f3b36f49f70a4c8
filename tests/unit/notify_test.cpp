// The sd_notify-backed ServiceNotifier, against a real AF_UNIX datagram socket standing in for
// systemd's notification socket. The test process sets NOTIFY_SOCKET / WATCHDOG_USEC /
// WATCHDOG_PID itself (and restores them afterwards); no systemd is involved.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "service/notify.h"

namespace orc {
namespace {

// CLOCK_MONOTONIC in microseconds, read apart from the notifier's own code: libstdc++'s
// steady_clock is CLOCK_MONOTONIC on Linux.
std::uint64_t now_monotonic_usec() {
  const auto since_boot = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(since_boot).count());
}

// Saves one environment variable and puts it back when the test ends.
class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) saved_ = v;
  }
  ~EnvGuard() {
    if (saved_) {
      setenv(name_, saved_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

class SystemdNotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string base = ::testing::TempDir();
    if (base.empty() || base.size() > 60) base = "/tmp/";  // sun_path holds 108 bytes
    if (base.back() != '/') base += '/';
    std::string tmpl = base + "orc-notify-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    path_ = dir_ + "/notify.sock";

    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0) << std::strerror(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path_.size(), sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    ASSERT_EQ(bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0)
        << path_ << ": " << std::strerror(errno);

    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }

  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  void point_notify_socket_here() { setenv("NOTIFY_SOCKET", path_.c_str(), 1); }

  // The next datagram, or nullopt if none arrives within `timeout_ms`.
  std::optional<std::string> receive(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    const int r = poll(&p, 1, timeout_ms);
    if (r <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

  EnvGuard notify_socket_{"NOTIFY_SOCKET"};
  EnvGuard watchdog_usec_{"WATCHDOG_USEC"};
  EnvGuard watchdog_pid_{"WATCHDOG_PID"};
  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

TEST_F(SystemdNotifierTest, SendsExactDatagrams) {
  point_notify_socket_here();
  setenv("WATCHDOG_USEC", "10000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  const auto notifier = make_systemd_notifier();

  notifier->ready();
  EXPECT_EQ(receive(), "READY=1");

  notifier->status("reconciled 3 zones, 0 stale");
  EXPECT_EQ(receive(), "STATUS=reconciled 3 zones, 0 stale");

  notifier->watchdog();
  EXPECT_EQ(receive(), "WATCHDOG=1");

  const std::uint64_t before = now_monotonic_usec();
  notifier->reloading();
  const std::uint64_t after = now_monotonic_usec();
  const auto reload = receive();
  ASSERT_TRUE(reload.has_value());
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(reload->rfind(prefix, 0), 0u) << *reload;
  const std::string digits = reload->substr(prefix.size());
  ASSERT_FALSE(digits.empty()) << *reload;
  ASSERT_EQ(digits.find_first_not_of("0123456789"), std::string::npos) << *reload;
  const std::uint64_t stamp = std::stoull(digits);
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, after);

  notifier->ready();  // after a reload the daemon reports READY=1 again
  EXPECT_EQ(receive(), "READY=1");

  notifier->stopping();
  EXPECT_EQ(receive(), "STOPPING=1");

  EXPECT_EQ(receive(100), std::nullopt) << "unexpected extra datagram";
}

TEST_F(SystemdNotifierTest, WatchdogIntervalIsHalfOfWatchdogUsec) {
  point_notify_socket_here();
  setenv("WATCHDOG_USEC", "10000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(make_systemd_notifier()->watchdog_interval(), std::chrono::microseconds(5000000));

  setenv("WATCHDOG_USEC", "120000001", 1);
  EXPECT_EQ(make_systemd_notifier()->watchdog_interval(), std::chrono::microseconds(60000000));

  // WATCHDOG_PID is optional: without it the watchdog applies to whoever reads it.
  unsetenv("WATCHDOG_PID");
  setenv("WATCHDOG_USEC", "3000000", 1);
  EXPECT_EQ(make_systemd_notifier()->watchdog_interval(), std::chrono::microseconds(1500000));
}

TEST_F(SystemdNotifierTest, NoWatchdogIntervalWithoutWatchdogUsec) {
  point_notify_socket_here();
  const auto notifier = make_systemd_notifier();
  EXPECT_EQ(notifier->watchdog_interval(), std::nullopt);
  notifier->ready();  // notifications still go out
  EXPECT_EQ(receive(), "READY=1");
}

TEST_F(SystemdNotifierTest, NoWatchdogIntervalForAnotherProcess) {
  point_notify_socket_here();
  setenv("WATCHDOG_USEC", "10000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(make_systemd_notifier()->watchdog_interval(), std::nullopt);
}

TEST_F(SystemdNotifierTest, StatusCannotInjectAssignments) {
  point_notify_socket_here();
  const auto notifier = make_systemd_notifier();
  notifier->status("bad\nREADY=1\r\nx");
  EXPECT_EQ(receive(), "STATUS=bad READY=1  x");
  EXPECT_EQ(receive(100), std::nullopt);
}

TEST_F(SystemdNotifierTest, EveryCallIsANoOpWithoutNotifySocket) {
  // Even a watchdog in the environment means nothing without a socket to ping.
  setenv("WATCHDOG_USEC", "10000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  const auto notifier = make_systemd_notifier();
  EXPECT_EQ(notifier->watchdog_interval(), std::nullopt);

  // The environment is read once, at construction: a socket appearing later is not used.
  point_notify_socket_here();
  notifier->ready();
  notifier->status("idle");
  notifier->watchdog();
  notifier->reloading();
  notifier->stopping();
  EXPECT_EQ(receive(200), std::nullopt);

  // And with no socket anywhere nothing fails either.
  unsetenv("NOTIFY_SOCKET");
  const auto bare = make_systemd_notifier();
  bare->ready();
  bare->status("idle");
  bare->watchdog();
  bare->reloading();
  bare->stopping();
  EXPECT_EQ(bare->watchdog_interval(), std::nullopt);
  EXPECT_EQ(receive(100), std::nullopt);
}

}  // namespace
}  // namespace orc
