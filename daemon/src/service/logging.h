// Log set-up: spdlog to standard error (journald and kubectl logs both read it), as text, as one
// JSON object a line, or straight to journald. Every message passes through redact() on its
// way out (the last line of defence: secrets replaced, control characters escaped, each line
// capped), whatever the code that logged it quoted.
//
// journald learns each line's priority either way: `log.format: journal` (and `auto`, the
// default, when standard error is the journal) sends each record over journald's native
// protocol with PRIORITY=, SYSLOG_IDENTIFIER= and the fields of base/log_fields.h (ZONE=,
// OPERATION=); `text` and `json` lines written to the journal stream start with the `<N>`
// priority prefix of sd-daemon(3), which journald strips.
#pragma once

#include <spdlog/common.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace orc {

// The syslog priority journald files a record of `level` under (sd-daemon(3), syslog(3)):
// trace and debug 7, info 6, warn 4, error 3, critical 2.
int journal_priority(spdlog::level::level_enum level);

// Whether a stream whose fstat() gave `device` and `inode` is the journal, going by
// $JOURNAL_STREAM (`journal_stream`, unset: nullopt), which systemd sets to "DEVICE:INODE" of
// the journal stream it connected standard output or error to (systemd.exec(5)). A stream
// redirected after systemd started the process no longer matches.
bool is_journal_stream(std::optional<std::string_view> journal_stream, std::uint64_t device,
                       std::uint64_t inode);
// is_journal_stream for this process's standard error, where the log goes.
bool stderr_is_journal();

// Whether journald's native socket is there to take records (sd_journal_sendv() drops them
// silently when it is not).
bool journal_socket_present();

// What the log writes, decided from log.format, whether standard error is the journal, and
// whether journald's socket is there. Journal records that cannot be sent become text lines
// with the "<N>" prefix.
struct LogOutput {
  enum class Kind { kText, kJson, kJournal };
  Kind kind = Kind::kText;
  bool priority_prefix = false;  // text and json lines start with "<N>" (for journald)
};
LogOutput choose_log_output(LogFormat format, bool stderr_journal, bool journal_socket = true);

// Formats a record as {"time":"...Z","level":"info","msg":"..."} with the message escaped, and
// "zone" and "operation" when the thread that logged set them (base/log_fields.h).
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

// The formatter setup_logging installs for text or json lines (tests capture with it);
// `priority_prefix`: each line starts with journald's "<N>".
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format,
                                                      bool priority_prefix = false);

// The journal's native protocol: each record as fields (MESSAGE=, PRIORITY=,
// SYSLOG_IDENTIFIER=, ZONE=, OPERATION=), the message redacted. A record journald does not take
// (no journal socket: `log.format: journal` outside systemd) is written to `fallback` as a
// "<N>message" line instead, so that nothing is lost.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Sends one record's "NAME=value" fields; returns 0 or a negative errno (sd_journal_sendv).
  using Sender = std::function<int(const std::vector<std::string>& fields)>;
  explicit JournalSink(Sender sender = send_to_journal, std::FILE* fallback = stderr);

  // The fields of one record, in the order they are sent.
  static std::vector<std::string> fields_of(const spdlog::details::log_msg& msg);
  static int send_to_journal(const std::vector<std::string>& fields);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  Sender sender_;
  std::FILE* fallback_;
};

// Installs the default logger (on standard error, or journald; see choose_log_output). Throws
// ConfigError for an unknown level.
void setup_logging(const LogConfig& config);

// Start-up errors written before (or instead of) the logger: "<3>" when standard error is the
// journal, so that a refused start shows under journalctl -p err; else nothing.
std::string_view error_prefix();

}  // namespace orc
