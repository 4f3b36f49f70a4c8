#include "reconcile/zone_api.h"

#include <algorithm>

namespace orc {

std::string_view to_string(Operation op) {
  return enum_name(kOperationNames, op);
}

std::string_view to_string(RetryReason reason) {
  return enum_name(kRetryReasonNames, reason);
}

ApiError ApiError::cancelled(const StopView& stop) {
  const StopReason why = stop.reason();
  ApiError e;
  e.kind = Kind::kCancelled;
  e.stopped_by = why;
  e.message = std::string(orc::describe(why));
  return e;
}

bool ApiError::has_code(int code) const {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

std::string ApiError::describe() const {
  std::string out =
      http_status == 0 ? std::string("no answer") : "HTTP " + std::to_string(http_status);
  if (!message.empty()) out += ": " + message;
  return out;
}

std::string Refusal::describe() const {
  if (code == 0) return message;
  return "[" + std::to_string(code) + "] " + message;
}

}  // namespace orc
