// Service-manager notifications (systemd Type=notify). The loop reports through this
// interface; outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace orc {

class ServiceNotifier {
 public:
  virtual ~ServiceNotifier() = default;
  virtual void ready() = 0;                          // READY=1
  virtual void reloading() = 0;                      // RELOADING=1 (+ MONOTONIC_USEC)
  virtual void stopping() = 0;                       // STOPPING=1
  virtual void status(const std::string& line) = 0;  // STATUS=<line>
  virtual void watchdog() = 0;                       // WATCHDOG=1
  // EXTEND_TIMEOUT_USEC=<d>: the start (or stop) may take `d` more from now, for a wait the
  // API announced before the service is ready.
  virtual void extend_timeout(std::chrono::microseconds d) = 0;
  // Half of WATCHDOG_USEC when the watchdog is enabled for this process; nullopt otherwise.
  virtual std::optional<std::chrono::microseconds> watchdog_interval() const = 0;
};

// sd_notify-backed notifier (libsystemd). Reads NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID
// from the environment once, at construction.
std::unique_ptr<ServiceNotifier> make_systemd_notifier();

}  // namespace orc
