// ServiceNotifier backed by libsystemd's sd_notify (see notify.h and sd_notify(3)).
//
// Whether to talk to the service manager at all is decided once, at construction: without
// NOTIFY_SOCKET (run by hand, in a container, under Type=simple) every call returns at once.
// The environment is left as it is (unset_environment=0), so the decision stays stable.
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>

#include "service/notify.h"

namespace orc {
namespace {

// CLOCK_MONOTONIC in microseconds: the clock systemd compares MONOTONIC_USEC against.
std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

class SystemdNotifier final : public ServiceNotifier {
 public:
  SystemdNotifier() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket != nullptr && socket[0] != '\0';
    if (!enabled_) return;
    // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID is unset or names this process.
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
      watchdog_interval_ = std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
    }
  }

  void ready() override { send("READY=1"); }

  void reloading() override {
    // systemd >= 253 requires MONOTONIC_USEC with RELOADING=1 (Type=notify-reload); older
    // versions ignore the unknown field.
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
  }

  void stopping() override { send("STOPPING=1"); }

  void status(const std::string& line) override {
    if (!enabled_) return;
    // One assignment per line in the protocol: a newline in the text must not be able to
    // smuggle in another one (e.g. "READY=1").
    std::string clean = line;
    for (char& c : clean) {
      if (c == '\n' || c == '\r' || c == '\0') c = ' ';
    }
    send("STATUS=" + clean);
  }

  void watchdog() override { send("WATCHDOG=1"); }

  void extend_timeout(std::chrono::microseconds d) override {
    send("EXTEND_TIMEOUT_USEC=" + std::to_string(std::max<std::int64_t>(0, d.count())));
  }

  std::optional<std::chrono::microseconds> watchdog_interval() const override {
    return watchdog_interval_;
  }

 private:
  void send(const std::string& state) const {
    if (!enabled_) return;
    // Best effort: a notification that cannot be delivered must not stop the daemon.
    (void)sd_notify(0, state.c_str());
  }

  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

}  // namespace

std::unique_ptr<ServiceNotifier> make_systemd_notifier() {
  return std::make_unique<SystemdNotifier>();
}

}  // namespace orc
