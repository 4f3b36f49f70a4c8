// The Cloudflare client: one retrying request executor shared by all zones, and the two API
// generations on top of it. Everything generation-specific (paths, key names, paging, the
// setting wrapper) lives in cloudflare_api.cpp behind the ZoneApi interface.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>

#include "base/cancellation.h"
#include "base/clock.h"
#include "config/credentials.h"
#include "model/api_flavor.h"
#include "net/backoff.h"
#include "net/http.h"
#include "net/rate_limiter.h"
#include "reconcile/zone_api.h"
#include "reconcile/zone_directory.h"

namespace orc {

class RequestExecutor {
 public:
  struct Deps {
    HttpClient& http;
    RateLimiter& limiter;
    Sleeper& sleeper;
    RandomSource& random;
    const Clock& clock;
    ApiObserver& observer;
    // The cycle's cancellation: checked before each request, and it cuts short the waits for
    // the budget and between retries (ApiError::cancelled, with the stop's reason).
    StopView stop = {};
    // Asked right before every request is sent; false abandons it as cancelled (an instance
    // that no longer leads sends nothing). Empty: always allowed.
    std::function<bool()> may_send = {};
  };
  RequestExecutor(Deps deps, RetryPolicy policy, Millis request_timeout);

  // Sends `request` and reads each answer with `parse` (a function from HttpResponse to a
  // Result<T>): the value of the first answer it accepts, or the error. Retryable errors are
  // retried, with full-jitter backoff or the answer's Retry-After, up to max_attempts; the
  // last error is returned.
  template <class Parse>
  auto run(Operation op, const HttpRequest& request, Parse&& parse)
      -> std::invoke_result_t<Parse&, const HttpResponse&> {
    std::optional<typename std::invoke_result_t<Parse&, const HttpResponse&>::value_type> value;
    auto error = attempts(op, request, [&](const HttpResponse& response) {
      auto read = parse(response);
      if (!read.ok()) return std::optional<ApiError>(std::move(read).error());
      value.emplace(std::move(read).value());
      return std::optional<ApiError>();
    });
    if (error) return std::move(*error);
    return std::move(*value);
  }

 private:
  std::optional<ApiError> attempts(
      Operation op, const HttpRequest& request,
      const std::function<std::optional<ApiError>(const HttpResponse&)>& accept);

  Deps d_;
  RetryPolicy policy_;
  Backoff backoff_;
  Millis timeout_;
};

// Headers for every request: credentials, JSON, user agent.
std::vector<std::pair<std::string, std::string>> request_headers(const Credentials& credentials);

// The client of `flavor`'s generation. Throws std::invalid_argument for a value that names no
// generation (never falls back to one).
std::unique_ptr<ZoneApi> make_zone_api(ApiFlavor flavor, std::string api_base,
                                       const Credentials& credentials, int page_size,
                                       RequestExecutor& executor);

// Zone names through `GET /zones?name=NAME&page=N&per_page=50` (Cloudflare's zone list, which
// needs the token's Zone:Read permission), every page read.
std::unique_ptr<ZoneDirectory> make_zone_directory(std::string api_base,
                                                   const Credentials& credentials,
                                                   RequestExecutor& executor);

}  // namespace orc
