#include "model/plan_file.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/json_bounds.h"
#include "base/redact.h"
#include "base/sha256.h"
#include "base/source_text.h"
#include "model/desired_state.h"

namespace orc {

using nlohmann::json;

namespace {

constexpr std::string_view kSha256Prefix = "sha256:";

// Compact, keys sorted (nlohmann's objects are ordered maps), ASCII only: the canonical text.
std::string canonical_dump(const json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
}

std::string checksum_of(const std::string& text) {
  return std::string(kSha256Prefix) + sha256_hex(text);
}

json mapping_json(const Mapping& m) {
  return json{{"ip", m.ip}, {"vendor", m.vendor}, {"region", m.region}};
}

json update_json(const MappingUpdate& u) {
  return json{{"from", mapping_json(u.from)}, {"to", mapping_json(u.to)}};
}

json changes_json(const ChangeSet& c) {
  json creates = json::array();
  for (const auto& m : c.creates) creates.push_back(mapping_json(m));
  json updates = json::array();
  for (const auto& u : c.updates) updates.push_back(update_json(u));
  json deletes = json::array();
  for (const auto& ip : c.deletes) deletes.push_back(ip);
  return json{{"creates", std::move(creates)},
              {"updates", std::move(updates)},
              {"deletes", std::move(deletes)}};
}

std::string describe(const Mapping& m) {
  return shown(m.ip) + " " + shown(m.vendor) + "/" + shown(m.region);
}

std::string describe(const MappingUpdate& u) {
  std::string out = shown(u.from.ip) + " " + shown(u.from.vendor) + "/" + shown(u.from.region) +
                    " -> " + shown(u.to.vendor) + "/" + shown(u.to.region);
  if (u.to.ip != u.from.ip) out += " (as " + shown(u.to.ip) + ")";
  return out;
}

const std::string& key_of(const Mapping& m) {
  return m.ip;
}
const std::string& key_of(const MappingUpdate& u) {
  return u.from.ip;
}
const std::string& key_of(const std::string& ip) {
  return ip;
}
std::string describe(const std::string& ip) {
  return shown(ip);
}

// Both sorted by key_of. The first entry in one and not the other, or whose value differs.
template <class T>
std::optional<std::string> first_in(const char* what, const std::vector<T>& reviewed,
                                    const std::vector<T>& now) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < reviewed.size() || j < now.size()) {
    if (j == now.size() || (i < reviewed.size() && key_of(reviewed[i]) < key_of(now[j]))) {
      return std::string(what) + ": " + describe(reviewed[i]) +
             " is in the plan file but not in the plan now";
    }
    if (i == reviewed.size() || key_of(now[j]) < key_of(reviewed[i])) {
      return std::string(what) + ": " + describe(now[j]) +
             " is in the plan now but not in the plan file";
    }
    if (!(reviewed[i] == now[j])) {
      return std::string(what) + ": the plan file has " + describe(reviewed[i]) +
             ", the plan now " + describe(now[j]);
    }
    ++i;
    ++j;
  }
  return std::nullopt;
}

