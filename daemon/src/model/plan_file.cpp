#include "model/plan_file.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/json_bounds.h"
#include "base/redact.h"
#include "base/sha256.h"
#include "base/source_text.h"
#include "model/desired_state.h"

namespace orc {

using nlohmann::json;

namespace {

constexpr std::string_view kSha256Prefix = "sha256:";
const std::set<std::string> kVendors = {"aws", "azure", "gcp", "oci"};

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

// --- strict reading ---------------------------------------------------------------------

std::string shown_json(const json& v) {
  return shown(v.is_string() ? v.get<std::string>() : canonical_dump(v), 80);
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& problem,
                         const json* value = nullptr) const {
    std::string msg = file_ + ": " + key + ": " + problem;
    if (value != nullptr) msg += " (got '" + shown_json(*value) + "')";
    throw PlanFileError(msg);
  }

  // The object at `key`, with exactly the keys `required` plus any of `optional`.
  const json& object(const json& v, const std::string& key, std::set<std::string> required,
                     const std::set<std::string>& optional = {}) const {
    if (!v.is_object()) fail(key, "must be an object", &v);
    for (const auto& [name, _] : v.items()) {
      if (required.contains(name) || optional.contains(name)) continue;
      fail(join(key, shown(name, 80)), "unknown key");  // a key may hold any bytes
    }
    for (const auto& name : required) {
      if (!v.contains(name)) fail(join(key, name), "missing");
    }
    return v;
  }

  std::string string(const json& v, const std::string& key, bool non_empty = true) const {
    if (!v.is_string()) fail(key, "must be a string", &v);
    std::string s = v.get<std::string>();
    if (non_empty && s.empty()) fail(key, "must not be empty", &v);
    return s;
  }

  std::size_t count(const json& v, const std::string& key) const {
    if (!v.is_number_unsigned()) fail(key, "must be a whole number, 0 or more", &v);
    return v.get<std::size_t>();
  }

  bool boolean(const json& v, const std::string& key) const {
    if (!v.is_boolean()) fail(key, "must be true or false", &v);
    return v.get<bool>();
  }

  const json& array(const json& v, const std::string& key) const {
    if (!v.is_array()) fail(key, "must be an array", &v);
    return v;
  }

  std::string checksum(const json& v, const std::string& key) const {
    const std::string s = string(v, key);
    const bool ok =
        s.size() == kSha256Prefix.size() + 64 && s.starts_with(kSha256Prefix) &&
        std::all_of(s.begin() + static_cast<std::ptrdiff_t>(kSha256Prefix.size()), s.end(),
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!ok) fail(key, "must be 'sha256:' and 64 lower-case hex digits", &v);
    return s;
  }

  Mapping mapping(const json& v, const std::string& key, bool known_vendor = true) const {
    object(v, key, {"ip", "vendor", "region"});
    Mapping m;
    m.ip = string(v["ip"], join(key, "ip"));
    m.vendor = string(v["vendor"], join(key, "vendor"));
    if (known_vendor && !kVendors.contains(m.vendor)) {
      fail(join(key, "vendor"), "must be one of aws, azure, gcp, oci", &v["vendor"]);
    }
    m.region = string(v["region"], join(key, "region"));
    return m;
  }

  static std::string join(const std::string& key, const std::string& name) {
    return key.empty() ? name : key + "." + name;
  }
  static std::string at(const std::string& key, std::size_t i) {
    return key + "[" + std::to_string(i) + "]";
  }

