#include "core/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/api_parse.h"
#include "core/ip.h"
#include "core/source_text.h"

namespace orc {

namespace {
constexpr std::size_t kItemsLoggedPerZone = 10;  // beyond this, one summary line
constexpr std::size_t kUnrequestedShown = 5;     // answer entries quoted per warning
}  // namespace

MatchedBatch match_batch_answer(const std::vector<std::string>& requested,
                                const BatchDeleteResult& answer) {
  constexpr std::size_t kAmbiguous = static_cast<std::size_t>(-1);
  std::unordered_map<std::string, std::size_t> exact;   // RFC 5952 form -> request index
  std::unordered_map<std::string, std::size_t> origin;  // canonical origin form -> index
  for (std::size_t i = 0; i < requested.size(); ++i) {
    const auto ip = parse_ip(requested[i]);
    if (!ip) continue;  // nothing in an answer can match it
    exact.try_emplace(to_string(*ip), i);
    // "10.0.0.9" and "::ffff:10.0.0.9" both requested: only their exact forms match.
    auto [it, inserted] = origin.try_emplace(to_string(unmapped(*ip)), i);
    if (!inserted && exact.at(to_string(*ip)) != it->second) it->second = kAmbiguous;
  }
  auto find = [&](const std::string& text) -> std::optional<std::size_t> {
    const auto ip = parse_ip(text);
    if (!ip) return std::nullopt;
    if (auto it = exact.find(to_string(*ip)); it != exact.end()) return it->second;
    if (auto it = origin.find(to_string(unmapped(*ip))); it != origin.end()) {
      if (it->second != kAmbiguous) return it->second;
    }
    return std::nullopt;
  };

  enum class State : std::uint8_t { kUnanswered, kSucceeded, kFailed };
  std::vector<State> state(requested.size(), State::kUnanswered);
  std::vector<const std::string*> error(requested.size(), nullptr);
  MatchedBatch out;
  for (const auto& item : answer.failed) {
    const auto i = find(item.ip);
    if (!i) {
      out.unrequested.push_back(item.ip);
    } else if (state[*i] != State::kFailed) {
      state[*i] = State::kFailed;
      error[*i] = &item.error;
    }
  }
  for (const auto& ip : answer.succeeded) {
    const auto i = find(ip);
    if (!i) {
      out.unrequested.push_back(ip);
    } else if (state[*i] == State::kUnanswered) {
      state[*i] = State::kSucceeded;
    }
  }
  for (std::size_t i = 0; i < requested.size(); ++i) {
    switch (state[i]) {
      case State::kSucceeded:
        out.succeeded.push_back(requested[i]);
        break;
      case State::kFailed:
        out.failed.push_back({requested[i], *error[i]});
        break;
      case State::kUnanswered:
        ++out.unanswered;
        break;
    }
  }
  return out;
}

namespace {

void warn_about_answer(const std::string& zone_id, const MatchedBatch& m) {
  if (!m.unrequested.empty()) {
    std::string quoted;
    for (std::size_t i = 0; i < m.unrequested.size() && i < kUnrequestedShown; ++i) {
      if (!quoted.empty()) quoted += ", ";
      quoted += "'" + shown(m.unrequested[i], 64) + "'";
    }
    if (m.unrequested.size() > kUnrequestedShown) quoted += ", ...";
    spdlog::warn(
        "zone {}: the batch delete answer names {} IPs that were not in the request; ignored "
        "(not counted, not checked): {}",
        zone_id, m.unrequested.size(), quoted);
  }
  if (m.unanswered > 0) {
    spdlog::warn(
        "zone {}: the batch delete answer does not mention {} of the IPs requested; not counted "
        "as pruned (the next listing shows whether they are gone)",
        zone_id, m.unanswered);
  }
}

}  // namespace

ApplyResult BatchDeleteApplier::apply(const std::string& zone_id,
                                      const std::vector<std::string>& stale) {
  ApplyResult out;
  for (const auto& batch : chunk(stale, batch_size_)) {
    if (stop_.stop_requested()) {
      out.error = ApiError::cancelled();
      break;
    }
    ++out.requests;
    auto result = api_.batch_delete(zone_id, batch);
    if (!result.ok()) {
      out.error = result.error();
      break;
    }
    // Only what was asked for counts, and only a requested IP is ever checked.
    MatchedBatch matched = match_batch_answer(batch, result.value());
    warn_about_answer(zone_id, matched);
    out.unrequested += matched.unrequested.size();
    out.pruned += matched.succeeded.size();
    for (auto& item : matched.failed) {
      // The batch is not transactional: another actor may have removed the mapping already.
      if (says_not_found(item.error)) {
        ++out.already_gone;
        continue;
      }
      // The path gets the RFC 5952 form of the IP we requested, never text from the answer.
      const auto path_ip = canonicalize_ip(item.ip);
      if (!path_ip) {  // the plan sends only addresses; kept as a failure should that change
        out.failed.push_back(std::move(item));
        continue;
      }
      auto presence = api_.get(zone_id, *path_ip);
      if (presence.ok() && presence.value() == Presence::kAbsent) {
        ++out.already_gone;
        continue;
      }
      if (!presence.ok()) {
        item.error += " (follow-up check failed: " + presence.error().describe() + ")";
      }
      out.failed.push_back(std::move(item));
    }
  }
  return out;
}

std::string_view to_string(ZoneOutcome outcome) {
  switch (outcome) {
    case ZoneOutcome::kSuccess:
      return "success";
    case ZoneOutcome::kFailure:
      return "failure";
    case ZoneOutcome::kBlocked:
      return "blocked";
    case ZoneOutcome::kDryRun:
      return "dry_run";
  }
  return "unknown";
}

std::size_t CycleReport::count(ZoneOutcome outcome) const {
  return static_cast<std::size_t>(std::count_if(
      zones.begin(), zones.end(), [&](const ZoneReport& z) { return z.outcome == outcome; }));
}

std::size_t CycleReport::failed_items() const {
  std::size_t n = 0;
  for (const auto& z : zones) n += z.applied.failed.size();
  return n;
}

int CycleReport::exit_status() const {
  if (count(ZoneOutcome::kFailure) > 0 || failed_items() > 0) return 1;
  if (count(ZoneOutcome::kBlocked) > 0) return 3;
  return 0;
}

std::string CycleReport::summary() const {
  std::size_t pruned = 0;
  std::size_t stale = 0;
  for (const auto& z : zones) {
    pruned += z.applied.pruned;
    stale += z.plan.stale.size();
  }
  return fmt::format("{} zones: {} ok, {} failed, {} blocked, {} dry-run; {} stale, {} pruned{}",
                     zones.size(), count(ZoneOutcome::kSuccess), count(ZoneOutcome::kFailure),
                     count(ZoneOutcome::kBlocked), count(ZoneOutcome::kDryRun), stale, pruned,
                     interrupted ? " (interrupted)" : "");
}

namespace {

void log_report(const ZoneReport& r) {
  const auto& p = r.plan;
  const auto& a = r.applied;
  switch (r.outcome) {
    case ZoneOutcome::kSuccess:
      spdlog::info(
          "zone {}: in line: live={} desired={} stale={} pruned={} already_gone={} "
          "requests={} ({:.2f}s)",
          r.zone_id, p.live, p.desired, p.stale.size(), a.pruned, a.already_gone, a.requests,
          r.seconds);
      break;
    case ZoneOutcome::kDryRun:
      spdlog::info("zone {}: dry run: live={} desired={} stale={} (nothing deleted)", r.zone_id,
                   p.live, p.desired, p.stale.size());
      break;
    case ZoneOutcome::kBlocked:
      spdlog::warn(
          "zone {}: safety guard blocked the prune: {}; nothing deleted (use --force "
          "for one run if this is intended)",
          r.zone_id, r.error);
      break;
    case ZoneOutcome::kFailure:
      spdlog::error(
          "zone {}: reconcile failed: {}: live={} stale={} pruned={} not_deleted={}; "
          "will retry next cycle",
          r.zone_id, r.error, p.live, p.stale.size(), a.pruned, a.failed.size());
      break;
  }
  for (std::size_t i = 0; i < a.failed.size() && i < kItemsLoggedPerZone; ++i) {
    spdlog::warn("zone {}: {} was not deleted: {}", r.zone_id, a.failed[i].ip, a.failed[i].error);
  }
  if (a.failed.size() > kItemsLoggedPerZone) {
    spdlog::warn("zone {}: {} more items were not deleted", r.zone_id,
                 a.failed.size() - kItemsLoggedPerZone);
  }
  if (p.unparseable > 0) {
    spdlog::warn("zone {}: {} live mappings have an IP that does not parse; left alone", r.zone_id,
                 p.unparseable);
  }
}

}  // namespace

ZoneReport Reconciler::reconcile_zone(const DesiredZone& zone, const ReconcileSettings& settings) {
  ZoneReport report;
  report.zone_id = zone.zone_id;
  report.attempted_at = clock_.wall();
  const MonoTime started = clock_.monotonic();
  auto finish = [&](ZoneOutcome outcome) {
    report.outcome = outcome;
    report.seconds = std::chrono::duration<double>(clock_.monotonic() - started).count();
    return report;
  };

  // List everything before deleting anything.
  auto live = api_.list(zone.zone_id);
  if (!live.ok()) {
    report.error = "listing mappings: " + live.error().describe();
    return finish(ZoneOutcome::kFailure);
  }
  report.listed = true;
  report.plan = plan_zone(live.value(), zone);

  if (auto guard = check_safety(report.plan, settings.max_delete_fraction, settings.force);
      guard.blocked) {
    report.error = guard.reason;
    return finish(ZoneOutcome::kBlocked);
  }

  report.applied = applier_.apply(zone.zone_id, report.plan.stale);
  if (report.applied.dry_run) return finish(ZoneOutcome::kDryRun);
  if (report.applied.error) {
    report.error = "batch delete: " + report.applied.error->describe();
    return finish(ZoneOutcome::kFailure);
  }
  if (!report.applied.failed.empty()) {
    report.error = std::to_string(report.applied.failed.size()) + " items could not be deleted";
    return finish(ZoneOutcome::kFailure);
  }
  return finish(ZoneOutcome::kSuccess);
}

CycleReport Reconciler::run_cycle(const DesiredState& desired, const ReconcileSettings& settings) {
  ZoneQueue queue(desired);
  return run_cycle(queue, settings);
}

CycleReport Reconciler::run_cycle(ZoneQueue& queue, const ReconcileSettings& settings) {
  std::mutex mu;
  std::vector<std::pair<std::size_t, ZoneReport>> finished;  // mu

  auto worker = [&] {
    while (!stop_.stop_requested()) {
      auto item = queue.pop();
      if (!item) break;
      ZoneReport report = reconcile_zone(*item->zone, settings);
      log_report(report);
      observer_.on_zone_done(report);
      std::lock_guard lock(mu);
      finished.emplace_back(item->order, std::move(report));
    }
  };

  const auto n = static_cast<std::size_t>(std::max(1, settings.concurrency));
  const std::size_t threads = std::min(n, queue.waiting());
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::jthread> pool;
    pool.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  }

  // Zones a stop request kept us from starting are not reported as results.
  std::sort(finished.begin(), finished.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  CycleReport cycle;
  for (auto& [order, report] : finished) cycle.zones.push_back(std::move(report));
  cycle.interrupted = queue.waiting() > 0;
  return cycle;
}

}  // namespace orc
