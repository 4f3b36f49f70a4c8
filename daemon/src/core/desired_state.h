// The desired-state file: which zones are managed and which origin IPs each one keeps.
// An invalid file is rejected whole (DesiredStateError): an invalid desired state must
// never lead to a deletion.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ip.h"
#include "core/policy.h"

namespace orc {

class DesiredStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DesiredOrigin {
  std::string ip;                     // canonical origin form (ip.h): ::ffff:a.b.c.d is a.b.c.d
  std::optional<std::string> vendor;  // aws|azure|gcp|oci when given
  std::optional<std::string> region;
};

// A pause of a zone's writes: its listing, plans and drift metrics go on, nothing is sent.
struct Suspension {
  std::string reason;             // why, as the operator wrote it (shown, never parsed)
  std::optional<WallTime> until;  // none: until removed; passed: the zone resumes
  friend bool operator==(const Suspension&, const Suspension&) = default;
};

struct DesiredZone {
  std::string zone_id;                          // 32 hex characters, lower-cased
  std::vector<DesiredOrigin> origins;           // duplicates (after canonicalization) are an error
  std::vector<Cidr> manage_cidrs;               // unmapped (ip.h); empty: every live IP is in scope
  std::optional<Policy> policy = std::nullopt;  // none: reconcile.policy
  // The zone's own guard thresholds (0 to 1); none: reconcile.max_delete_fraction and
  // reconcile.max_update_fraction.
  std::optional<double> max_delete_fraction = std::nullopt;
  std::optional<double> max_update_fraction = std::nullopt;
  std::optional<Suspension> suspend = std::nullopt;  // suspend: {reason, until}
};

struct DesiredState {
  std::vector<DesiredZone> zones;  // in file order; zone ids unique
};

// Parses desired-state text; `path` is used in messages ("desired.yaml: zones[2].origins[5]:
// '10.0.0.300' is not an IPv4 or IPv6 address"). Throws DesiredStateError.
DesiredState parse_desired_state(std::string_view text, const std::filesystem::path& path);

// Reads and parses the file. Throws DesiredStateError (including for an unreadable file).
DesiredState load_desired_state(const std::filesystem::path& path);

}  // namespace orc
