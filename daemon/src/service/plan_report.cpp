#include "service/plan_report.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

#include "base/redact.h"
#include "model/plan_markdown.h"

namespace orc {

namespace {

const NotApplied* refusal_of(const std::vector<NotApplied>* not_applied,
                             const std::string& zone_id) {
  if (not_applied == nullptr) return nullptr;
  for (const auto& n : *not_applied) {
    if (n.zone_id == zone_id) return &n;
  }
  return nullptr;
}

// Every zone of the pass was listed and had nothing left, and the reviewed plan had changes.
bool already_applied(const CycleReport& cycle, const std::vector<NotApplied>& progress) {
  const bool nothing_left = std::all_of(cycle.zones.begin(), cycle.zones.end(), [](const auto& z) {
    return z.listed && z.plan.changes.empty() && z.outcome == ZoneOutcome::kSuccess;
  });
  return nothing_left && !progress.empty();
}

bool reported(const CycleReport& cycle, const std::string& zone_id) {
  return std::any_of(cycle.zones.begin(), cycle.zones.end(),
                     [&](const ZoneReport& z) { return z.zone_id == zone_id; });
}

// "zone <id>: <outcome> live=... (why)". Errors, IPs and item errors come from the API's
// answers: printed through redact().
void write_zone_line(std::ostream& out, const ZoneReport& z, bool dry_run,
                     const NotApplied* refused, const NotApplied* note) {
  out << "zone " << z.label() << ": "
      << (refused != nullptr                       ? "not applied"
          : z.outcome == ZoneOutcome::kInterrupted ? "stopped"
                                                   : to_string(z.outcome));
  if (z.listed) {
    out << " live=" << z.plan.live << " desired=" << z.plan.desired
        << " stale=" << z.plan.changes.delete_count();
    if (z.plan.out_of_scope > 0) out << " out_of_scope=" << z.plan.out_of_scope;
  }
  if (!dry_run) {
    out << " pruned=" << z.applied.pruned << " already_gone=" << z.applied.already_gone
        << " not_deleted=" << z.applied.delete_failed.size() << " requests=" << z.applied.requests;
  }
  if (refused != nullptr) {
    out << " (" << redact(refused->why, kLogLineCap) << ")";
  } else if (!z.error.empty()) {
    out << " (" << redact(z.error, kLogLineCap) << ")";
  } else if (note != nullptr) {
    out << " (" << note->why << ")";
  }
  out << "\n";
}

// A line per change a dry run would make, or a blocked zone did not make.
void write_changes(std::ostream& out, const ZonePlan& plan, bool dry_run) {
  const ChangeSet changes = planned_changes(plan);
  const char* prefix = dry_run ? "would " : "blocked ";
  for (const auto& m : changes.creates) {
    out << "  " << prefix << "create " << redact(m.ip) << " " << redact(m.vendor) << "/"
        << redact(m.region) << "\n";
  }
  for (const auto& u : changes.updates) {
    out << "  " << prefix << "update " << redact(u.from.ip) << " " << redact(u.from.vendor) << "/"
        << redact(u.from.region) << " -> " << redact(u.to.vendor) << "/" << redact(u.to.region)
        << "\n";
  }
  const char* verb = dry_run ? "would delete" : "blocked";
  for (const auto& ip : changes.deletes) out << "  " << verb << " " << redact(ip) << "\n";
}

// Zones of the desired state a stop came before; returns how many.
std::size_t write_not_started(std::ostream& out, const CycleReport& cycle,
                              const DesiredState& desired) {
  std::size_t not_started = 0;
  for (const auto& dz : desired.zones) {
    if (reported(cycle, dz.zone_id)) continue;
    ++not_started;
    out << "zone " << dz.zone_id << ": not started (stopped before it was reconciled)\n";
  }
  return not_started;
}

}  // namespace

std::string format_plan_report(const CycleReport& cycle, bool dry_run, const DesiredState* desired,
                               bool stopped, const std::vector<NotApplied>* not_applied,
                               const std::vector<NotApplied>* notes) {
  std::ostringstream out;
  std::size_t cut_short = 0;
  for (const auto& z : cycle.zones) {
    if (z.outcome == ZoneOutcome::kInterrupted) ++cut_short;
    write_zone_line(out, z, dry_run, refusal_of(not_applied, z.zone_id),
                    refusal_of(notes, z.zone_id));
    if (dry_run || z.outcome == ZoneOutcome::kBlocked) write_changes(out, z.plan, dry_run);
    for (const auto& f : z.applied.delete_failed)
      out << "  not deleted " << redact(f.ip) << ": " << redact(f.refusal.describe()) << "\n";
  }
  if (not_applied != nullptr) {
    for (const auto& n : *not_applied) {
      if (!reported(cycle, n.zone_id)) {
        out << "zone " << n.zone_id << ": not applied (" << redact(n.why) << ")\n";
      }
    }
  }
  const std::size_t not_started =
      stopped && desired != nullptr ? write_not_started(out, cycle, *desired) : 0;
  out << (dry_run ? "dry run: " : "") << cycle.summary() << "\n";
  if (stopped) {
    out << "stopped by a signal: " << cut_short << " zones cut short, " << not_started
        << " not started; run again to finish them\n";
  }
  return out.str();
}

ChangeSet planned_changes(const ZonePlan& plan) {
  return plan.changes;
}

PlanDocument plan_document(const CycleReport& cycle, const PlanIdentity& identity, WallTime now) {
  std::vector<PlanZone> zones;
  zones.reserve(cycle.zones.size());
  for (const auto& z : cycle.zones) {
    if (!z.listed) {
      zones.push_back(make_plan_zone(z.zone_id, PlanZoneStatus::kFailed,
                                     z.error.empty() ? "not listed" : z.error, {}, {}));
      zones.back().zone_name = z.zone_name.value_or("");
      continue;
    }
    const bool blocked = z.outcome == ZoneOutcome::kBlocked;
    PlanZone pz =
        make_plan_zone(z.zone_id, blocked ? PlanZoneStatus::kBlocked : PlanZoneStatus::kPlanned,
                       blocked ? z.error : "",
                       {z.plan.live, z.plan.desired, z.plan.out_of_scope, z.plan.unparseable},
                       planned_changes(z.plan));
    pz.policy = z.plan.policy;
    pz.unsupported = z.unsupported;
    pz.zone_name = z.zone_name.value_or("");
    zones.push_back(std::move(pz));
  }
  return make_plan_document(now, identity, std::move(zones));
}

std::vector<NotApplied> review_cycle(const CycleReport& cycle, const PlanDocument& reviewed,
                                     const DesiredState& desired, bool limited) {
  std::vector<NotApplied> out;
  for (const auto& z : cycle.zones) {
    if (!z.listed || z.outcome == ZoneOutcome::kInterrupted) continue;
    if (const Status verdict = review_zone(reviewed, z.zone_id, planned_changes(z.plan));
        !verdict.ok()) {
      out.push_back({z.zone_id, verdict.error().message});
    }
  }
  for (const auto& pz : reviewed.zones) {
    if (limited) break;
    const bool wanted = std::any_of(desired.zones.begin(), desired.zones.end(),
                                    [&](const DesiredZone& d) { return d.zone_id == pz.zone_id; });
    if (!wanted) {
      out.push_back({pz.zone_id, "the zone is in the plan file but not in the desired state"});
    }
  }
  return out;
}

std::vector<NotApplied> review_progress(const CycleReport& cycle, const PlanDocument& reviewed) {
  std::vector<NotApplied> out;
  for (const auto& z : cycle.zones) {
    if (!z.listed) continue;
    const ZoneReview review = review_zone_changes(reviewed, z.zone_id, planned_changes(z.plan));
    if (std::string word = review.progress(); !word.empty()) out.push_back({z.zone_id, word});
  }
  return out;
}

OnceResult render_once(const CycleReport& cycle, bool dry_run, const OnceOutput& output,
                       const DesiredState& desired, bool stopped, WallTime now) {
  OnceResult result;
  std::vector<NotApplied> not_applied;
  std::vector<NotApplied> progress;
  if (output.reviewed) {
    progress = review_progress(cycle, *output.reviewed);
    not_applied = review_cycle(cycle, *output.reviewed, desired, output.limited_to_zones);
  }
  result.status = cycle.exit_status({.reviewed_plan_refused = !not_applied.empty(),
                                     .drift_check = dry_run && output.detailed_exitcode});
  const bool wants_plan =
      output.format != OutputFormat::kText || !output.plan_out.empty() || dry_run;
  const PlanDocument plan =
      wants_plan ? plan_document(cycle, output.identity, now) : PlanDocument{};
  const std::string json = wants_plan ? to_json_text(plan) : std::string();

  if (output.format == OutputFormat::kJson) {
    result.out = json;
  } else if (output.format == OutputFormat::kMarkdown) {
    result.out = to_markdown(plan);
  } else {
    std::ostringstream out;
    if (output.reviewed) {
      out << "plan file " << output.reviewed_file << ": made "
          << format_utc(output.reviewed->created_at) << " by "
          << output.reviewed->identity.generator << ", checksum " << output.reviewed->checksum
          << "\n";
    }
    out << format_plan_report(cycle, dry_run, &desired, stopped,
                              output.reviewed ? &not_applied : nullptr,
                              output.reviewed ? &progress : nullptr);
    if (dry_run) out << "plan checksum " << plan.checksum << "\n";
    if (output.reviewed && !not_applied.empty()) {
      out << "reviewed plan: " << not_applied.size()
          << " zones not applied, nothing was sent in them; review a new plan (--dry-run "
             "--plan-out)\n";
    }
    if (output.reviewed && not_applied.empty() && !stopped && already_applied(cycle, progress)) {
      out << "reviewed plan: already applied, nothing was left to send\n";
    }
    result.out = out.str();
  }
  if (!output.plan_out.empty()) {
    if (stopped) {
      result.note = "plan file " + output.plan_out.string() +
                    " not written: the pass was stopped before every zone was planned";
    } else {
      result.plan_file = json;
    }
  }
  return result;
}

Status write_whole(const std::filesystem::path& path, const std::string& text) {
  // A name of this process's own, created new (O_EXCL) and never through a link (O_NOFOLLOW):
  // a symlink or file planted at it makes the write fail instead of overwriting its target.
  std::filesystem::path tmp = path;
  tmp += "." + std::to_string(::getpid()) + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) return Error{std::strerror(errno)};
  const auto fail = [&](int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error{std::strerror(err)};
  };
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno);
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Error{std::strerror(err)};
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Error{std::strerror(err)};
  }
  return ok_status();
}

int finish_once(const CycleReport& cycle, bool dry_run, const OnceOutput& output,
                const DesiredState& desired, bool stopped, WallTime now) {
  const OnceResult result = render_once(cycle, dry_run, output, desired, stopped, now);
  std::fputs(result.out.c_str(), stdout);
  std::fflush(stdout);
  if (!result.note.empty()) std::cerr << "origin-reconciler: " << result.note << "\n";
  if (!result.plan_file.empty()) {
    if (const Status written = write_whole(output.plan_out, result.plan_file); !written.ok()) {
      std::cerr << "origin-reconciler: " << output.plan_out.string()
                << ": cannot write the plan file: " << written.error().message << "\n";
      return 2;
    }
  }
  return result.status;
}

}  // namespace orc
