#include "status/http_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/status.h"
#include "base/text.h"

namespace orc {

namespace {

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Whether a comma-separated header value lists `option` (Connection: keep-alive, Upgrade).
bool lists(std::string_view value, std::string_view option) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (iequals(trim_ows(value.substr(0, comma)), option)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

ParsedRequest bad(int status, std::string reason) {
  ParsedRequest r;
  r.state = ParsedRequest::State::kBad;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

// Splits off the next line (without its CRLF or bare LF).
std::string_view next_line(std::string_view& rest) {
  const std::size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Where the head that starts at `start` ends: just past its first empty line (npos: not yet).
std::size_t head_end(std::string_view buffer, std::size_t start) {
  for (std::size_t lf = buffer.find('\n', start); lf != std::string_view::npos;
       lf = buffer.find('\n', lf + 1)) {
    if (lf + 1 < buffer.size() && buffer[lf + 1] == '\n') return lf + 2;
    if (lf + 2 < buffer.size() && buffer[lf + 1] == '\r' && buffer[lf + 2] == '\n') return lf + 3;
  }
  return std::string_view::npos;
}

struct RequestLine {
  std::string_view method;
  std::string_view target;
  bool http11 = false;
};

// "GET /metrics HTTP/1.1", or the answer it deserves.
StatusOr<RequestLine, ParsedRequest> read_request_line(std::string_view line) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad(400, "malformed request line");
  RequestLine r;
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(r.method)) return bad(400, "malformed request line");
  if (r.target.empty() || r.target.front() != '/' ||
      std::any_of(r.target.begin(), r.target.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return bad(400, "malformed request target");
  }
  if (!version.starts_with("HTTP/")) return bad(400, "malformed request line");
  r.http11 = version == "HTTP/1.1";
  if (!r.http11 && version != "HTTP/1.0") return bad(505, "only HTTP/1.0 and HTTP/1.1");
  return r;
}

// What the header lines say of the connection.
struct ConnectionOptions {
  bool close = false;
  bool keep_alive = false;
};

// The header lines up to the empty one: no body accepted, Connection read.
StatusOr<ConnectionOptions, ParsedRequest> read_header_lines(std::string_view rest) {
  ConnectionOptions c;
  for (std::string_view line = next_line(rest); !line.empty(); line = next_line(rest)) {
    if (line.front() == ' ' || line.front() == '\t') return bad(400, "folded header line");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      return bad(400, "malformed header line");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      unsigned long long n = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty()) {
        return bad(400, "malformed Content-Length");
      }
      if (n != 0) return bad(413, "request bodies are not accepted");
    } else if (iequals(name, "transfer-encoding")) {
      return bad(413, "request bodies are not accepted");
    } else if (iequals(name, "connection")) {
      c.close = c.close || lists(value, "close");
      c.keep_alive = c.keep_alive || lists(value, "keep-alive");
    }
  }
  return c;
}

}  // namespace

ParsedRequest parse_request_head(std::string_view buffer, std::size_t max_head_bytes) {
  // Empty lines before a request line are allowed (RFC 9112 2.2).
  std::size_t start = 0;
  while (start < buffer.size() && (buffer[start] == '\r' || buffer[start] == '\n')) ++start;
  const std::size_t end = head_end(buffer, start);
  if (end == std::string_view::npos) {
    if (buffer.size() > max_head_bytes) return bad(431, "request head too large");
    return {};
  }
  if (end > max_head_bytes) return bad(431, "request head too large");

  std::string_view rest = buffer.substr(start, end - start);
  auto line = read_request_line(next_line(rest));
  if (!line.ok()) return std::move(line).error();
  auto options = read_header_lines(rest);
  if (!options.ok()) return std::move(options).error();

  ParsedRequest r;
  r.state = ParsedRequest::State::kComplete;
  r.head.method = std::string(line->method);
  r.head.path = std::string(line->target.substr(0, line->target.find('?')));
  r.head.length = end;
  r.head.keep_alive = !options->close && (line->http11 || options->keep_alive);
  return r;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string format_response_head(int status, std::string_view content_type,
                                 std::size_t content_length, bool keep_alive,
                                 const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += reason_phrase(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(content_length);
  out += keep_alive ? "\r\n" : "\r\nConnection: close\r\n";
  for (const auto& [name, value] : extra) out += name + ": " + value + "\r\n";
  out += "\r\n";
  return out;
}

std::string format_response(int status, std::string_view content_type, std::string_view body,
                            bool keep_alive,
                            const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out = format_response_head(status, content_type, body.size(), keep_alive, extra);
  out += body;
  return out;
}

}  // namespace orc
