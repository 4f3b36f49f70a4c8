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
