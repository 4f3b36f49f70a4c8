// HttpClient over libcurl. Easy handles are pooled so connections (and TLS sessions) are
// reused across requests and cycles; any number of threads may call perform() at once.
//
// Bounded: an answer is read into memory only up to `max_response_bytes`, counted after
// decompression (a gzip bomb stops at the cap) and, separately, on the wire. A larger answer
// fails that request with too_large set (retrying would fetch the same answer). Out of memory
// inside libcurl's callbacks fails the request as a transport error; no exception ever crosses
// libcurl's C code.
//
// Proxies: the usual environment (http_proxy, https_proxy, ALL_PROXY) is honoured for https
// only. Loopback is never proxied (NOPROXY 127.0.0.0/8, ::1, localhost, plus no_proxy), and a
// plain http:// request never goes through a proxy, so the token is never sent in clear text
// to one.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "net/http.h"

namespace orc {

// How one request may use a proxy. Pure, so the rule is unit-tested.
struct ProxyRule {
  bool no_proxy_at_all = false;  // plain http://: never through a proxy
  std::string no_proxy;          // CURLOPT_NOPROXY: hosts that bypass the proxy
};
// `env_no_proxy` is the no_proxy (or NO_PROXY) environment value, or nullptr.
ProxyRule proxy_rule(std::string_view url, const char* env_no_proxy);

class CurlHttpClient final : public HttpClient {
 public:
  // `clock` stamps each answer's arrival (received_at). `abort` (optional) is polled during
  // transfers; once it is stopped, transfers still running are abandoned (the loop stops it
  // only after the shutdown grace period has passed). `ca_file`, when not empty, is the only
  // trust anchor for TLS (a Kubernetes API server's CA), instead of the system's CA bundle.
  CurlHttpClient(const Clock& clock, std::size_t max_response_bytes, std::stop_token abort = {},
                 std::string ca_file = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResponse perform(const HttpRequest& request, std::chrono::milliseconds timeout) override;

 private:
  void* take_handle();
  void give_back(void* handle);

  const Clock& clock_;
  const std::size_t max_response_bytes_;
  std::stop_token abort_;
  const std::string ca_file_;
  std::mutex mu_;
  std::vector<void*> idle_;
};

// Call once at start-up, before any thread exists (curl_global_init is not thread-safe).
void curl_global_setup();

}  // namespace orc
