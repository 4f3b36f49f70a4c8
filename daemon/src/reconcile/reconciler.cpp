#include "reconcile/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "base/log_fields.h"
#include "base/source_text.h"
#include "model/ip.h"
#include "model/plan_file.h"

namespace orc {

namespace {
constexpr std::size_t kItemsLoggedPerZone = 10;  // beyond this, one summary line
constexpr std::size_t kUnrequestedShown = 5;     // answer entries quoted per warning
}  // namespace

namespace {

// Whether answer item k names requested[k] in the request's spelling, for every k, and the
// requested texts are distinct addresses: the usual answer. Then item k alone answers request
// k, as the matching by address would find, without its two tables.
bool answers_in_order(const std::vector<std::string>& requested, const BatchResult& answer) {
  if (answer.items.size() != requested.size()) return false;
  std::vector<IpAddress> addresses;
  addresses.reserve(requested.size());
  for (std::size_t k = 0; k < requested.size(); ++k) {
    if (answer.items[k].ip != requested[k]) return false;
    const auto ip = parse_ip(requested[k]);
    if (!ip) return false;
    addresses.push_back(*ip);
  }
  const auto before = [](const IpAddress& a, const IpAddress& b) {
    return std::tie(a.family, a.bytes) < std::tie(b.family, b.bytes);
  };
  std::sort(addresses.begin(), addresses.end(), before);
  return std::adjacent_find(addresses.begin(), addresses.end()) == addresses.end();
}

// Each answer item to the requested IP it names, by address; the outcome of each requested IP
// into `decided`, the items naming none into `unrequested`.
void match_by_address(const std::vector<std::string>& requested, const BatchResult& answer,
                      std::vector<const ItemOutcome*>& decided,
                      std::vector<std::string>& unrequested) {
  constexpr std::size_t kAmbiguous = static_cast<std::size_t>(-1);
  // By address, not text: two texts are one RFC 5952 form exactly when they parse to the same
  // family and bytes.
  std::unordered_map<IpAddress, std::size_t, IpAddressHash> exact;   // address -> request index
  std::unordered_map<IpAddress, std::size_t, IpAddressHash> origin;  // origin form -> index
  exact.reserve(requested.size());
  origin.reserve(requested.size());
  for (std::size_t i = 0; i < requested.size(); ++i) {
    const auto ip = parse_ip(requested[i]);
    if (!ip) continue;  // nothing in an answer can match it
    const std::size_t first = exact.try_emplace(*ip, i).first->second;
    // "10.0.0.9" and "::ffff:10.0.0.9" both requested: only their exact forms match.
    auto [it, inserted] = origin.try_emplace(unmapped(*ip), i);
    if (!inserted && first != it->second) it->second = kAmbiguous;
  }
  auto find = [&](const std::string& text) -> std::optional<std::size_t> {
    const auto ip = parse_ip(text);
    if (!ip) return std::nullopt;
    if (auto it = exact.find(*ip); it != exact.end()) return it->second;
    if (auto it = origin.find(unmapped(*ip)); it != origin.end()) {
      if (it->second != kAmbiguous) return it->second;
    }
    return std::nullopt;
  };

  for (const auto& item : answer.items) {
    const auto i = find(item.ip);
    if (!i) {
      unrequested.push_back(item.ip);
      continue;
    }
    const ItemOutcome*& d = decided[*i];
    const bool applied = item.outcome.kind == ItemOutcome::Kind::kApplied;
    // Not applied wins over applied; among the others the first entry decides.
    if (d == nullptr || (!applied && d->kind == ItemOutcome::Kind::kApplied)) d = &item.outcome;
  }
}

}  // namespace

MatchedBatch match_batch_answer(const std::vector<std::string>& requested,
                                const BatchResult& answer) {
  // The outcome decided for each requested IP; nullptr while unanswered.
  std::vector<const ItemOutcome*> decided(requested.size(), nullptr);
  MatchedBatch out;
  if (answers_in_order(requested, answer)) {
    for (std::size_t k = 0; k < requested.size(); ++k) decided[k] = &answer.items[k].outcome;
  } else {
    match_by_address(requested, answer, decided, out.unrequested);
  }
  for (std::size_t i = 0; i < requested.size(); ++i) {
    if (decided[i] == nullptr) {
      ++out.unanswered;
      continue;
    }
    switch (decided[i]->kind) {
      case ItemOutcome::Kind::kApplied:
        out.applied.push_back(requested[i]);
        break;
      case ItemOutcome::Kind::kAbsent:
        out.absent.push_back(requested[i]);
        break;
      case ItemOutcome::Kind::kRefused:
        out.refused.push_back({requested[i], decided[i]->refusal});
        break;
    }
  }
  return out;
}

namespace {

void warn_about_answer(const std::string& zone_id, Operation op, const MatchedBatch& m) {
  const bool deleting = op == Operation::kBatchDelete;
  const std::string_view what = deleting ? "batch delete" : "batch upsert";
  if (!m.unrequested.empty()) {
    std::string quoted;
    for (std::size_t i = 0; i < m.unrequested.size() && i < kUnrequestedShown; ++i) {
      if (!quoted.empty()) quoted += ", ";
      quoted += "'" + shown(m.unrequested[i], 64) + "'";
    }
    if (m.unrequested.size() > kUnrequestedShown) quoted += ", ...";
    spdlog::warn(
        "zone {}: the {} answer names {} IPs that were not in the request; ignored "
        "(not counted, not checked): {}",
        zone_id, what, m.unrequested.size(), quoted);
  }
  if (m.unanswered > 0) {
    spdlog::warn(
        "zone {}: the {} answer does not mention {} of the IPs requested; not counted "
        "as {} (the next listing shows where they stand)",
        zone_id, what, m.unanswered, deleting ? "pruned" : "upserted");
  }
}

}  // namespace

ApplyResult ChangeSetApplier::apply(const std::string& zone_id, const ZonePlan& plan) {
  ApplyResult out;
  for (const Batch& batch : schedule_batches(plan.changes, plan.live, batch_size_)) {
    if (batch.kind == Batch::Kind::kUpsert) {
      upsert(zone_id, batch.upserts, out);
    } else {
      remove(zone_id, batch.deletes, out);
    }
    if (out.error) break;
  }
  return out;
}

void ChangeSetApplier::upsert(const std::string& zone_id, const std::vector<Mapping>& batch,
                              ApplyResult& out) {
  if (stop_.stop_requested()) {
    out.error = ApiError::cancelled(stop_);
    out.error_operation = Operation::kBatchUpsert;
    return;
  }
  ++out.requests;
  ++out.upsert_requests;
  auto result = api_.batch_upsert(zone_id, batch);
  if (!result.ok()) {
    out.error = result.error();
    out.error_operation = Operation::kBatchUpsert;
    return;
  }
  std::vector<std::string> ips;
  ips.reserve(batch.size());
  for (const auto& m : batch) ips.push_back(m.ip);
  MatchedBatch matched = match_batch_answer(ips, result.value());
  warn_about_answer(zone_id, Operation::kBatchUpsert, matched);
  if (matched.unanswered == ips.size()) {
    // An answer that names none of the IPs sent says nothing of them: not applied.
    for (auto& ip : ips) {
      out.upsert_failed.push_back({std::move(ip), {0, "the answer does not name it"}});
    }
    return;
  }
  out.unrequested += matched.unrequested.size();
  out.upserted += matched.applied.size();
  // An upsert is never "absent"; should an answer say so, the mapping is not as desired.
  for (auto& ip : matched.absent) {
    out.upsert_failed.push_back({std::move(ip), {0, "the answer says there is no mapping"}});
  }
  for (auto& item : matched.refused) out.upsert_failed.push_back(std::move(item));
}

void ChangeSetApplier::remove(const std::string& zone_id, const std::vector<std::string>& batch,
                              ApplyResult& out) {
  if (stop_.stop_requested()) {
    out.error = ApiError::cancelled(stop_);
    out.error_operation = Operation::kBatchDelete;
    return;
  }
  ++out.requests;
  auto result = api_.batch_delete(zone_id, batch);
  if (!result.ok()) {
    out.error = result.error();
    out.error_operation = Operation::kBatchDelete;
    return;
  }
  // Only what was asked for counts, and only a requested IP is ever checked.
  MatchedBatch matched = match_batch_answer(batch, result.value());
  warn_about_answer(zone_id, Operation::kBatchDelete, matched);
  out.unrequested += matched.unrequested.size();
  out.pruned += matched.applied.size();
  // The batch is not transactional: another actor may have removed the mapping already.
  out.already_gone += matched.absent.size();
  for (auto& item : matched.refused) {
    // The path gets the RFC 5952 form of the IP we requested, never text from the answer.
    const auto path_ip = canonicalize_ip(item.ip);
    if (!path_ip) {  // the plan sends only addresses; kept as a failure should that change
      out.delete_failed.push_back(std::move(item));
      continue;
    }
    auto presence = api_.get(zone_id, *path_ip);
    if (presence.ok() && presence.value() == Presence::kAbsent) {
      ++out.already_gone;
      continue;
    }
    if (!presence.ok()) {
      item.refusal.message += " (follow-up check failed: " + presence.error().describe() + ")";
    }
    out.delete_failed.push_back(std::move(item));
  }
}

std::string_view to_string(ZoneOutcome outcome) {
  return enum_name(kZoneOutcomeNames, outcome);
}

std::size_t CycleReport::count(ZoneOutcome outcome) const {
  return static_cast<std::size_t>(std::count_if(
      zones.begin(), zones.end(), [&](const ZoneReport& z) { return z.outcome == outcome; }));
}

std::size_t CycleReport::failed_items() const {
  std::size_t n = 0;
  for (const auto& z : zones) n += z.applied.delete_failed.size() + z.applied.upsert_failed.size();
  return n;
}

bool CycleReport::changes_pending() const {
  return std::any_of(zones.begin(), zones.end(),
                     [](const ZoneReport& z) { return z.listed && !z.plan.changes.empty(); });
}

int CycleReport::exit_status(ExitRules rules) const {
  if (count(ZoneOutcome::kFailure) > 0 || failed_items() > 0 || rules.reviewed_plan_refused) {
    return 1;
  }
  if (count(ZoneOutcome::kBlocked) > 0) return 3;
  if (rules.drift_check && changes_pending()) return kExitChangesPending;
  return 0;
}

std::string CycleReport::summary() const {
  std::size_t pruned = 0;
  std::size_t stale = 0;
  std::size_t to_upsert = 0;
  std::size_t upserted = 0;
  for (const auto& z : zones) {
    pruned += z.applied.pruned;
    stale += z.plan.changes.delete_count();
    to_upsert += z.plan.changes.upserts();
    upserted += z.applied.upserted;
  }
  // The upsert counts only where a plan had any: prune-only cycles read as they always did.
  const std::string upserts =
      to_upsert == 0 ? std::string()
                     : fmt::format(", {} to create or update, {} upserted", to_upsert, upserted);
  // Zones a stop cut short, and suspended zones, only where there were any: other cycles read
  // as they did.
  const std::size_t cut_short = count(ZoneOutcome::kInterrupted);
  const std::size_t suspended = count(ZoneOutcome::kSuspended);
  std::string cut = cut_short == 0 ? std::string() : fmt::format(", {} interrupted", cut_short);
  if (suspended > 0) cut += fmt::format(", {} suspended", suspended);
  return fmt::format(
      "{} zones: {} ok, {} failed, {} blocked, {} dry-run{}; {} stale, {} pruned{}{}", zones.size(),
      count(ZoneOutcome::kSuccess), count(ZoneOutcome::kFailure), count(ZoneOutcome::kBlocked),
      count(ZoneOutcome::kDryRun), cut, stale, pruned, upserts,
      interrupted ? " (interrupted)" : "");
}

namespace {

// " created_or_updated=N" style detail, only where the plan had upserts.
std::string upsert_detail(const ZoneReport& r, bool applied) {
  const auto& c = r.plan.changes;
  if (c.upserts() == 0 && r.unsupported.empty() && r.regions_unknown.empty()) return {};
  std::string out = fmt::format(" create={} update={}", c.creates.size(), c.updates.size());
  if (applied) {
    out += fmt::format(" upserted={} not_upserted={}", r.applied.upserted,
                       r.applied.upsert_failed.size());
  }
  if (!r.unsupported.empty()) out += fmt::format(" unsupported_region={}", r.unsupported.size());
  if (!r.regions_unknown.empty()) {
    out += fmt::format(" held_back_regions_unknown={}", r.regions_unknown.size());
  }
  return out;
}

void log_items(const std::string& zone_id, const std::vector<ItemFailure>& items,
               std::string_view verb) {
  for (std::size_t i = 0; i < items.size() && i < kItemsLoggedPerZone; ++i) {
    spdlog::warn("zone {}: {} was not {}: {}", zone_id, items[i].ip, verb,
                 items[i].refusal.describe());
  }
  if (items.size() > kItemsLoggedPerZone) {
    spdlog::warn("zone {}: {} more items were not {}", zone_id, items.size() - kItemsLoggedPerZone,
                 verb);
  }
}

void log_report(const ZoneReport& r) {
  const std::string zone = r.label();
  const auto& p = r.plan;
  const auto& a = r.applied;
  const std::size_t stale = p.changes.delete_count();
  switch (r.outcome) {
    case ZoneOutcome::kSuccess:
      spdlog::info(
          "zone {}: in line: live={} desired={} stale={} pruned={} already_gone={}{} "
          "requests={} ({:.2f}s)",
          zone, p.live, p.desired, stale, a.pruned, a.already_gone, upsert_detail(r, true),
          a.requests, r.seconds);
      break;
    case ZoneOutcome::kDryRun:
      spdlog::info("zone {}: dry run: live={} desired={} stale={}{} (nothing changed)", zone,
                   p.live, p.desired, stale, upsert_detail(r, false));
      break;
    case ZoneOutcome::kSuspended:
      spdlog::info(
          "zone {}: suspended ({}): live={} desired={} stale={}{}; nothing sent while suspended",
          r.zone_id, r.error, p.live, p.desired, stale, upsert_detail(r, false));
      break;
    case ZoneOutcome::kBlocked:
      spdlog::warn("zone {}: safety guard blocked the {}: {}; nothing changed", zone,
                   p.changes.updates.empty() ? "prune" : "changes", r.error);
      break;
    case ZoneOutcome::kInterrupted:  // not a failure of the zone: not an error
      if (r.stopped_by == StopReason::kNotLeader) {
        spdlog::warn(
            "zone {}: abandoned: {}: live={} stale={} pruned={}{}; whichever instance leads now "
            "reconciles it",
            zone, r.error, p.live, stale, a.pruned, upsert_detail(r, true));
        break;
      }
      spdlog::info(
          "zone {}: interrupted: {}: live={} stale={} pruned={}{}; not a failure, the next start "
          "reconciles it",
          r.zone_id, r.error, p.live, stale, a.pruned, upsert_detail(r, true));
      break;
    case ZoneOutcome::kFailure:
      spdlog::error(
          "zone {}: reconcile failed: {}: live={} stale={} pruned={} not_deleted={}{}; "
          "will retry next cycle",
          zone, r.error, p.live, stale, a.pruned, a.delete_failed.size(), upsert_detail(r, true));
      break;
  }
  log_items(zone, a.upsert_failed, "created or updated");
  log_items(zone, a.delete_failed, "deleted");
  if (p.unparseable > 0) {
    spdlog::warn("zone {}: {} live mappings have an IP that does not parse; left alone", zone,
                 p.unparseable);
  }
}

// The region check of the origins to create or update; they are reported, never sent.
void log_unsupported(const std::string& zone_id, const std::vector<Mapping>& held) {
  for (std::size_t i = 0; i < held.size() && i < kItemsLoggedPerZone; ++i) {
    spdlog::warn(
        "zone {}: {} names region '{}' of vendor {}, which the API does not list as supported; "
        "not sent (correct the desired state)",
        zone_id, held[i].ip, shown(held[i].region, 64), held[i].vendor);
  }
  if (held.size() > kItemsLoggedPerZone) {
    spdlog::warn("zone {}: {} more origins name an unsupported region; not sent", zone_id,
                 held.size() - kItemsLoggedPerZone);
  }
}

}  // namespace

std::optional<ListingMemory::Zone> ListingMemory::last(const std::string& zone_id) const {
  std::lock_guard lock(mu_);
  const auto it = zones_.find(zone_id);
  if (it == zones_.end()) return std::nullopt;
  return it->second;
}

void ListingMemory::remember(const std::string& zone_id, Zone zone) {
  std::lock_guard lock(mu_);
  zones_[zone_id] = std::move(zone);
}

std::optional<Suspension> active_suspension(const DesiredZone& zone, WallTime now) {
  if (!zone.suspend) return std::nullopt;
  if (zone.suspend->until && *zone.suspend->until <= now) return std::nullopt;
  return zone.suspend;
}

std::string guard_lifted_by(const ReconcileSettings& settings, const std::string& zone_id) {
  const auto has = [&](const std::vector<std::string>& ids) {
    return std::find(ids.begin(), ids.end(), zone_id) != ids.end();
  };
  if (settings.force) return "--force";
  if (has(settings.force_zones)) return "--force-zone";
  if (has(settings.approved_zones)) return "approved by the reviewed plan";
  return {};
}

std::string approval_hint(const std::string& zone_id) {
  return "to approve these changes for this zone alone: origin-reconciler --once --force-zone " +
         zone_id +
         ", or review a plan (--dry-run --plan-out plan.json) and apply it (--once --apply-plan "
         "plan.json)";
}

ZoneReport Reconciler::reconcile_zone(const DesiredZone& zone, const ReconcileSettings& settings) {
  ZoneReport report;
  report.zone_id = zone.zone_id;
  report.zone_name = zone.zone_name;
  report.attempted_at = clock_.wall();
  report.suspension = zone.suspend;
  const MonoTime started = clock_.monotonic();
  auto finish = [&](ZoneOutcome outcome) {
    // Cut short by a stop with nothing failed: interrupted, whatever the step.
    if (outcome == ZoneOutcome::kFailure && report.stopped_by &&
        report.applied.delete_failed.empty() && report.applied.upsert_failed.empty()) {
      outcome = ZoneOutcome::kInterrupted;
    }
    report.outcome = outcome;
    const bool sent = outcome == ZoneOutcome::kSuccess || outcome == ZoneOutcome::kFailure ||
                      outcome == ZoneOutcome::kInterrupted;
    if (sent && !settings.keep_sent_deletes) report.plan.changes.release_deletes();
    report.seconds = std::chrono::duration<double>(clock_.monotonic() - started).count();
    return std::move(report);  // the zone's last step: not a copy of its changes
  };
  // An error made where a stop was seen carries the stop's reason: the zone reports it.
  auto noted = [&](const ApiError& e) -> const ApiError& {
    if (e.kind == ApiError::Kind::kCancelled) report.stopped_by = e.stopped_by;
    return e;
  };

  // A zone cannot hold more than Cloudflare's limit: a sync towards more could never converge.
  const Policy policy = zone.policy.value_or(settings.policy);
  if (policy == Policy::kSync && zone.origins.size() > kZoneMappingLimit) {
    report.error = fmt::format(
        "the desired state names {} origins for this zone under policy sync, more than the {} "
        "mappings a zone can hold; nothing listed or changed (remove origins, or use policy "
        "prune)",
        zone.origins.size(), kZoneMappingLimit);
    return finish(ZoneOutcome::kFailure);
  }

  // List everything before changing anything.
  auto live = api_.list(zone.zone_id);
  if (!live.ok()) {
    report.error = "listing mappings: " + noted(live.error()).describe();
    return finish(ZoneOutcome::kFailure);
  }
  report.plan = plan_zone(live.value(), zone, policy);
  const std::optional<ListingMemory::Zone> before = memory_->last(zone.zone_id);
  // An empty listing where there were mappings, or where the plan would create, may be a
  // glitch (one empty page, an "empty zone" answer): it is read again before anything is sent.
  if (live.value().empty() &&
      ((before && before->live > 0) || !report.plan.changes.creates.empty())) {
    spdlog::warn("zone {}: the listing is empty, but {}; listing again before planning",
                 zone.zone_id,
                 before && before->live > 0
                     ? fmt::format("the last listing had {} mappings", before->live)
                     : fmt::format("the plan would create {}", report.plan.changes.creates.size()));
    live = api_.list(zone.zone_id);
    if (!live.ok()) {
      report.error =
          "listing mappings again (the first listing was empty): " + noted(live.error()).describe();
      return finish(ZoneOutcome::kFailure);
    }
    report.plan = plan_zone(live.value(), zone, policy);
  }
  report.listed = true;
  // Creates that would replace mappings the last listing had (still missing from this one)
  // are updates in disguise: the update guard counts them against that listing.
  if (before && !before->mappings.empty() && !report.plan.changes.creates.empty()) {
    ZonePlan against = plan_zone(before->mappings, zone, policy);
    std::unordered_set<std::string> created;
    for (const auto& m : report.plan.changes.creates) created.insert(m.ip);  // canonical form
    std::unordered_set<std::string> replaced;
    std::erase_if(against.changes.updates, [&](const MappingUpdate& u) {
      const auto ip = canonical_origin_ip(u.from.ip);
      if (!ip || !created.contains(*ip)) return true;
      replaced.insert(*ip);
      return false;
    });
    against.mismatched_addresses = replaced.size();
    const GuardDecision then =
        check_update_safety(against, settings.max_update_fraction, settings.force);
    if (then.blocked) {
      report.error = fmt::format(
          "{} (counted against the last listing, {} mappings: this one has {} and the plan "
          "would re-create them with another vendor or region)",
          then.reason, before->live, live.value().size());
      return finish(ZoneOutcome::kBlocked);  // this listing is not remembered: it is in doubt
    }
  }
  memory_->remember(
      zone.zone_id,
      {live.value().size(), policy == Policy::kSync ? live.value() : std::vector<Mapping>{}});

  // The zone's own supported regions (they depend on its Tiered Cache). Without them the
  // creates and updates wait; the deletes do not need them and still go out.
  std::optional<ApiError> regions_error;
  if (report.plan.changes.upserts() > 0) {
    auto regions = api_.supported_regions(zone.zone_id);
    if (regions.ok()) {
      report.unsupported = hold_back_unsupported(report.plan.changes, regions.value());
      log_unsupported(zone.zone_id, report.unsupported);
    } else if (regions.error().kind == ApiError::Kind::kCancelled) {
      report.error = "reading supported regions: " + noted(regions.error()).describe();
      return finish(ZoneOutcome::kFailure);
    } else {
      regions_error = regions.error();
      report.regions_unknown = hold_back_all_upserts(report.plan.changes);
    }
  }

  // Suspended: listed, planned and counted like any zone, but nothing is sent: by the zone's own
  // suspend:, or else by the daemon's reconcile.suspend.
  DesiredZone frozen;
  frozen.suspend = settings.freeze;
  report.suspension = zone.suspend ? zone.suspend : settings.freeze;
  const struct {
    const DesiredZone& holder;
    const char* where;  // what to remove once it ended
    const char* label;  // how the report names it
  } pauses[] = {{zone, "suspend: from the desired state", ""},
                {frozen, "reconcile.suspend from the configuration", "reconcile.suspend, "}};
  for (const auto& p : pauses) {
    if (const auto pause = active_suspension(p.holder, report.attempted_at)) {
      report.error = std::string(p.label) + "reason: " + pause->reason +
                     (pause->until ? ", until " + format_utc(*pause->until) : ", no end set");
      return finish(ZoneOutcome::kSuspended);
    }
  }
  for (const auto& p : pauses) {
    if (p.holder.suspend && p.holder.suspend->until) {
      spdlog::warn(
          "zone {}: its suspension ({}) ended at {}; the zone is reconciled again. Remove {}",
          zone.zone_id, p.holder.suspend->reason, format_utc(*p.holder.suspend->until), p.where);
    }
  }

  // The zone's own thresholds, over the configuration's; lifted for this zone alone by
  // --force-zone or a reviewed plan that lists its changes.
  const std::string lifted = guard_lifted_by(settings, zone.zone_id);
  const bool forced = !lifted.empty();
  const GuardDecision guards[] = {
      check_safety(report.plan, zone.max_delete_fraction.value_or(settings.max_delete_fraction),
                   forced),
      check_update_safety(report.plan,
                          zone.max_update_fraction.value_or(settings.max_update_fraction), forced)};
  const bool own[] = {zone.max_delete_fraction.has_value(), zone.max_update_fraction.has_value()};
  for (std::size_t i = 0; i < std::size(guards); ++i) {
    if (guards[i].blocked) {
      report.error = guards[i].reason + (own[i] ? " (the zone's own threshold)" : "") + "; " +
                     approval_hint(zone.zone_id);
      return finish(ZoneOutcome::kBlocked);
    }
  }
  if (forced && !settings.force) {
    const bool would_block =
        check_safety(report.plan, zone.max_delete_fraction.value_or(settings.max_delete_fraction),
                     false)
            .blocked ||
        check_update_safety(report.plan,
                            zone.max_update_fraction.value_or(settings.max_update_fraction), false)
            .blocked;
    if (would_block) {
      spdlog::warn(
          "zone {}: safety guard lifted for this zone ({}): applying {} creates, {} "
          "updates and {} deletes",
          zone.zone_id, lifted, report.plan.changes.creates.size(),
          report.plan.changes.updates.size(), report.plan.changes.deletes.size());
    }
  }

  report.applied = applier_.apply(zone.zone_id, report.plan);
  if (report.applied.dry_run && !regions_error) return finish(ZoneOutcome::kDryRun);
  if (report.applied.not_reviewed) {
    report.error = "not applied: " + *report.applied.not_reviewed;
    return finish(ZoneOutcome::kFailure);
  }
  if (report.applied.error) {
    noted(*report.applied.error);
    const bool upserting = report.applied.error_operation == Operation::kBatchUpsert;
    const ApiError& e = *report.applied.error;
    if (upserting && e.zone_full) {
      report.error = fmt::format(
          "batch upsert: zone limit reached: the zone already holds the {} mappings Cloudflare "
          "allows ({}); no further changes sent",
          kZoneMappingLimit, e.describe());
    } else if (upserting) {
      const bool deleted_before = report.applied.requests > report.applied.upsert_requests;
      report.error = "batch upsert: " + e.describe() +
                     (deleted_before ? "; no further changes sent" : "; no deletes sent");
    } else {
      report.error = "batch delete: " + e.describe();
    }
    return finish(ZoneOutcome::kFailure);
  }
  const std::size_t not_deleted = report.applied.delete_failed.size();
  const std::size_t not_upserted = report.applied.upsert_failed.size();
  if (regions_error) {
    report.error = fmt::format(
        "reading supported regions: {}; {} creates and updates held back until they can be "
        "read{}",
        regions_error->describe(), report.regions_unknown.size(),
        report.plan.changes.deletes.empty() ? "" : " (the zone's deletes were sent)");
    if (report.applied.dry_run) report.error += " (dry run)";
    return finish(ZoneOutcome::kFailure);
  }
  if (not_deleted > 0 || not_upserted > 0) {
    std::string why;
    if (not_upserted > 0) {
      why = std::to_string(not_upserted) + " items could not be created or updated";
    }
    if (not_deleted > 0) {
      if (!why.empty()) why += ", ";
      why += std::to_string(not_deleted) + " items could not be deleted";
    }
    report.error = std::move(why);
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
  // The first exception of any worker (mu): the others stop taking zones, and it is rethrown
  // here once all have ended, whatever the concurrency, as the loop expects from a cycle.
  std::exception_ptr thrown;

  auto worker = [&] {
    try {
      while (!stop_.stop_requested()) {
        {
          std::lock_guard lock(mu);
          if (thrown) return;
        }
        auto item = queue.pop();
        if (!item) break;
        const ScopedLogField zone_field(LogField::kZone, item->zone->zone_id);
        ZoneReport report = reconcile_zone(*item->zone, settings);
        log_report(report);
        observer_.on_zone_done(report);
        std::lock_guard lock(mu);
        finished.emplace_back(item->order, std::move(report));
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!thrown) thrown = std::current_exception();
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
  if (thrown) std::rethrow_exception(thrown);

  // Zones a stop request kept us from starting are not reported as results.
  std::sort(finished.begin(), finished.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  CycleReport cycle;
  for (auto& [order, report] : finished) cycle.zones.push_back(std::move(report));
  cycle.interrupted = queue.waiting() > 0;
  return cycle;
}

}  // namespace orc