 private:
  std::string file_;
};

PlanZoneStatus zone_status(const Reader& r, const json& v, const std::string& key) {
  const std::string s = r.string(v, key);
  for (auto st : {PlanZoneStatus::kPlanned, PlanZoneStatus::kBlocked, PlanZoneStatus::kFailed}) {
    if (s == to_string(st)) return st;
  }
  r.fail(key, "must be planned, blocked or failed", &v);
}

bool is_zone_id(const std::string& s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A zone's keys, its id, and its status with the reason a blocked or failed zone gives.
// True for a failed zone, which has nothing more to read.
bool read_zone_head(const Reader& r, const json& v, const std::string& key, PlanZone& z) {
  const json& status_value = v.is_object() && v.contains("status") ? v["status"] : json();
  const bool failed = status_value.is_string() && status_value.get<std::string>() == "failed";
  if (failed) {
    r.object(v, key, {"zone_id", "status", "reason", "checksum"}, {"zone_name"});
  } else {
    r.object(v, key,
             {"zone_id", "status", "policy", "counts", "creates", "updates", "deletes",
              "unsupported", "checksum"},
             {"reason", "zone_name"});
  }
  if (v.contains("zone_name")) {
    z.zone_name = r.string(v["zone_name"], Reader::join(key, "zone_name"));
    if (!is_zone_name(z.zone_name)) {
      r.fail(Reader::join(key, "zone_name"), "must be a zone name like example.com",
             &v["zone_name"]);
    }
  }
  z.zone_id = r.string(v["zone_id"], Reader::join(key, "zone_id"));
  if (!is_zone_id(z.zone_id)) {
    r.fail(Reader::join(key, "zone_id"), "must be 32 lower-case hex characters", &v["zone_id"]);
  }
  z.status = zone_status(r, v["status"], Reader::join(key, "status"));
  if (v.contains("reason")) z.reason = r.string(v["reason"], Reader::join(key, "reason"));
  if (z.status != PlanZoneStatus::kPlanned && z.reason.empty()) {
    r.fail(Reader::join(key, "reason"), "missing (a blocked or failed zone says why)");
  }
  if (failed && !v["checksum"].is_null()) {
    r.fail(Reader::join(key, "checksum"), "must be null for a failed zone", &v["checksum"]);
  }
  return failed;
}

// creates, updates (from -> to) and deletes, as listed.
ChangeSet read_changes(const Reader& r, const json& v, const std::string& key) {
  ChangeSet changes;
  const std::string crkey = Reader::join(key, "creates");
  const json& creates = r.array(v["creates"], crkey);
  for (std::size_t i = 0; i < creates.size(); ++i) {
    changes.creates.push_back(r.mapping(creates[i], Reader::at(crkey, i)));
  }
  const std::string upkey = Reader::join(key, "updates");
  const json& updates = r.array(v["updates"], upkey);
  for (std::size_t i = 0; i < updates.size(); ++i) {
    const std::string ukey = Reader::at(upkey, i);
    r.object(updates[i], ukey, {"from", "to"});
    changes.updates.push_back({r.mapping(updates[i]["from"], Reader::join(ukey, "from")),
                               r.mapping(updates[i]["to"], Reader::join(ukey, "to"))});
  }
  const std::string dkey = Reader::join(key, "deletes");
  const json& deletes = r.array(v["deletes"], dkey);
  for (std::size_t i = 0; i < deletes.size(); ++i) {
    changes.deletes.push_back(r.string(deletes[i], Reader::at(dkey, i)));
  }
  return changes;
}

// counts: what the listing held.
PlanCounts read_counts(const Reader& r, const json& v, const std::string& key) {
  const std::string ckey = Reader::join(key, "counts");
  const json& c =
      r.object(v["counts"], ckey,
               {"live", "desired", "out_of_scope", "unparseable", "creates", "updates", "deletes"});
  PlanCounts counts;
  counts.live = r.count(c["live"], Reader::join(ckey, "live"));
  counts.desired = r.count(c["desired"], Reader::join(ckey, "desired"));
  counts.out_of_scope = r.count(c["out_of_scope"], Reader::join(ckey, "out_of_scope"));
  counts.unparseable = r.count(c["unparseable"], Reader::join(ckey, "unparseable"));
  return counts;
}

// counts of creates, updates and deletes: as many as are listed.
void check_listed_counts(const Reader& r, const json& v, const std::string& key,
                         const ChangeSet& changes) {
  const std::string ckey = Reader::join(key, "counts");
  const json& c = v["counts"];
  const std::pair<const char*, std::size_t> listed[] = {{"creates", changes.creates.size()},
                                                        {"updates", changes.updates.size()},
                                                        {"deletes", changes.deletes.size()}};
  for (const auto& [name, size] : listed) {
    const std::string k = Reader::join(ckey, name);
    if (r.count(c[name], k) != size) {
      r.fail(k, "does not match the " + std::to_string(size) + " " + name + " listed", &c[name]);
    }
  }
}

PlanZone read_zone(const Reader& r, const json& v, const std::string& key) {
  PlanZone z;
  if (read_zone_head(r, v, key, z)) return z;  // failed: nothing was planned

  const std::string pkey = Reader::join(key, "policy");
  const auto policy = parse_policy(r.string(v["policy"], pkey));
  if (!policy) r.fail(pkey, "must be prune or sync", &v["policy"]);
  z.policy = *policy;
  const std::string unkey = Reader::join(key, "unsupported");
  const json& unsupported = r.array(v["unsupported"], unkey);
  for (std::size_t i = 0; i < unsupported.size(); ++i) {
    z.unsupported.push_back(r.mapping(unsupported[i], Reader::at(unkey, i), false));
  }
  z.counts = read_counts(r, v, key);
  z.changes = read_changes(r, v, key);
  check_listed_counts(r, v, key, z.changes);

  z.checksum = r.checksum(v["checksum"], Reader::join(key, "checksum"));
  const std::string computed = zone_checksum(z.zone_id, z.changes);
  if (computed != z.checksum) {
    r.fail(Reader::join(key, "checksum"),
           "does not match the zone's changes (computed " + computed + "): the file was edited",
           &v["checksum"]);
  }
  z.changes = canonical_order(std::move(z.changes));
  return z;
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

std::string canonical_zone(const std::string& zone_id, const ChangeSet& changes) {
  json j = changes_json(canonical_order(changes));
  j["zone_id"] = zone_id;
  return canonical_dump(j);
}

std::string zone_checksum(const std::string& zone_id, const ChangeSet& changes) {
  return checksum_of(canonical_zone(zone_id, changes));
}

std::string plan_checksum(const std::vector<PlanZone>& zones) {
  json list = json::array();
  for (const auto& z : zones) {
    list.push_back(
        json{{"zone_id", z.zone_id},
             {"checksum", z.status == PlanZoneStatus::kFailed ? json(nullptr) : json(z.checksum)}});
  }
  return checksum_of(canonical_dump(list));
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

namespace {

json parse_json(std::string_view text, const std::string& file) {
  if (const Status bounded = check_json_bounds(text, {kMaxPlanFileBytes, kMaxJsonDepth});
      !bounded.ok()) {
    throw PlanFileError(file + ": not a plan document: " + bounded.error().message);
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without the tag,
    // and the bytes it quotes escaped (they may be anything).
    std::string what = e.what();
    if (const auto at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    throw PlanFileError(file + ": not a plan document: " + redact(what, 300));
  }
}

// The format and version first: a document of another kind or version says so before
// anything else is judged.
void check_format(const Reader& r, const json& doc) {
  if (!doc.is_object()) r.fail("(document)", "must be a JSON object", &doc);
  if (!doc.contains("format")) r.fail("format", "missing (not a plan document)");
  if (doc["format"] != kPlanFormat) {
    r.fail("format", "must be '" + std::string(kPlanFormat) + "'", &doc["format"]);
  }
  if (!doc.contains("version")) r.fail("version", "missing");
  if (!doc["version"].is_number_integer() || doc["version"].get<std::int64_t>() != kPlanVersion) {
    r.fail("version", "this origin-reconciler reads version " + std::to_string(kPlanVersion),
           &doc["version"]);
  }
  r.object(doc, "",
           {"format", "version", "generator", "created_at", "api_flavor", "config", "desired_state",
            "force", "summary", "zones", "checksum"});
}

// Who made the plan, when, and from which configuration and desired state.
void read_identity(const Reader& r, const json& doc, PlanDocument& plan) {
  plan.identity.generator = r.string(doc["generator"], "generator");
  const std::string created = r.string(doc["created_at"], "created_at");
  const auto at = parse_utc(created);
  if (!at) r.fail("created_at", "must be a UTC time like 2026-12-02T01:30:00Z", &doc["created_at"]);
  plan.created_at = *at;
  plan.identity.api_flavor = r.string(doc["api_flavor"], "api_flavor");
  if (plan.identity.api_flavor != "origin-v2" && plan.identity.api_flavor != "cache-v1") {
    r.fail("api_flavor", "must be origin-v2 or cache-v1", &doc["api_flavor"]);
  }
  plan.identity.config = r.string(doc["config"], "config");
  const json& ds = r.object(doc["desired_state"], "desired_state", {"path", "sha256"});
  plan.identity.desired_state = r.string(ds["path"], "desired_state.path");
  plan.identity.desired_sha256 = r.checksum(ds["sha256"], "desired_state.sha256");
  plan.identity.force = r.boolean(doc["force"], "force");
}

std::vector<PlanZone> read_zones(const Reader& r, const json& doc) {
  const json& zones = r.array(doc["zones"], "zones");
  std::vector<PlanZone> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < zones.size(); ++i) {
    PlanZone z = read_zone(r, zones[i], Reader::at("zones", i));
    if (!seen.insert(z.zone_id).second) {
      r.fail(Reader::at("zones", i) + ".zone_id", "appears twice", &zones[i]["zone_id"]);
    }
    out.push_back(std::move(z));
  }
  return out;
}

// summary: the zones by status and their changes, as the zones hold them.
void check_summary(const Reader& r, const json& doc, const std::vector<PlanZone>& zones) {
  const json& summary =
      r.object(doc["summary"], "summary",
               {"zones", "planned", "blocked", "failed", "creates", "updates", "deletes"});
  std::map<std::string, std::size_t> expected = {
      {"zones", zones.size()}, {"planned", 0}, {"blocked", 0}, {"failed", 0},
      {"creates", 0},          {"updates", 0}, {"deletes", 0}};
  for (const auto& z : zones) {
    ++expected[std::string(to_string(z.status))];
    expected["creates"] += z.changes.creates.size();
    expected["updates"] += z.changes.updates.size();
    expected["deletes"] += z.changes.deletes.size();
  }
  for (const auto& [name, want] : expected) {
    if (r.count(summary[name], "summary." + name) != want) {
      r.fail("summary." + name, "does not match the zones (they hold " + std::to_string(want) + ")",
             &summary[name]);
    }
  }
}

}  // namespace

PlanDocument parse_plan_document(std::string_view text, const std::string& file) {
  const json doc = parse_json(text, file);
  const Reader r(file);
  check_format(r, doc);
  PlanDocument plan;
  read_identity(r, doc, plan);
  plan.zones = read_zones(r, doc);
  check_summary(r, doc, plan.zones);
  plan.checksum = r.checksum(doc["checksum"], "checksum");
  const std::string computed = plan_checksum(plan.zones);
  if (computed != plan.checksum) {
    r.fail("checksum", "does not match the zones (computed " + computed + "): the file was edited",
           &doc["checksum"]);
  }
  return plan;
}

std::optional<std::string> plan_age_problem(const PlanDocument& plan, const std::string& file,
                                            WallTime now, Millis max_age) {
  const auto age = std::chrono::floor<std::chrono::seconds>(now - plan.created_at);
  const std::string got = " (got '" + format_utc(plan.created_at) + "')";
  if (plan.created_at > now + kPlanClockSkew) {
    return file + ": created_at: lies in the future, the clock here says " + format_utc(now) + got;
  }
  if (age > max_age) {
    return file + ": created_at: the plan is " + format_duration(age) +
           " old, older than --plan-max-age " + format_duration(max_age) + got +
           "; make a new plan with --dry-run --plan-out";
  }
  return std::nullopt;
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
    out.refusal = "the zone is not in the plan file";
    return out;
  }
  if (it->status == PlanZoneStatus::kFailed) {
    out.refusal =
        "the plan file holds no plan for the zone: it could not be listed when the plan was "
        "made (" +
        it->reason + ")";
    return out;
  }
  out.reviewed = change_count(it->changes);
  out.left = change_count(now);
  if (zone_checksum(zone_id, now) == it->checksum) return out;
  if (auto unreviewed = first_unreviewed_change(it->changes, now)) {
    out.refusal = "the plan now differs from the plan file: " + *unreviewed;
  }
  return out;
}

std::optional<std::string> review_zone(const PlanDocument& reviewed, const std::string& zone_id,
                                       const ChangeSet& now) {
  return review_zone_changes(reviewed, zone_id, now).refusal;
}

std::string ZoneReview::progress() const {
  if (refusal || left == reviewed) return {};
  if (left == 0) {
    return "already applied: the " + std::to_string(reviewed) +
           " changes of the reviewed plan are in place";
  }
  return "resumed: " + std::to_string(left) + " of the " + std::to_string(reviewed) +
         " reviewed changes left, the others are in place";
}

std::string format_utc(WallTime t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
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
