// Taking in a changed desired-state file only once it is complete.
//
// A file can be read while its writer is still writing it (an editor saving in place,
// `generate > desired.yaml`, a slow network filesystem); a prefix that happens to be valid
// YAML lacks the trailing origins, and pruning against it would delete origins the finished
// file wants. So a change is used only once it has been stable (same identity, size, mtime
// and content hash) across the settle period. A change that would remove more than
// max_delete_fraction of a zone's desired origins (or widen a zone's manage_cidrs scope)
// is then held until it has stayed unchanged for the confirmation period, or SIGHUP says the
// file is complete. A Kubernetes ConfigMap update (the kubelet swaps the `..data` symlink to
// a new folder) is a change like any other: stat() follows the symlinks.
//
// DesiredWatch is the decision alone (no I/O, time handed in); the daemon does the reading.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/duration.h"
#include "base/source_text.h"
#include "config/desired_state_parser.h"

namespace orc {

// The hash that tells two versions of the file apart: the first 8 bytes of its SHA-256, so
// that a file hashed as it streams (read_desired_file) and one read whole agree.
std::uint64_t content_hash(std::string_view text);

// One version of the file as read: its stamp and content hash.
struct FileVersion {
  FileStamp stamp;
  std::uint64_t hash = 0;
  friend bool operator==(const FileVersion&, const FileVersion&) = default;
};

// The version of what was read.
FileVersion version_of(const FileContents& read);

// A parsed desired-state file and the version it was parsed from.
struct DesiredFile {
  DesiredState state;
  FileVersion version;
  std::string sha256;  // "sha256:<64 hex>" of the bytes read: the file's identity in a plan
};

// Reads and parses the file (a regular file only, see read_file), or every desired-state file
// of a directory (desired_file.h). Throws DesiredStateError naming the file.
DesiredFile read_desired_file(const std::filesystem::path& path);

// The desired state in what was read: one file, or a directory's files (FileContents::parts).
// Throws DesiredStateError naming the file.
DesiredState parse_desired_contents(const FileContents& read, const std::filesystem::path& path);

class DesiredWatch {
 public:
  // `in_force`: the version whose desired state is in use (read at start-up).
  DesiredWatch(Millis settle_period, Millis confirm_period, FileVersion in_force);

  // Whether the file is worth reading, from its stamp alone: it differs from the last version
  // seen, or a pending decision (end of the settle or confirmation period) is due. A file
  // that did not change is not re-read every poll.
  bool worth_reading(const FileStamp& stamp, MonoTime now) const;

  enum class Step {
    kNothing,       // the same version as last time, nothing due
    kSettling,      // a new version: wait until it has been stable for the settle period
    kHeldReplaced,  // like kSettling, and the change that was held is dropped
    kJudge,         // stable for the settle period: parse it and call judged()
    kBackInForce,   // the file holds the version in force again (a change undone or replaced)
    kStillHeld,     // the held change is unchanged; its confirmation period is not over
    kConfirmed,     // the held change stayed unchanged for the confirmation period: use it
  };
  Step observe(const FileVersion& seen, MonoTime now);

  enum class Verdict { kUse, kHold, kReject };
  // After kJudge: what to do with the settled version, given whether it parsed and whether
  // it removes too much (see removals_beyond).
  Verdict judged(bool valid, bool removes_too_much, MonoTime now);

  // SIGHUP: the operator says the file is complete. `seen` was read just now and is in
  // force from now on if valid (no settle, no hold), rejected otherwise; either way any
  // held or settling change is dropped.
  void confirmed_by_operator(const FileVersion& seen, bool valid);

  // The file cannot be read (gone, not a regular file, no access): a settling or held change
  // is dropped; the version in force stays.
  void lost();

  bool held() const { return held_.has_value(); }
  // When the held change takes effect if it stays unchanged.
  std::optional<MonoTime> held_until() const;
  // When the next decision falls due (end of a settle or confirmation period), if any.
  std::optional<MonoTime> due() const;
  Millis settle_period() const { return settle_; }
  Millis confirm_period() const { return confirm_; }

 private:
  struct Pending {
    FileVersion version;
    MonoTime since;
  };

  Millis settle_;
  Millis confirm_;
  FileVersion in_force_;
  std::optional<FileVersion> last_seen_;  // nullopt: nothing seen since the file was lost
  std::optional<FileVersion> rejected_;   // the last settled version that did not parse
  std::optional<Pending> settling_;
  std::optional<Pending> held_;  // since: when it was judged
};

// A zone whose desired origins a new desired state would cut by more than the allowed
// fraction, or whose manage_cidrs scope it would widen.
struct ZoneShrink {
  std::string zone_id;
  std::size_t before = 0;   // desired origins in force
  std::size_t removed = 0;  // of those, not in the new desired state
  bool removes_too_much = false;
  bool scope_widened = false;  // the new scope covers addresses the old one did not
  std::optional<std::string> zone_name = std::nullopt;  // when the desired state names it
};

// Zones present in both states (a zone left out of the file is no longer managed, so nothing
// is deleted in it) that lose more than `max_fraction` of their desired origins, or whose
// manage_cidrs scope grows; in the order of `in_force`.
std::vector<ZoneShrink> removals_beyond(const DesiredState& in_force, const DesiredState& next,
                                        double max_fraction);

// "zone 023e…: 200 of 500 desired origins removed (40.0%); zone …: manage_cidrs widened",
// the first `max_zones` zones, then "and N more zones".
std::string describe(const std::vector<ZoneShrink>& shrinks, std::size_t max_zones = 5);

}  // namespace orc
