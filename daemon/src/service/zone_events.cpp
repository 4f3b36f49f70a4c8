#include "service/zone_events.h"

#include <cstdio>

#include "base/cancellation.h"
#include "base/redact.h"
#include "kube/event.h"

namespace orc {

namespace {

// "1 created", "2 deleted"...: the non-zero counts, joined with ", "; "" when all are zero.
std::string counts(std::initializer_list<std::pair<std::size_t, const char*>> parts) {
  std::string out;
  for (const auto& [n, what] : parts) {
    if (n == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + what;
  }
  return out;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// What the zone's requests changed: creates and updates apart when every one sent went
// through, else together.
std::string written(const ZoneReport& r) {
  const auto& a = r.applied;
  const std::size_t creates = r.plan.changes.creates.size();
  const std::size_t updates = r.plan.changes.updates.size();
  std::string out =
      a.upserted == creates + updates
          ? counts({{creates, "created"}, {updates, "updated"}, {a.pruned, "deleted"}})
          : counts({{a.upserted, "created or updated"}, {a.pruned, "deleted"}});
  if (a.already_gone > 0) out += " (" + std::to_string(a.already_gone) + " already gone)";
  return out;
}

// Printable, no secret, and within the API server's limit with room for the cut marker.
EventNote note(EventType type, const char* reason, const std::string& message) {
  return {type, reason, redact(message, kEventMessageMax - 32)};
}

}  // namespace

std::optional<EventNote> zone_event(const ZoneReport& r) {
  const std::string zone = "zone " + r.label() + ": ";
  const auto& a = r.applied;
  const bool wrote = a.pruned > 0 || a.upserted > 0;
  switch (r.outcome) {
    case ZoneOutcome::kSuccess:
      if (!wrote) return std::nullopt;  // in line, nothing to do
      return note(EventType::kNormal, kReasonApplied, zone + "applied: " + written(r));
    case ZoneOutcome::kInterrupted:
      if (!wrote) return std::nullopt;  // nothing happened: the next cycle or leader does it
      return note(EventType::kNormal, kReasonApplied,
                  zone + "applied in part before it was cut short (" +
                      std::string(describe(r.stopped_by.value_or(StopReason::kShutdown))) +
                      "): " + written(r) + "; the rest is reconciled next");
    case ZoneOutcome::kBlocked:
      return note(EventType::kWarning, kReasonBlocked,
                  zone + "safety guard blocked the " +
                      (r.plan.changes.updates.empty() ? "prune" : "changes") + ": " + r.error +
                      "; nothing changed");
    case ZoneOutcome::kFailure: {
      std::string message = zone + "reconcile failed: " + r.error;
      if (wrote) message += "; sent before that: " + written(r);
      return note(EventType::kWarning, kReasonFailed, message + "; retried next cycle");
    }
    case ZoneOutcome::kSuspended: {
      const auto& c = r.plan.changes;
      const std::string pending = c.empty()
                                      ? "none"
                                      : plural(c.creates.size(), "create", "creates") + ", " +
                                            plural(c.updates.size(), "update", "updates") + ", " +
                                            plural(c.delete_count(), "delete", "deletes");
      return note(EventType::kNormal, kReasonSuspended,
                  zone + "suspended (" + r.error + "): nothing sent; pending: " + pending);
    }
    case ZoneOutcome::kDryRun:
      return std::nullopt;  // nothing happened
  }
  return std::nullopt;
}

std::vector<EventNote> held_events(const std::vector<ZoneShrink>& shrinks, Millis confirm_period) {
  std::vector<EventNote> out;
  for (const ZoneShrink& s : shrinks) {
    std::string what;
    if (s.removes_too_much) {
      char pct[32];
      std::snprintf(pct, sizeof(pct), "%.1f%%",
                    100.0 * static_cast<double>(s.removed) / static_cast<double>(s.before));
      what = std::to_string(s.removed) + " of its " + std::to_string(s.before) +
             " desired origins removed (" + pct + ")";
    }
    if (s.scope_widened) {
      what += std::string(what.empty() ? "" : ", and ") +
              "manage_cidrs widened to addresses it did not cover";
    }
    const std::string zone = s.zone_name ? s.zone_id + " (" + *s.zone_name + ")" : s.zone_id;
    out.push_back(note(EventType::kWarning, kReasonHeld,
                       "zone " + zone + ": desired-state change held: " + what +
                           "; the desired state in force stays until the file has been "
                           "unchanged for " +
                           format_duration(confirm_period) + " (or SIGHUP confirms it)"));
  }
  return out;
}

void ZoneEvents::on_zone_done(const ZoneReport& report) {
  if (auto event = zone_event(report)) recorder_.record(std::move(*event));
}

void ZoneEvents::on_change_held(const std::vector<ZoneShrink>& shrinks, Millis confirm_period) {
  if (leading_ && !leading_()) return;
  for (auto& event : held_events(shrinks, confirm_period)) recorder_.record(std::move(event));
}

EventsRuntime::EventsRuntime(const EventSettings& settings, std::function<bool()> leading)
    : http(clock, kLeaseAnswerBounds.max_bytes, abort_requests.get_token(),
           settings.ca_file.string()),
      api(http, settings.endpoint, settings.source),
      recorder(api, settings.source.pod, clock, sleeper),
      sink(recorder, std::move(leading)) {
  recorder.on_close([this] { abort_requests.request_stop(); });
  recorder.start(threads);
}

EventsRuntime::~EventsRuntime() {
  recorder.close();
}

}  // namespace orc
