#include "service/plan_report.h"

#include <algorithm>
#include <sstream>

#include "core/redact.h"

namespace orc {

bool cut_short_by_stop(const ZoneReport& zone) {
  if (zone.outcome != ZoneOutcome::kFailure || !zone.applied.failed.empty()) return false;
  if (zone.applied.error) return zone.applied.error->kind == ApiError::Kind::kCancelled;
  // A listing abandoned for the stop: the report keeps only the error's text.
  static const std::string kCancelled = ApiError::cancelled().describe();
  return zone.error.ends_with(kCancelled);
}

int once_exit_status(const CycleReport& cycle, bool stopped) {
  if (!stopped) return cycle.exit_status();
  bool failed = false;
  bool blocked = false;
  for (const auto& z : cycle.zones) {
    if (!z.applied.failed.empty()) failed = true;
    if (z.outcome == ZoneOutcome::kFailure && !cut_short_by_stop(z)) failed = true;
    if (z.outcome == ZoneOutcome::kBlocked) blocked = true;
  }
  return failed ? 1 : (blocked ? 3 : 0);
}

std::string format_plan_report(const CycleReport& cycle, bool dry_run, const DesiredState* desired,
                               bool stopped) {
  std::ostringstream out;
  std::size_t cut_short = 0;
  for (const auto& z : cycle.zones) {
    const bool cut = stopped && cut_short_by_stop(z);
    if (cut) ++cut_short;
    out << "zone " << z.zone_id << ": " << (cut ? "stopped" : to_string(z.outcome));
    if (z.listed) {
      out << " live=" << z.plan.live << " desired=" << z.plan.desired
          << " stale=" << z.plan.stale.size();
      if (z.plan.out_of_scope > 0) out << " out_of_scope=" << z.plan.out_of_scope;
    }
    if (!dry_run) {
      out << " pruned=" << z.applied.pruned << " already_gone=" << z.applied.already_gone
          << " not_deleted=" << z.applied.failed.size() << " requests=" << z.applied.requests;
    }
    // Errors, IPs and item errors come from the API's answers: printed through redact().
    if (!z.error.empty()) out << " (" << redact(z.error, kLogLineCap) << ")";
    out << "\n";
    if (dry_run || z.outcome == ZoneOutcome::kBlocked) {
      const char* verb = dry_run ? "would delete" : "blocked";
      for (const auto& ip : z.plan.stale) out << "  " << verb << " " << redact(ip) << "\n";
    }
    for (const auto& f : z.applied.failed)
      out << "  not deleted " << redact(f.ip) << ": " << redact(f.error) << "\n";
  }
  std::size_t not_started = 0;
  if (stopped && desired != nullptr) {
    for (const auto& dz : desired->zones) {
      const bool reported =
          std::any_of(cycle.zones.begin(), cycle.zones.end(),
                      [&](const ZoneReport& z) { return z.zone_id == dz.zone_id; });
      if (reported) continue;
      ++not_started;
      out << "zone " << dz.zone_id << ": not started (stopped before it was reconciled)\n";
    }
  }
  out << (dry_run ? "dry run: " : "") << cycle.summary() << "\n";
  if (stopped) {
    out << "stopped by a signal: " << cut_short << " zones cut short, " << not_started
        << " not started; run again to finish them\n";
  }
  return out.str();
}

}  // namespace orc
