// The status server's HTTP/1.1 request reading and response writing, as pure functions over
// bytes. Only what /metrics and /healthz need: a bounded request head, no request bodies.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orc {

struct RequestHead {
  std::string method;
  std::string path;         // the target without its query string
  bool keep_alive = false;  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only if asked
  std::size_t length = 0;   // bytes of the head, the blank line included
};

struct ParsedRequest {
  enum class State {
    kIncomplete,  // need more bytes
    kComplete,    // `head` is set
    kBad,         // answer `status` with `reason`, then close the connection
  };
  State state = State::kIncomplete;
  RequestHead head;
  int status = 0;
  std::string reason;
};

// Reads one request head from the start of `buffer` (bytes after it are the next request).
// Refuses: a head over `max_head_bytes` (431), a malformed request line or header (400), a
// version other than HTTP/1.0 or 1.1 (505), and any request body: a Content-Length other
// than 0 or any Transfer-Encoding (413), so a body is never read, let alone buffered.
ParsedRequest parse_request_head(std::string_view buffer, std::size_t max_head_bytes);

// A complete response. Content-Length always; "Connection: close" unless `keep_alive`.
std::string format_response(int status, std::string_view content_type, std::string_view body,
                            bool keep_alive,
                            const std::vector<std::pair<std::string, std::string>>& extra = {});
// Its head alone (status line and headers, ending in the empty line) for a body of
// `content_length` bytes sent after it.
std::string format_response_head(
    int status, std::string_view content_type, std::size_t content_length, bool keep_alive,
    const std::vector<std::pair<std::string, std::string>>& extra = {});

std::string_view reason_phrase(int status);

}  // namespace orc
