#include "service/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>

#include "core/redact.h"

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

}  // namespace

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
  append_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  dest.append(std::string_view("\"}\n"));
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

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format) {
  if (format == LogFormat::kJson) {
    return std::make_unique<RedactingFormatter>(std::make_unique<JsonFormatter>());
  }
  return std::make_unique<RedactingFormatter>(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc));
}

void setup_logging(const LogConfig& config) {
  auto logger = spdlog::stderr_logger_mt("origin-reconciler");
  spdlog::set_default_logger(logger);
  const auto level = spdlog::level::from_str(config.level);
  if (level == spdlog::level::off && config.level != "off") {
    throw ConfigError("unknown log level '" + config.level + "'");
  }
  spdlog::set_level(level);
  spdlog::set_formatter(make_log_formatter(config.format));
  spdlog::flush_on(spdlog::level::trace);  // a daemon's log is read live; never buffer it
}

}  // namespace orc
