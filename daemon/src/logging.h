// Log set-up: spdlog to stderr (journald and kubectl logs both read it), as text or as one
// JSON object a line. Messages never carry credentials: nothing here sees them.
#pragma once

#include <memory>
#include <string>

#include <spdlog/formatter.h>

#include "config.h"

namespace orc {

// Formats a record as {"time":"...Z","level":"info","msg":"..."} with the message escaped.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Installs the default logger. Throws ConfigError for an unknown level.
void setup_logging(const LogConfig& config);

}  // namespace orc
