// Shared by the libFuzzer targets: property checks that abort (so libFuzzer keeps the input as
// a reproducer), a YAML writer and the parse -> write -> parse round trip itself.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace orc::fuzz {

// A property the harness checks does not hold: say which, then abort like a crash would.
[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "\n==fuzz== property violated: %.*s\n", static_cast<int>(what.size()),
               what.data());
  std::fflush(stderr);
  std::abort();
}

inline void check(bool ok, std::string_view what) {
  if (!ok) fail(what);
}

// An error message meant for people (start-up errors, reload logs): it names the file, holds no
// raw control characters (a newline in an input must not forge a log line) and stays short
// however large the input.
inline void check_message(std::string_view message, std::string_view file) {
  constexpr std::size_t kMaxMessage = 4096;
  check(message.substr(0, file.size()) == file,
        "error message does not start with the file name: " + std::string(message));
  check(message.size() <= kMaxMessage,
        "error message longer than 4096 bytes: " + std::string(message.substr(0, 300)) + "...");
  for (const char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    check(c >= 0x20 && c != 0x7f,
          "error message holds a raw control character: " + std::string(message));
  }
}

// `value` as a YAML double-quoted scalar that reads back as exactly the same bytes.
inline std::string yaml_quoted(std::string_view value) {
  std::string out = "\"";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      out += esc;
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

// The round trip of a YAML parser's target: text the parser rejects gets a message for people
// (check_message); a value it accepts passes `check_value`, and `write` turns it into text that
// parses back to the same value (`same`). `what` names the value in a failure.
template <typename Error, typename Parse, typename CheckValue, typename Write, typename Same>
void check_round_trip(std::string_view text, std::string_view file, Parse parse,
                      CheckValue check_value, Write write, Same same, std::string_view what) {
  using Value = decltype(parse(text));
  Value value;
  try {
    value = parse(text);
  } catch (const Error& e) {
    check_message(e.what(), file);
    return;
  }
  check_value(value);

  const std::string written = write(value);
  Value again;
  try {
    again = parse(written);
  } catch (const Error& e) {
    fail(std::string("the parser rejects its own output: ") + e.what() + "\n" + written);
  }
  check(same(value, again),
        "written out and read back, " + std::string(what) + " differs:\n" + written);
}

}  // namespace orc::fuzz
