// What the reconciler needs from Cloudflare, independent of the API generation
// (cloudflare/cloudflare_api.h implements both generations).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "base/cancellation.h"
#include "base/duration.h"
#include "base/enum_names.h"
#include "base/status.h"
#include "model/change_set.h"

namespace orc {

// The operations, as they are labelled in metrics and logs.
enum class Operation { kList, kBatchDelete, kGet, kBatchUpsert, kSupportedRegions, kZoneLookup };
inline constexpr auto kOperationNames = enum_names<Operation>(
    "list", "batch_delete", "get", "batch_upsert", "supported_regions", "zone_lookup");
// list | batch_delete | get | batch_upsert | supported_regions | zone_lookup (GET /zones?name=)
std::string_view to_string(Operation op);

enum class RetryReason { kRateLimited, kServerError, kTransport };
inline constexpr auto kRetryReasonNames =
    enum_names<RetryReason>("rate_limited", "server_error", "transport");
std::string_view to_string(RetryReason reason);  // rate_limited | server_error | transport

struct ApiError {
  enum class Kind {
    kRetryable,  // transport, timeout, 429, 5xx, malformed answer: worth another try
    kPermanent,  // other 4xx, or an answer that retrying cannot change
    kCancelled,  // a stop was requested (see cancelled())
  };
  Kind kind = Kind::kPermanent;
  RetryReason reason = RetryReason::kServerError;  // meaningful for kRetryable
  int http_status = 0;                             // 0: no answer
  std::vector<int> codes;                          // Cloudflare error codes from the envelope
  std::string message;                             // for people; never holds credentials
  std::optional<Millis> retry_after;
  StopReason stopped_by = StopReason::kShutdown;  // kCancelled: the stop's reason
  bool zone_full = false;  // the zone holds its maximum of mappings (the API layer decides)

  // Given up for a stop request: no answer, and the stop's reason (`stop.reason()`) kept and
  // given as the message.
  static ApiError cancelled(const StopView& stop);
  bool has_code(int code) const;
  std::string describe() const;  // "HTTP 403 [10000] Authentication error"
};

template <class T>
using Result = StatusOr<T, ApiError>;  // base/status.h

// Why the API did not carry out one item of a batch: its error code (0 when the answer gave
// none) and its message, as the API gave them (redacted).
struct Refusal {
  int code = 0;
  std::string message;
  std::string describe() const;  // "[1157] invalid region" or the message alone
  friend bool operator==(const Refusal&, const Refusal&) = default;
};

// What the API did with one item of a batch request, decided by the API layer (api_parse.h)
// from the answer: done; not done because there is nothing there (a delete whose mapping is
// already gone); or refused, for the given reason.
struct ItemOutcome {
  enum class Kind { kApplied, kAbsent, kRefused };
  Kind kind = Kind::kApplied;
  Refusal refusal;  // kRefused only

  static ItemOutcome applied() { return {}; }
  static ItemOutcome absent() { return {Kind::kAbsent, {}}; }
  static ItemOutcome refused(Refusal why) { return {Kind::kRefused, std::move(why)}; }
  friend bool operator==(const ItemOutcome&, const ItemOutcome&) = default;
};

// One entry of a batch answer: the IP as the answer spelled it, and what happened to it.
struct BatchItem {
  std::string ip;
  ItemOutcome outcome;
  friend bool operator==(const BatchItem&, const BatchItem&) = default;
};

// A batch delete or upsert answer, entries in answer order (succeeded ones first).
struct BatchResult {
  std::vector<BatchItem> items;
};

// A requested item that is still not done after everything the applier could check.
struct ItemFailure {
  std::string ip;  // as requested
  Refusal refusal;
  friend bool operator==(const ItemFailure&, const ItemFailure&) = default;
};

enum class Presence { kPresent, kAbsent };

class ZoneApi {
 public:
  virtual ~ZoneApi() = default;
  // Every live mapping of the zone, all pages. A zone with no mappings is an empty list.
  virtual Result<std::vector<Mapping>> list(const std::string& zone_id) = 0;
  // One DELETE .../batch request; at most 100 IPs (the caller chunks). An item whose mapping
  // the API says is not there is kAbsent; any other failed item is kRefused.
  virtual Result<BatchResult> batch_delete(const std::string& zone_id,
                                           const std::vector<std::string>& ips) = 0;
  // One batch upsert request (generation 1: PATCH .../batch; generation 2: PUT .../batch); at
  // most 100 mappings (the caller chunks). Every failed item is kRefused.
  virtual Result<BatchResult> batch_upsert(const std::string& zone_id,
                                           const std::vector<Mapping>& mappings) = 0;
  // Whether a mapping exists for one IP (the follow-up check of a failed batch item).
  virtual Result<Presence> get(const std::string& zone_id, const std::string& ip) = 0;
  // The regions the API accepts, by vendor (the same for every zone; read through one).
  virtual Result<SupportedRegions> supported_regions(const std::string& zone_id) = 0;
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
