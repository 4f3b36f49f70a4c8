// The HTTP edge: plain request/response values and the one interface the API client
// talks through. The real implementation is libcurl (curl_http.h); tests use fakes.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orc {

struct HttpRequest {
  std::string method;  // GET, DELETE, ...
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;  // 0: no answer (see transport_error)
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string transport_error;                 // set when status == 0
  // With status 0: the answer was larger than allowed (a retry would get the same answer).
  bool too_large = false;
  // When the answer arrived, by the injected wall clock (the reference for an HTTP-date
  // Retry-After when the answer has no Date header); unset from clients without a clock.
  std::optional<std::chrono::system_clock::time_point> received_at;

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends one request and waits at most `timeout` for the whole exchange. Never throws for
  // network trouble: that comes back as status 0 with transport_error set.
  virtual HttpResponse perform(const HttpRequest& request, std::chrono::milliseconds timeout) = 0;
};

}  // namespace orc
