// Fields a log line carries beside its message, for the log formats that keep them: journald's
// ZONE= and OPERATION= (journalctl -u origin-reconciler ZONE=<id>), and the JSON lines'
// "zone" and "operation". They are set on the thread that logs, for the scope of the work they
// name (the reconciler around a zone, the request executor around a request), so that no
// logging call has to pass them. The value is not copied: it must outlive the scope.
#pragma once

#include <string_view>

#include "base/enum_names.h"

namespace orc {

enum class LogField { kZone, kOperation };
// Each field's journald name (upper case, as journald field names are).
inline constexpr auto kLogFieldNames = enum_names<LogField>("ZONE", "OPERATION");

// The field's value on this thread; empty when no scope sets it.
std::string_view log_field(LogField field);

// Sets `field` to `value` on this thread until the scope ends, then restores what it was.
class ScopedLogField {
 public:
  ScopedLogField(LogField field, std::string_view value);
  ~ScopedLogField();
  ScopedLogField(const ScopedLogField&) = delete;
  ScopedLogField& operator=(const ScopedLogField&) = delete;

 private:
  LogField field_;
  std::string_view previous_;
};

}  // namespace orc
