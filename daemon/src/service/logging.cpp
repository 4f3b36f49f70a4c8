#include "service/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "base/log_fields.h"
#include "base/redact.h"

namespace orc {

namespace {

// The characters JSON strings escape by a short form; other control characters are \u00XX.
struct ShortEscape {
  char c;
  std::string_view text;
};
constexpr std::array<ShortEscape, 5> kShortEscapes = {{
    {'"', "\\\""},
    {'\\', "\\\\"},
    {'\n', "\\n"},
    {'\r', "\\r"},
    {'\t', "\\t"},
}};

void append_escaped(std::string_view text, spdlog::memory_buf_t& dest) {
  for (char c : text) {
    const auto* escape = std::find_if(kShortEscapes.begin(), kShortEscapes.end(),
                                      [c](const ShortEscape& e) { return e.c == c; });
    if (escape != kShortEscapes.end()) {
      dest.append(escape->text);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      dest.append(std::string_view(buf));
    } else {
      dest.push_back(c);
    }
  }
}

// Journald's name for this program's lines (SYSLOG_IDENTIFIER=).
constexpr std::string_view kSyslogIdentifier = "origin-reconciler";
// Where sd_journal_sendv() sends (systemd's native protocol).
constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

// A decimal number that is the whole of `text`.
std::optional<std::uint64_t> whole_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view payload_of(const spdlog::details::log_msg& msg) {
  return {msg.payload.data(), msg.payload.size()};
}

// Prepends journald's "<N>" priority prefix to what `inner` lays out.
class PriorityPrefixFormatter final : public spdlog::formatter {
 public:
  explicit PriorityPrefixFormatter(std::unique_ptr<spdlog::formatter> inner)
      : inner_(std::move(inner)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string prefix = "<" + std::to_string(journal_priority(msg.level)) + ">";
    dest.append(std::string_view(prefix));
    inner_->format(msg, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<PriorityPrefixFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace

int journal_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;  // LOG_DEBUG
    case spdlog::level::info:
      return 6;  // LOG_INFO
    case spdlog::level::warn:
      return 4;  // LOG_WARNING
    case spdlog::level::err:
      return 3;  // LOG_ERR
    case spdlog::level::critical:
      return 2;  // LOG_CRIT
    default:
      return 6;
  }
}

bool is_journal_stream(std::optional<std::string_view> journal_stream, std::uint64_t device,
                       std::uint64_t inode) {
  if (!journal_stream) return false;
  const auto colon = journal_stream->find(':');
  if (colon == std::string_view::npos) return false;
  const auto dev = whole_number(journal_stream->substr(0, colon));
  const auto ino = whole_number(journal_stream->substr(colon + 1));
  return dev && ino && *dev == device && *ino == inode;
}

bool stderr_is_journal() {
  const char* value = std::getenv("JOURNAL_STREAM");
  if (value == nullptr) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return is_journal_stream(std::string_view(value), st.st_dev, st.st_ino);
}

bool journal_socket_present() {
  struct stat st {};
  return ::stat(kJournalSocket, &st) == 0 && S_ISSOCK(st.st_mode);
}

LogOutput choose_log_output(LogFormat format, bool stderr_journal, bool journal_socket) {
  const LogOutput journal = journal_socket ? LogOutput{LogOutput::Kind::kJournal, false}
                                           : LogOutput{LogOutput::Kind::kText, true};
  switch (format) {
    case LogFormat::kJournal:
      return journal;
    case LogFormat::kJson:
      return {LogOutput::Kind::kJson, stderr_journal};
    case LogFormat::kText:
      return {LogOutput::Kind::kText, stderr_journal};
    case LogFormat::kAuto:
      break;
  }
  return stderr_journal ? journal : LogOutput{LogOutput::Kind::kText, false};
}

void JsonFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto since_epoch = msg.time.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - secs).count();
  const std::time_t t = secs.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  dest.append(std::string_view("{\"time\":\""));
  dest.append(std::string_view(stamp));
  dest.append(std::string_view("\",\"level\":\""));
  const auto level = spdlog::level::to_string_view(msg.level);
  dest.append(std::string_view(level.data(), level.size()));
  dest.append(std::string_view("\",\"msg\":\""));
  append_escaped(payload_of(msg), dest);
  dest.push_back('"');
  for (const auto& entry : kLogFieldNames) {  // "zone", "operation": the journal's names
    const std::string_view value = log_field(entry.value);
    if (value.empty()) continue;
    dest.append(std::string_view(",\""));
    for (const char c : entry.name) dest.push_back(static_cast<char>(std::tolower(c)));
    dest.append(std::string_view("\":\""));
    append_escaped(value, dest);
    dest.push_back('"');
  }
  dest.append(std::string_view("}\n"));
}

std::unique_ptr<spdlog::formatter> JsonFormatter::clone() const {
  return std::make_unique<JsonFormatter>();
}

RedactingFormatter::RedactingFormatter(std::unique_ptr<spdlog::formatter> inner)
    : inner_(std::move(inner)) {}

void RedactingFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string clean =
      redact(std::string_view(msg.payload.data(), msg.payload.size()), kLogLineCap);
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(clean.data(), clean.size());
  inner_->format(copy, dest);
}

