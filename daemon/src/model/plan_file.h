// The plan as one document: what `--dry-run --output json` prints, what `--plan-out` writes and
// what `--apply-plan` reads back. Per zone the change set (creates, updates old -> new,
// deletes), counts and a checksum: SHA-256 over the zone's canonical form, so that a plan
// recomputed later can be compared with the reviewed one. Pure functions over values: the
// clock is handed in, files are read and written by the caller. The format is described in
// the README ("Plans as JSON") and by schemas/plan.schema.json. The reader is plan_reader.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/duration.h"
#include "base/enum_names.h"
#include "base/rfc3339.h"
#include "base/status.h"
#include "model/change_set.h"
#include "model/policy.h"

namespace orc {

inline constexpr std::string_view kPlanFormat = "origin-reconciler-plan";
inline constexpr int kPlanVersion = 1;
// A plan file larger than this is not read (a plan of 3,500 mappings in each of 100 zones is
// about 50 MiB).
inline constexpr std::size_t kMaxPlanFileBytes = 256u << 20;
// How far in the future a plan's created_at may lie (clocks of two machines differ a little).
inline constexpr Millis kPlanClockSkew = std::chrono::minutes(1);

// A plan file that is not a plan: unreadable, not JSON, a key unknown or of the wrong type, a
// checksum that does not match the content. The message names the file, the key and the value.
class PlanFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class PlanZoneStatus {
  kPlanned,  // listed and planned; the changes are what a run would send
  kBlocked,  // listed and planned, but the safety guard blocked the zone
  kFailed,   // the zone could not be listed: no plan
};
inline constexpr std::array kPlanZoneStatusNames = {
    EnumName{PlanZoneStatus::kPlanned, "planned"},
    EnumName{PlanZoneStatus::kBlocked, "blocked"},
    EnumName{PlanZoneStatus::kFailed, "failed"},
};
std::string_view to_string(PlanZoneStatus status);  // planned | blocked | failed

struct PlanCounts {
  std::size_t live = 0;          // live mappings listed
  std::size_t desired = 0;       // origins the desired state keeps
  std::size_t out_of_scope = 0;  // live, not desired, outside manage_cidrs: left alone
  std::size_t unparseable = 0;   // live IPs that are not addresses: never deleted
  friend bool operator==(const PlanCounts&, const PlanCounts&) = default;
};

struct PlanZone {
  std::string zone_id;
  PlanZoneStatus status = PlanZoneStatus::kPlanned;
  std::string reason;              // blocked or failed: why; empty otherwise
  PlanCounts counts;               // planned and blocked zones
  Policy policy = Policy::kPrune;  // the policy the zone was planned under
  ChangeSet changes;               // in canonical order (canonical_order)
  // Creates and updates held back because the API does not list their region: reported, not
  // sent, and not part of the checksum (a region the API lists by the time the plan is applied
  // makes a create or update the review did not see, and so another checksum).
  std::vector<Mapping> unsupported;
  std::string checksum;  // "sha256:<64 hex>" (zone_checksum); empty for a failed zone
  // The zone's name when the desired state writes it by name (`zone: example.com`), for the
  // reader of the plan; empty otherwise. Not part of the checksum: the id is what is applied.
  std::string zone_name = {};
  friend bool operator==(const PlanZone&, const PlanZone&) = default;
};

// What a plan document records about the run that made it.
struct PlanIdentity {
  std::string generator;       // "origin-reconciler 0.1.0"
  std::string api_flavor;      // origin-v2 | cache-v1
  std::string config;          // the configuration file's path
  std::string desired_state;   // the desired-state file's path
  std::string desired_sha256;  // "sha256:<64 hex>" of the desired-state file's bytes
  bool force = false;          // the safety guard was lifted (--force)
  friend bool operator==(const PlanIdentity&, const PlanIdentity&) = default;
};

struct PlanDocument {
  int version = kPlanVersion;
  WallTime created_at{};  // whole seconds, UTC
  PlanIdentity identity;
  std::vector<PlanZone> zones;  // in desired-state order
  std::string checksum;         // "sha256:<64 hex>" (plan_checksum)
  friend bool operator==(const PlanDocument&, const PlanDocument&) = default;
};

// The change set sorted the one way the plan document shows it: creates by ip, updates by the
// live ip, deletes by ip (byte order of the strings as given), so the listing order of the API
// does not change a plan.
ChangeSet canonical_order(ChangeSet changes);

// The canonical form of one zone's plan: compact JSON, keys sorted, no white space, non-ASCII
// as \u escapes, the change set in canonical order:
// {"creates":[{"ip","region","vendor"}],"deletes":[ip],
//  "updates":[{"from":{"ip","region","vendor"},"to":{"ip","region","vendor"}}],"zone_id"}
std::string canonical_zone(const std::string& zone_id, const ChangeSet& changes);

// "sha256:" and the SHA-256 of canonical_zone, in lower-case hex.
std::string zone_checksum(const std::string& zone_id, const ChangeSet& changes);

// The whole plan's checksum: "sha256:" and the SHA-256 of the canonical JSON array
// [{"checksum": zone checksum or null for a failed zone, "zone_id": id}, ...] in zone order.
std::string plan_checksum(const std::vector<PlanZone>& zones);

// A zone of the document from its parts: changes put in canonical order, checksum computed.
PlanZone make_plan_zone(std::string zone_id, PlanZoneStatus status, std::string reason,
                        PlanCounts counts, ChangeSet changes);

// The document's checksum computed from its zones.
PlanDocument make_plan_document(WallTime created_at, PlanIdentity identity,
                                std::vector<PlanZone> zones);

// The document as JSON text (pretty-printed, two spaces, ends with a newline).
std::string to_json_text(const PlanDocument& plan);

// Reads a document strictly: every key known and of its type, counts that match the lists,
// zone ids unique, every checksum matching the content. `file` names the file in messages:
// "plan.json: zones[0].deletes[2]: must be a string (got 5)". Throws PlanFileError. The text
// is read as it is parsed, with nlohmann's SAX parser, straight into the document's own
// structures: the memory taken is about what the document holds (kMaxJsonDepth levels at
// most), never a tree of the whole text.
PlanDocument parse_plan_document(std::string_view text, const std::string& file);
// The same, from a stream read a piece at a time (a FileStream, which bounds the size), so that
// not even the text is held whole.
PlanDocument parse_plan_document(std::istream& in, const std::string& file);

// Whether a plan made at `plan.created_at` may be applied at `now` with `max_age`; if not, why:
// older than max_age, or made more than kPlanClockSkew in the future.
Status check_plan_age(const PlanDocument& plan, const std::string& file, WallTime now,
                      Millis max_age);

// The first difference between a reviewed change set and a recomputed one (both in any order),
// or nullopt when they hold the same changes. Creates first, then updates, then deletes, each
// in canonical order: "deletes: 10.0.0.7 is in the plan file but not in the plan now".
std::optional<std::string> first_difference(const ChangeSet& reviewed, const ChangeSet& now);

// The first change of `now` that `reviewed` does not hold as it is (both in any order), or
// nullopt when `now` is a subset of `reviewed`: creates first, then updates, then deletes, each
// in canonical order: "deletes: 10.0.0.9 is in the plan now but not in the plan file".
std::optional<std::string> first_unreviewed_change(const ChangeSet& reviewed, const ChangeSet& now);

// What the reviewed plan says about the change set recomputed for a zone.
struct ZoneReview {
  // Ok: apply. Otherwise why the zone may not be applied: it is not in the file, its listing
  // had failed when the plan was made, or `now` holds a change the file does not (the first).
  Status verdict;
  std::size_t reviewed = 0;  // changes the file holds for the zone
  std::size_t left = 0;      // of those, still to make now
  // "" when the plan is the reviewed one; "resumed: 2 of the 5 reviewed changes left, ..." or
  // "already applied: ..." when a part (or all) of it is in place already.
  std::string progress() const;
};

// Whether `now`, the change set recomputed for `zone_id`, may be applied under the reviewed
// plan: it is the plan the file holds for that zone (same checksum), or a part of it (what a
// partial application leaves: each create, update and delete of `now` is one the file holds,
// as it is). An empty `now` is "already applied".
ZoneReview review_zone_changes(const PlanDocument& reviewed, const std::string& zone_id,
                               const ChangeSet& now);

// review_zone_changes(...).verdict.
Status review_zone(const PlanDocument& reviewed, const std::string& zone_id, const ChangeSet& now);

// Timestamps as plan documents write them: format_utc (base/rfc3339.h), "2026-12-02T01:30:00Z"
// (UTC, whole seconds). The parser takes exactly that form.
// Years a plan's created_at may name (others are refused: outside 1677..2262 the clock's
// nanoseconds would overflow).
inline constexpr std::pair<int, int> kPlanYears{1970, 2200};
std::optional<WallTime> parse_utc(std::string_view text);

}  // namespace orc