// Both sorted by key_of. The first entry of `now` that `reviewed` does not hold as it is.
template <class T>
std::optional<std::string> first_unreviewed(const char* what, const std::vector<T>& reviewed,
                                            const std::vector<T>& now) {
  std::size_t i = 0;
  for (const T& item : now) {
    while (i < reviewed.size() && key_of(reviewed[i]) < key_of(item)) ++i;
    if (i == reviewed.size() || key_of(item) < key_of(reviewed[i])) {
      return std::string(what) + ": " + describe(item) +
             " is in the plan now but not in the plan file";
    }
    if (!(reviewed[i] == item)) {
      return std::string(what) + ": the plan file has " + describe(reviewed[i]) +
             ", the plan now " + describe(item);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(PlanZoneStatus status) {
  return enum_name(kPlanZoneStatusNames, status, "failed");
}

ChangeSet canonical_order(ChangeSet c) {
  auto by_key = [](const auto& a, const auto& b) { return key_of(a) < key_of(b); };
  std::stable_sort(c.creates.begin(), c.creates.end(), by_key);
  std::stable_sort(c.updates.begin(), c.updates.end(), by_key);
  std::stable_sort(c.deletes.begin(), c.deletes.end());
  return c;
}

namespace {

bool in_canonical_order(const ChangeSet& c) {
  auto by_key = [](const auto& a, const auto& b) { return key_of(a) < key_of(b); };
  return std::is_sorted(c.creates.begin(), c.creates.end(), by_key) &&
         std::is_sorted(c.updates.begin(), c.updates.end(), by_key) &&
         std::is_sorted(c.deletes.begin(), c.deletes.end());
}

// The canonical text written a value at a time, as canonical_dump would write the whole tree
// (keys in order, a string as nlohmann writes it), so that a plan of any size takes no more
// than its text to checksum.
class CanonicalText {
 public:
  CanonicalText& raw(std::string_view text) {
    out_ += text;
    return *this;
  }
  CanonicalText& string(const std::string& s) {
    scratch_ = s;
    out_ += canonical_dump(scratch_);
    return *this;
  }
  CanonicalText& mapping(const Mapping& m) {
    return raw(R"({"ip":)")
        .string(m.ip)
        .raw(R"(,"region":)")
        .string(m.region)
        .raw(R"(,"vendor":)")
        .string(m.vendor)
        .raw("}");
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  json scratch_;
};

// canonical_zone of changes already in canonical order.
std::string canonical_text(const std::string& zone_id, const ChangeSet& c) {
  CanonicalText out;
  out.raw(R"({"creates":[)");
  for (std::size_t i = 0; i < c.creates.size(); ++i)
    out.raw(i > 0 ? "," : "").mapping(c.creates[i]);
  out.raw(R"(],"deletes":[)");
  for (std::size_t i = 0; i < c.deletes.size(); ++i) out.raw(i > 0 ? "," : "").string(c.deletes[i]);
  out.raw(R"(],"updates":[)");
  for (std::size_t i = 0; i < c.updates.size(); ++i) {
    out.raw(i > 0 ? "," : "").raw(R"({"from":)").mapping(c.updates[i].from);
    out.raw(R"(,"to":)").mapping(c.updates[i].to).raw("}");
  }
  out.raw(R"(],"zone_id":)").string(zone_id).raw("}");
  return out.take();
}

}  // namespace

std::string canonical_zone(const std::string& zone_id, const ChangeSet& changes) {
  if (in_canonical_order(changes)) return canonical_text(zone_id, changes);
  return canonical_text(zone_id, canonical_order(changes));
}

std::string zone_checksum(const std::string& zone_id, const ChangeSet& changes) {
  return checksum_of(canonical_zone(zone_id, changes));
}

std::string plan_checksum(const std::vector<PlanZone>& zones) {
  CanonicalText out;
  out.raw("[");
  for (std::size_t i = 0; i < zones.size(); ++i) {
    const PlanZone& z = zones[i];
    out.raw(i > 0 ? "," : "").raw(R"({"checksum":)");
    if (z.status == PlanZoneStatus::kFailed) {
      out.raw("null");
    } else {
      out.string(z.checksum);
    }
    out.raw(R"(,"zone_id":)").string(z.zone_id).raw("}");
  }
  return checksum_of(out.raw("]").take());
}

PlanZone make_plan_zone(std::string zone_id, PlanZoneStatus status, std::string reason,
                        PlanCounts counts, ChangeSet changes) {
  PlanZone z;
  z.zone_id = std::move(zone_id);
  z.status = status;
  z.reason = std::move(reason);
  if (status == PlanZoneStatus::kFailed) return z;
  z.counts = counts;
  z.changes = canonical_order(std::move(changes));
  z.checksum = zone_checksum(z.zone_id, z.changes);
  return z;
}

PlanDocument make_plan_document(WallTime created_at, PlanIdentity identity,
                                std::vector<PlanZone> zones) {
  PlanDocument plan;
  plan.created_at = std::chrono::floor<std::chrono::seconds>(created_at);
  plan.identity = std::move(identity);
  plan.zones = std::move(zones);
  plan.checksum = plan_checksum(plan.zones);
  return plan;
}

std::string to_json_text(const PlanDocument& plan) {
  json zones = json::array();
  std::size_t planned = 0, blocked = 0, failed = 0, creates = 0, updates = 0, deletes = 0;
  for (const auto& z : plan.zones) {
    json o{{"zone_id", z.zone_id}, {"status", to_string(z.status)}};
    if (!z.zone_name.empty()) o["zone_name"] = z.zone_name;
    if (!z.reason.empty()) o["reason"] = z.reason;
    switch (z.status) {
      case PlanZoneStatus::kPlanned:
        ++planned;
        break;
      case PlanZoneStatus::kBlocked:
        ++blocked;
        break;
      case PlanZoneStatus::kFailed:
        ++failed;
        o["checksum"] = nullptr;
        zones.push_back(std::move(o));
        continue;
    }
    o["counts"] = json{{"live", z.counts.live},
                       {"desired", z.counts.desired},
                       {"out_of_scope", z.counts.out_of_scope},
                       {"unparseable", z.counts.unparseable},
                       {"creates", z.changes.creates.size()},
                       {"updates", z.changes.updates.size()},
                       {"deletes", z.changes.deletes.size()}};
    o["policy"] = to_string(z.policy);
    o.update(changes_json(z.changes));
    json unsupported = json::array();
    for (const auto& m : z.unsupported) unsupported.push_back(mapping_json(m));
    o["unsupported"] = std::move(unsupported);
    o["checksum"] = z.checksum;
    creates += z.changes.creates.size();
    updates += z.changes.updates.size();
    deletes += z.changes.deletes.size();
    zones.push_back(std::move(o));
  }
  json doc{{"format", kPlanFormat},
           {"version", plan.version},
           {"generator", plan.identity.generator},
           {"created_at", format_utc(plan.created_at)},
           {"api_flavor", plan.identity.api_flavor},
           {"config", plan.identity.config},
           {"desired_state",
            json{{"path", plan.identity.desired_state}, {"sha256", plan.identity.desired_sha256}}},
           {"force", plan.identity.force},
           {"summary", json{{"zones", plan.zones.size()},
                            {"planned", planned},
                            {"blocked", blocked},
                            {"failed", failed},
                            {"creates", creates},
                            {"updates", updates},
                            {"deletes", deletes}}},
           {"zones", std::move(zones)},
           {"checksum", plan.checksum}};
  return doc.dump(2, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace) + "\n";
}

Status check_plan_age(const PlanDocument& plan, const std::string& file, WallTime now,
                      Millis max_age) {
  const auto age = std::chrono::floor<std::chrono::seconds>(now - plan.created_at);
  const std::string got = " (got '" + format_utc(plan.created_at) + "')";
  if (plan.created_at > now + kPlanClockSkew) {
    return Error{file + ": created_at: lies in the future, the clock here says " + format_utc(now) +
                 got};
  }
  if (age > max_age) {
    return Error{file + ": created_at: the plan is " + format_duration(age) +
                 " old, older than --plan-max-age " + format_duration(max_age) + got +
                 "; make a new plan with --dry-run --plan-out"};
  }
  return ok_status();
}

std::optional<std::string> first_difference(const ChangeSet& reviewed, const ChangeSet& now) {
  const ChangeSet a = canonical_order(reviewed);
  const ChangeSet b = canonical_order(now);
  if (auto d = first_in("creates", a.creates, b.creates)) return d;
  if (auto d = first_in("updates", a.updates, b.updates)) return d;
  return first_in("deletes", a.deletes, b.deletes);
}

std::optional<std::string> first_unreviewed_change(const ChangeSet& reviewed,
                                                   const ChangeSet& now) {
  const ChangeSet a = canonical_order(reviewed);
  const ChangeSet b = canonical_order(now);
  if (auto d = first_unreviewed("creates", a.creates, b.creates)) return d;
  if (auto d = first_unreviewed("updates", a.updates, b.updates)) return d;
  return first_unreviewed("deletes", a.deletes, b.deletes);
}

namespace {

std::size_t change_count(const ChangeSet& c) {
  return c.creates.size() + c.updates.size() + c.deletes.size();
}

}  // namespace

ZoneReview review_zone_changes(const PlanDocument& reviewed, const std::string& zone_id,
                               const ChangeSet& now) {
  ZoneReview out;
  const auto it = std::find_if(reviewed.zones.begin(), reviewed.zones.end(),
                               [&](const PlanZone& z) { return z.zone_id == zone_id; });
  if (it == reviewed.zones.end()) {
    out.verdict = Error{"the zone is not in the plan file"};
    return out;
  }
  if (it->status == PlanZoneStatus::kFailed) {
    out.verdict = Error{
        "the plan file holds no plan for the zone: it could not be listed when the plan was "
        "made (" +
        it->reason + ")"};
    return out;
  }
  out.reviewed = change_count(it->changes);
  out.left = change_count(now);
  if (zone_checksum(zone_id, now) == it->checksum) return out;
  if (auto unreviewed = first_unreviewed_change(it->changes, now)) {
    out.verdict = Error{"the plan now differs from the plan file: " + *unreviewed};
  }
  return out;
}

Status review_zone(const PlanDocument& reviewed, const std::string& zone_id, const ChangeSet& now) {
  return review_zone_changes(reviewed, zone_id, now).verdict;
}

std::string ZoneReview::progress() const {
  if (!verdict.ok() || left == reviewed) return {};
  if (left == 0) {
    return "already applied: the " + std::to_string(reviewed) +
           " changes of the reviewed plan are in place";
  }
  return "resumed: " + std::to_string(left) + " of the " + std::to_string(reviewed) +
         " reviewed changes left, the others are in place";
}

std::optional<WallTime> parse_utc(std::string_view s) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SSZ, exactly.
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z') {
    return std::nullopt;
  }
  auto number = [&](std::size_t from, std::size_t len) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = from; i < from + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto y = number(0, 4), mo = number(5, 2), d = number(8, 2);
  const auto h = number(11, 2), mi = number(14, 2), se = number(17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  // The clock holds nanoseconds since 1970 in 64 bits (1677..2262): a year beyond that would
  // wrap around and pass any age check. A plan is made now, not in another century.
  if (*y < kPlanYears.first || *y > kPlanYears.second) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 59) return std::nullopt;
  return WallTime{sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*se}};
}

}  // namespace orc
