// What a --once or --dry-run pass prints and the exit status it ends with: plain functions
// over the cycle's report, apart from the loop that produces it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/desired_state.h"
#include "model/plan_file.h"
#include "reconcile/reconciler.h"

namespace orc {

// A zone an --apply-plan pass did not apply because its plan is not the reviewed one.
struct NotApplied {
  std::string zone_id;
  std::string why;
  friend bool operator==(const NotApplied&, const NotApplied&) = default;
};

// The --dry-run / --once report printed on standard output. Zones a stop interrupted are
// reported as stopped; with `stopped` (a SIGTERM or SIGINT cut the pass short) the zones of
// `desired` the pass never reached are listed as not started. `not_applied`
// (--apply-plan): those zones are reported as not applied, with why.
// `notes` (--apply-plan): a word on zones applied in part or already applied, shown after the
// zone's counts when it has no error.
std::string format_plan_report(const CycleReport& cycle, bool dry_run,
                               const DesiredState* desired = nullptr, bool stopped = false,
                               const std::vector<NotApplied>* not_applied = nullptr,
                               const std::vector<NotApplied>* notes = nullptr);

enum class OutputFormat { kText, kJson, kMarkdown };

// What a --once pass does with its plan besides acting on it.
struct OnceOutput {
  OutputFormat format = OutputFormat::kText;     // --output
  std::filesystem::path plan_out;                // --plan-out: where to write the plan; empty: not
  std::shared_ptr<const PlanDocument> reviewed;  // --apply-plan: the reviewed plan, already read
  std::string reviewed_file;                     // its path, for messages
  PlanIdentity identity;                         // what a plan document says about this run
  // --zone: the run covers some zones only; a reviewed plan's other zones are not this run's.
  bool limited_to_zones = false;
  bool detailed_exitcode = false;  // --detailed-exitcode: 4 when changes are pending
};

// The change set a zone's plan asks for.
ChangeSet planned_changes(const ZonePlan& plan);

// The plan document of a pass: every zone of the report (listed zones planned or blocked,
// the others failed), made at `now`.
PlanDocument plan_document(const CycleReport& cycle, const PlanIdentity& identity, WallTime now);

// The zones of an --apply-plan pass whose plan is not the reviewed one: listed zones whose
// recomputed change set differs from the file's (the guard's blocks included: the plan is
// compared before the guard counts), and zones of the plan file the desired state no longer
// has (unless `limited`: a --zone run leaves the plan's other zones for another run). Zones
// a stop interrupted and zones whose listing failed are reported as they are.
std::vector<NotApplied> review_cycle(const CycleReport& cycle, const PlanDocument& reviewed,
                                     const DesiredState& desired, bool limited = false);

// The zones of an --apply-plan pass whose recomputed plan is a part of the reviewed one
// (resumed), or empty (already applied), with that word (ZoneReview::progress).
std::vector<NotApplied> review_progress(const CycleReport& cycle, const PlanDocument& reviewed);

struct OnceResult {
  std::string out;        // for standard output
  std::string plan_file;  // the document for --plan-out; empty: nothing to write
  std::string note;       // for standard error; empty: nothing to say
  int status = 0;         // the exit status
};

// What a --once pass prints and writes, and its exit status (CycleReport::exit_status: a
// clean stop is not a failure): with a reviewed plan, any zone not applied as reviewed makes
// it 1; with `detailed_exitcode`, a dry run whose status would be 0 is 4 when changes are
// pending (1, 2 and 3 win over 4). A pass cut short by a stop writes no plan file (a plan
// missing zones is not one to review).
OnceResult render_once(const CycleReport& cycle, bool dry_run, const OnceOutput& output,
                       const DesiredState& desired, bool stopped, WallTime now);

// Writes the whole file or nothing: `text` goes to PATH.<pid>.tmp, created new and never
// through a symlink (O_EXCL | O_NOFOLLOW), renamed over `path`. An Error with the system's
// reason ("No such file or directory", "File exists") when it cannot (no temporary file of
// its own is left).
Status write_whole(const std::filesystem::path& path, const std::string& text);

// render_once, then prints, and writes the plan file (whole: a temporary file renamed over
// it). Returns the exit status; 2 when the plan file cannot be written.
int finish_once(const CycleReport& cycle, bool dry_run, const OnceOutput& output,
                const DesiredState& desired, bool stopped, WallTime now);

}  // namespace orc
