// HttpClient over libcurl. Easy handles are pooled so connections (and TLS sessions) are
// reused across requests and cycles; any number of threads may call perform() at once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "http.h"

namespace orc {

class CurlHttpClient final : public HttpClient {
 public:
  // `abort` (optional) is polled during transfers; when it becomes true, transfers still
  // running are abandoned (used only after the shutdown grace period has passed).
  explicit CurlHttpClient(const std::atomic<bool>* abort = nullptr);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResponse perform(const HttpRequest& request, std::chrono::milliseconds timeout) override;

 private:
  void* take_handle();
  void give_back(void* handle);

  const std::atomic<bool>* abort_;
  std::mutex mu_;
  std::vector<void*> idle_;
};

// Call once at start-up, before any thread exists (curl_global_init is not thread-safe).
void curl_global_setup();

}  // namespace orc
