// Log set-up: spdlog to stderr (journald and kubectl logs both read it), as text or as one
// JSON object a line. Every message passes through redact() on its way out (the last line of
// defence: secrets replaced, control characters escaped, each line capped), whatever the
// code that logged it quoted.
#pragma once

#include <memory>
#include <string>

#include <spdlog/formatter.h>

#include "core/config.h"

namespace orc {

// Formats a record as {"time":"...Z","level":"info","msg":"..."} with the message escaped.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Runs each record's message through redact() (secrets, control characters, kLogLineCap)
// before handing it to `inner`, which lays out the line.
class RedactingFormatter final : public spdlog::formatter {
 public:
  explicit RedactingFormatter(std::unique_ptr<spdlog::formatter> inner);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

// The formatter setup_logging installs for `format` (tests capture with it).
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format);

// Installs the default logger. Throws ConfigError for an unknown level.
void setup_logging(const LogConfig& config);

}  // namespace orc