std::unique_ptr<spdlog::formatter> RedactingFormatter::clone() const {
  return std::make_unique<RedactingFormatter>(inner_->clone());
}

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format, bool priority_prefix) {
  std::unique_ptr<spdlog::formatter> line;
  if (format == LogFormat::kJson) {
    line = std::make_unique<JsonFormatter>();
  } else {
    line = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v",
                                                       spdlog::pattern_time_type::utc);
  }
  if (priority_prefix) line = std::make_unique<PriorityPrefixFormatter>(std::move(line));
  return std::make_unique<RedactingFormatter>(std::move(line));
}

JournalSink::JournalSink(Sender sender, std::FILE* fallback)
    : sender_(std::move(sender)), fallback_(fallback) {}

std::vector<std::string> JournalSink::fields_of(const spdlog::details::log_msg& msg) {
  std::vector<std::string> fields;
  fields.push_back("MESSAGE=" + redact(payload_of(msg), kLogLineCap));
  fields.push_back("PRIORITY=" + std::to_string(journal_priority(msg.level)));
  fields.push_back("SYSLOG_IDENTIFIER=" + std::string(kSyslogIdentifier));
  for (const auto& entry : kLogFieldNames) {
    const std::string_view value = log_field(entry.value);
    if (!value.empty()) fields.push_back(std::string(entry.name) + "=" + std::string(value));
  }
  return fields;
}

int JournalSink::send_to_journal(const std::vector<std::string>& fields) {
  std::vector<iovec> iov;
  iov.reserve(fields.size());
  for (const auto& f : fields) {
    iov.push_back({const_cast<char*>(f.data()), f.size()});  // sd_journal_sendv only reads
  }
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

void JournalSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::vector<std::string> fields = fields_of(msg);
  if (sender_(fields) >= 0) return;
  // fields[0] is "MESSAGE=...": the line journald would have shown.
  const std::string line = "<" + std::to_string(journal_priority(msg.level)) + ">" +
                           fields[0].substr(std::string_view("MESSAGE=").size()) + "\n";
  std::fwrite(line.data(), 1, line.size(), fallback_);
  std::fflush(fallback_);
}

void JournalSink::flush_() {}

void setup_logging(const LogConfig& config) {
  constexpr std::array kLevels = {spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
                                  spdlog::level::warn, spdlog::level::err};
  const auto level = kLevels[static_cast<std::size_t>(config.level)];
  const bool socket = journal_socket_present();
  const LogOutput output = choose_log_output(config.format, stderr_is_journal(), socket);
  std::shared_ptr<spdlog::logger> logger;
  if (output.kind == LogOutput::Kind::kJournal) {
    logger = std::make_shared<spdlog::logger>(std::string(kSyslogIdentifier),
                                              std::make_shared<JournalSink>());
  } else {
    logger = std::make_shared<spdlog::logger>(std::string(kSyslogIdentifier),
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_formatter(make_log_formatter(
        output.kind == LogOutput::Kind::kJson ? LogFormat::kJson : LogFormat::kText,
        output.priority_prefix));
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);  // a daemon's log is read live; never buffer it
  spdlog::set_default_logger(std::move(logger));
  if (config.format == LogFormat::kJournal && !socket) {
    spdlog::warn(
        "log.format journal: no journal socket at {}; writing text lines to standard "
        "error instead",
        kJournalSocket);
  }
}

std::string_view error_prefix() {
  static const bool journal = stderr_is_journal();
  return journal ? "<3>" : "";
}

}  // namespace orc
