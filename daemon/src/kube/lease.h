// The coordination.k8s.io/v1 Lease as leader election uses it: the record client-go keeps in
// its spec, the MicroTime text format, and the JSON bodies of the Lease API (pure functions).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/json_bounds.h"
#include "base/status.h"

namespace orc {

// spec.holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions. Times
// are kept as the text the API server holds: they are compared for change, never against our
// clock (another host's timestamp says nothing about expiry here).
struct LeaseRecord {
  std::string holder_identity;  // "" once released
  long long lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime text, "" when absent
  std::string renew_time;
  long long lease_transitions = 0;
  friend bool operator==(const LeaseRecord&, const LeaseRecord&) = default;
};

// A Lease as read from the API: its record, its metadata.resourceVersion (sent back on update
// so that a concurrent writer makes the update fail with 409), and the whole object (updates
// send it back with only the spec replaced, keeping labels and annotations).
struct Lease {
  LeaseRecord record;
  std::string resource_version;
  nlohmann::json object;
};

// MicroTime: RFC 3339 in UTC with exactly six fractional digits, "2026-12-02T00:32:29.123456Z".
std::string format_micro_time(WallTime t);
// Reads MicroTime as the API server writes it (six fractional digits, Z or a numeric offset);
// nullopt for anything else.
std::optional<WallTime> parse_micro_time(std::string_view text);

// The most a Lease API answer may be: a Lease is a few kB; the HTTP client reads no more than
// max_bytes, and parsing refuses anything nested deeper than any Lease is.
inline constexpr JsonBounds kLeaseAnswerBounds{1u << 20, kMaxJsonDepth};

// Parses an API answer holding one Lease; an Error saying what is wrong when it is not one
// (not JSON, too large or nested too deep: kLeaseAnswerBounds).
StatusOr<Lease> parse_lease(std::string_view body);

// The spec object of a record (times that are "" left out).
nlohmann::json lease_spec(const LeaseRecord& record);
// POST body: a new Lease `ns`/`name` holding `record`.
std::string new_lease_body(const std::string& ns, const std::string& name,
                           const LeaseRecord& record);
// PUT body: `current` as it was read (its resourceVersion included) with the spec replaced.
std::string updated_lease_body(const Lease& current, const LeaseRecord& record);

// The message of a Kubernetes Status answer ("reason: message"), or a short excerpt of a body
// that is not one. Made printable; never longer than about 300 bytes.
std::string status_message(std::string_view body);

}  // namespace orc
