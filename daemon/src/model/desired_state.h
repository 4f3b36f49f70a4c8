// The desired state: which zones are managed and which origin IPs each one keeps (read from
// its file by config/desired_state_parser.h).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "model/ip.h"
#include "model/label.h"
#include "model/origin_list.h"
#include "model/policy.h"

namespace orc {

// A pause of a zone's writes: its listing, plans and drift metrics go on, nothing is sent.
struct Suspension {
  std::string reason;             // why, as the operator wrote it (shown, never parsed)
  std::optional<WallTime> until;  // none: until removed; passed: the zone resumes
  friend bool operator==(const Suspension&, const Suspension&) = default;
};

struct DesiredZone {
  // 32 hex characters, lower-cased. Empty for a zone written by name until the name is
  // resolved (resolve_zone_names, zone_directory.h): nothing uses a zone before that.
  std::string zone_id;
  OriginList origins;                           // duplicates (after canonicalization) are an error
  std::vector<Cidr> manage_cidrs;               // unmapped (ip.h); empty: every live IP is in scope
  std::optional<Policy> policy = std::nullopt;  // none: reconcile.policy
  // The zone's own guard thresholds (0 to 1); none: reconcile.max_delete_fraction and
  // reconcile.max_update_fraction.
  std::optional<double> max_delete_fraction = std::nullopt;
  std::optional<double> max_update_fraction = std::nullopt;
  std::optional<Suspension> suspend = std::nullopt;  // suspend: {reason, until}
  // `zone: example.com` instead of `zone_id:` (lower-cased), and where it is written
  // ("desired.yaml:12"), for messages about the name.
  std::optional<std::string> zone_name = std::nullopt;
  std::string name_at = {};
  friend bool operator==(const DesiredZone&, const DesiredZone&) = default;
};

struct DesiredState {
  std::vector<DesiredZone> zones;  // in file order; zone ids unique
  friend bool operator==(const DesiredState&, const DesiredState&) = default;
};

// "023e105f4ecef8ad9ca31a8372d0c353 (example.com)" for a zone written by name, else the id.
std::string zone_label(const DesiredZone& zone);

// --zone: keeps only the zones `selectors` name (a zone id in any case, or a zone name), in
// file order. An error naming every selector that matches no zone (nothing is kept then).
Status select_zones(DesiredState& state, const std::vector<std::string>& selectors,
                    const std::string& file);

// --force-zone: the ids of the zones of `state` that `selectors` name (a zone id in any case,
// or a zone name as the desired state writes it with zone:, resolved already), in the order
// given, each once. An error naming every selector that matches no zone, as `option` ("--force-
// zone") and `file` (the desired state) say.
StatusOr<std::vector<std::string>> zone_ids_named(const DesiredState& state,
                                                  const std::vector<std::string>& selectors,
                                                  const std::string& option,
                                                  const std::string& file);

// Whether `name` is a DNS name as Cloudflare spells a zone: lower-case labels of a-z, 0-9 and
// '-', not starting or ending with '-', 1 to 63 characters each, at least two labels, at most
// 253 characters in all.
bool is_zone_name(std::string_view name);

}  // namespace orc
