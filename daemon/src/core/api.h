// What the reconciler needs from Cloudflare, independent of the API generation.
// cache_v1_api.cpp and origin_v2_api.cpp are the two implementations; make_zone_api picks one.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/duration.h"
#include "core/status.h"

namespace orc {

struct Mapping {
  std::string ip;  // as the API returned it (the API canonicalizes)
  std::string vendor;
  std::string region;
  friend bool operator==(const Mapping&, const Mapping&) = default;
};

// The operations, as they are labelled in metrics and logs.
enum class Operation { kList, kBatchDelete, kGet };
std::string_view to_string(Operation op);  // list | batch_delete | get

enum class RetryReason { kRateLimited, kServerError, kTransport };
std::string_view to_string(RetryReason reason);  // rate_limited | server_error | transport

struct ApiError {
  enum class Kind {
    kRetryable,  // transport, timeout, 429, 5xx, malformed answer: worth another try
    kPermanent,  // other 4xx, or an answer that retrying cannot change
    kCancelled,  // shutdown requested while waiting
  };
  Kind kind = Kind::kPermanent;
  RetryReason reason = RetryReason::kServerError;  // meaningful for kRetryable
  int http_status = 0;                             // 0: no answer
  std::vector<int> codes;                          // Cloudflare error codes from the envelope
  std::string message;                             // for people; never holds credentials
  std::optional<Millis> retry_after;

  static ApiError cancelled();  // shutdown requested
  bool has_code(int code) const;
  std::string describe() const;  // "HTTP 403 [10000] Authentication error"
};

template <class T>
using Result = StatusOr<T, ApiError>;  // core/status.h

struct BatchItemFailure {
  std::string ip;
  std::string error;  // as the API gave it
};

struct BatchDeleteResult {
  std::vector<std::string> succeeded;
  std::vector<BatchItemFailure> failed;
};

enum class Presence { kPresent, kAbsent };

class ZoneApi {
 public:
  virtual ~ZoneApi() = default;
  // Every live mapping of the zone, all pages. A zone with no mappings is an empty list.
  virtual Result<std::vector<Mapping>> list(const std::string& zone_id) = 0;
  // One DELETE .../batch request; at most 100 IPs (the caller chunks).
  virtual Result<BatchDeleteResult> batch_delete(const std::string& zone_id,
                                                 const std::vector<std::string>& ips) = 0;
  // Whether a mapping exists for one IP (the follow-up check of a failed batch item).
  virtual Result<Presence> get(const std::string& zone_id, const std::string& ip) = 0;
};

// What the request executor (cloudflare/cloudflare_api.h) reports; implemented by the metrics
// (and by tests).
class ApiObserver {
 public:
  virtual ~ApiObserver() = default;
  // One answered or failed exchange; status 0 when no answer came.
  virtual void on_request(Operation op, int status, double seconds) = 0;
  virtual void on_retry(Operation op, RetryReason reason, Millis delay) = 0;
};

}  // namespace orc
