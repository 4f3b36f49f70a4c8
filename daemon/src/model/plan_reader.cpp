// The strict reader of plan documents (parse_plan_document in plan_file.h), streaming: the
// values come from nlohmann's SAX parser and go straight into the plan's own structures, one
// list item at a time, so that reading a plan takes memory in proportion to what it holds, not
// a tree of the whole file. What stays a tree is small: the top-level values, one zone's keys
// and one list item, each checked by the same functions, with the same messages, as a whole
// document once was. A value in the wrong place is kept only as far as a message can quote it.
//
// The order in which problems are found is the order of the checks, not of the bytes: a
// syntax error or a depth beyond the bound anywhere wins; then the format, the version and the
// document's keys, who made the plan, then the zones in order (the first problem of the first
// zone that has one), then the summary and the plan's checksum. A problem met while reading a
// zone is therefore kept until the end of the document, and reported only if nothing checked
// before it fails.
#include <algorithm>
#include <array>
#include <cstdint>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <variant>

#include "base/json_bounds.h"
#include "base/redact.h"
#include "base/source_text.h"
#include "model/desired_state.h"
#include "model/plan_file.h"

namespace orc {

using nlohmann::json;

namespace {

constexpr std::string_view kSha256Prefix = "sha256:";
const std::set<std::string> kVendors = {"aws", "azure", "gcp", "oci"};

// A message quotes at most this much of a value (its canonical text, or a string as it is).
constexpr std::size_t kQuotedChars = 80;

// Compact, keys sorted (nlohmann's objects are ordered maps), ASCII only: the canonical text.
std::string canonical_dump(const json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
}

std::string shown_json(const json& v) {
  return shown(v.is_string() ? v.get<std::string>() : canonical_dump(v), kQuotedChars);
}

// --- the checks, each over a small tree ------------------------------------------------

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

// The lists of a document, read an item at a time.
enum class List { kZones, kCreates, kUpdates, kDeletes, kUnsupported };

std::string list_key(List list) {
  switch (list) {
    case List::kZones:
      return "zones";
    case List::kCreates:
      return "creates";
    case List::kUpdates:
      return "updates";
    case List::kDeletes:
      return "deletes";
    case List::kUnsupported:
      return "unsupported";
  }
  return "";
}

// One zone's lists as their items were read: what they hold, and the first item of each that
// is not what it should be (its message), kept until the zone is judged as a whole.
struct ZoneLists {
  ChangeSet changes;
  std::vector<Mapping> unsupported;
  std::map<List, std::string> problem;

  void restart(List list) {
    problem.erase(list);
    switch (list) {
      case List::kCreates:
        changes.creates.clear();
        break;
      case List::kUpdates:
        changes.updates.clear();
        break;
      case List::kDeletes:
        changes.deletes.clear();
        break;
      case List::kUnsupported:
        unsupported.clear();
        break;
      case List::kZones:
        break;
    }
  }

  // Item `i` of `list` of the zone at `key`; a problem with it is kept as the list's first.
  void add(const Reader& r, List list, const std::string& key, std::size_t i, const json& v) {
    if (problem.contains(list)) return;  // only the first problem of a list is reported
    const std::string item = Reader::at(Reader::join(key, list_key(list)), i);
    try {
      switch (list) {
        case List::kCreates:
          changes.creates.push_back(r.mapping(v, item));
          break;
        case List::kUpdates:
          r.object(v, item, {"from", "to"});
          changes.updates.push_back({r.mapping(v["from"], Reader::join(item, "from")),
                                     r.mapping(v["to"], Reader::join(item, "to"))});
          break;
        case List::kDeletes:
          changes.deletes.push_back(r.string(v, item));
          break;
        case List::kUnsupported:
          unsupported.push_back(r.mapping(v, item, false));
          break;
        case List::kZones:
          break;
      }
    } catch (const PlanFileError& e) {
      problem[list] = e.what();
    }
  }

  // The list at `key` of the zone `v`: an array (its items read already), with no problem.
  void check(const Reader& r, const json& v, const std::string& key, List list) const {
    const std::string name = list_key(list);
    r.array(v[name], Reader::join(key, name));
    if (const auto it = problem.find(list); it != problem.end()) throw PlanFileError(it->second);
  }
};

// A zone: `v` holds its keys, with each list that was an array as an empty one (its items are
// in `lists`).
PlanZone read_zone(const Reader& r, const json& v, const std::string& key, ZoneLists& lists) {
  PlanZone z;
  if (read_zone_head(r, v, key, z)) return z;  // failed: nothing was planned

  const std::string pkey = Reader::join(key, "policy");
  const auto policy = parse_policy(r.string(v["policy"], pkey));
  if (!policy) r.fail(pkey, "must be prune or sync", &v["policy"]);
  z.policy = *policy;
  lists.check(r, v, key, List::kUnsupported);
  z.unsupported = std::move(lists.unsupported);
  z.counts = read_counts(r, v, key);
  lists.check(r, v, key, List::kCreates);
  lists.check(r, v, key, List::kUpdates);
  lists.check(r, v, key, List::kDeletes);
  z.changes = canonical_order(std::move(lists.changes));
  check_listed_counts(r, v, key, z.changes);

  z.checksum = r.checksum(v["checksum"], Reader::join(key, "checksum"));
  const std::string computed = zone_checksum(z.zone_id, z.changes);
  if (computed != z.checksum) {
    r.fail(Reader::join(key, "checksum"),
           "does not match the zone's changes (computed " + computed + "): the file was edited",
           &v["checksum"]);
  }
  return z;
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

// --- what is kept of the document, and where -------------------------------------------

// What the reader expects at a place of the document: a single value (kept whole when it is
// not an array or an object), an object of known keys (each with its own shape), or a list
// whose items are read one at a time.
struct Shape;
struct Field {
  std::string_view name;
  const Shape* shape;
};
struct Shape {
  enum class Kind { kValue, kObject, kList };
  Kind kind = Kind::kValue;
  std::span<const Field> fields = {};
  const Shape* item = nullptr;  // kList
  List list = List::kZones;     // kList
};

constexpr Shape kValue{};
constexpr Field kMappingFields[] = {{"ip", &kValue}, {"region", &kValue}, {"vendor", &kValue}};
constexpr Shape kMapping{Shape::Kind::kObject, kMappingFields};
constexpr Field kUpdateFields[] = {{"from", &kMapping}, {"to", &kMapping}};
constexpr Shape kUpdate{Shape::Kind::kObject, kUpdateFields};
constexpr Shape kCreates{Shape::Kind::kList, {}, &kMapping, List::kCreates};
constexpr Shape kUpdates{Shape::Kind::kList, {}, &kUpdate, List::kUpdates};
constexpr Shape kDeletes{Shape::Kind::kList, {}, &kValue, List::kDeletes};
constexpr Shape kUnsupported{Shape::Kind::kList, {}, &kMapping, List::kUnsupported};
constexpr Field kCountsFields[] = {
    {"creates", &kValue},      {"deletes", &kValue},     {"desired", &kValue}, {"live", &kValue},
    {"out_of_scope", &kValue}, {"unparseable", &kValue}, {"updates", &kValue}};
constexpr Shape kCounts{Shape::Kind::kObject, kCountsFields};
// Every key a zone may have, planned, blocked or failed: the zone's own check says which.
constexpr Field kZoneFields[] = {{"checksum", &kValue},  {"counts", &kCounts},
                                 {"creates", &kCreates}, {"deletes", &kDeletes},
                                 {"policy", &kValue},    {"reason", &kValue},
                                 {"status", &kValue},    {"unsupported", &kUnsupported},
                                 {"updates", &kUpdates}, {"zone_id", &kValue},
                                 {"zone_name", &kValue}};
constexpr Shape kZone{Shape::Kind::kObject, kZoneFields};
constexpr Shape kZones{Shape::Kind::kList, {}, &kZone, List::kZones};
constexpr Field kDesiredStateFields[] = {{"path", &kValue}, {"sha256", &kValue}};
constexpr Shape kDesiredState{Shape::Kind::kObject, kDesiredStateFields};
constexpr Field kSummaryFields[] = {
    {"blocked", &kValue}, {"creates", &kValue}, {"deletes", &kValue}, {"failed", &kValue},
    {"planned", &kValue}, {"updates", &kValue}, {"zones", &kValue}};
constexpr Shape kSummary{Shape::Kind::kObject, kSummaryFields};
constexpr Field kDocumentFields[] = {{"api_flavor", &kValue},
                                     {"checksum", &kValue},
                                     {"config", &kValue},
                                     {"created_at", &kValue},
                                     {"desired_state", &kDesiredState},
                                     {"force", &kValue},
                                     {"format", &kValue},
                                     {"generator", &kValue},
                                     {"summary", &kSummary},
                                     {"version", &kValue},
                                     {"zones", &kZones}};
constexpr Shape kDocument{Shape::Kind::kObject, kDocumentFields};

const Shape* field_shape(const Shape& object, std::string_view name) {
  for (const Field& f : object.fields) {
    if (f.name == name) return f.shape;
  }
  return nullptr;
}

// A value that is only ever quoted (an array where a string belongs, say) is kept as far as
// a quote can reach: its canonical text starts with the same kQuoteReach bytes as the whole
// value's would, and is at least that long if the whole value's is (so a quote cut after
// kQuotedChars is the same, "..." included). An array keeps its items until its text is that
// long; an object the entries, in key order, that start within that reach; a string or a key
// its first kKeptBytes bytes (each byte is at least one byte of text, and what a cut UTF-8
// sequence turns into starts beyond the reach).
constexpr std::size_t kQuoteReach = kQuotedChars + 1;
constexpr std::size_t kKeptBytes = kQuoteReach + 8;

std::string kept_part(std::string s) {
  if (s.size() > kKeptBytes) s.resize(kKeptBytes);
  return s;
}

std::size_t text_length(const json& scalar) {
  return canonical_dump(scalar).size();
}

struct Quoted {
  json value;              // an array or an object, as far as it is kept
  std::size_t items = 0;   // the text of the kept items (entries), commas not counted
  std::string key = {};    // object: the key whose value comes next (its kept part)
  bool skip_next = false;  // the value that comes next starts beyond the reach
  std::map<std::string, std::size_t> entries = {};  // object: each kept entry's text length

  std::size_t count() const { return value.size(); }
  // Where an item (entry) after the kept ones would start in the text.
  std::size_t next_offset() const { return 1 + items + count(); }
  // The length of the kept value's text.
  std::size_t length() const { return count() == 0 ? 2 : items + count() + 1; }

  void next_key(std::string name) {
    key = kept_part(std::move(name));
    skip_next = !entries.empty() && next_offset() >= kQuoteReach && key > entries.rbegin()->first;
  }
  bool next_is_kept() const { return value.is_object() ? !skip_next : next_offset() < kQuoteReach; }

  void add(json item, std::size_t length) {
    if (value.is_array()) {
      items += length;
      value.push_back(std::move(item));
      return;
    }
    const std::size_t entry = text_length(json(key)) + 1 + length;
    if (const auto it = entries.find(key); it != entries.end()) {
      items -= it->second;
      it->second = entry;
    } else {
      entries.emplace(key, entry);
    }
    items += entry;
    value[key] = std::move(item);
    // Drop the last entries while they start beyond the reach.
    while (entries.size() >= 2) {
      const auto last = std::prev(entries.end());
      if (1 + (items - last->second) + (entries.size() - 1) < kQuoteReach) break;
      items -= last->second;
      value.erase(last->first);
      entries.erase(last);
    }
  }
};

// --- the SAX handler -------------------------------------------------------------------

// An object the reader expects: the values of its known keys, and of its unknown keys only
// the first in key order (as null), which is all the check reports.
struct KnownObject {
  const Shape* shape;
  json value = json::object();
  const Shape* next = nullptr;  // the shape of the value after the current key; null: not kept
  std::string key = {};
  std::optional<std::string> first_unknown = {};
};

// A list whose items are read one at a time; what is kept in the tree is an empty array.
struct ItemList {
  const Shape* shape;
  std::size_t items = 0;
};

using Frame = std::variant<KnownObject, ItemList, Quoted>;

class PlanSax final : public nlohmann::json_sax<json> {
 public:
  explicit PlanSax(const std::string& file) : file_(file), reader_(file) {}

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return value(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
  bool string(string_t& v) override {
    if (skip_ == 0 && !stack_.empty() && std::holds_alternative<Quoted>(stack_.back())) {
      return value(json(kept_part(std::move(v))));
    }
    return value(json(std::move(v)));
  }
  bool binary(binary_t&) override { return value(json(nullptr)); }  // JSON text has none
  bool start_object(std::size_t) override { return open(/*object=*/true); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(/*object=*/false); }
  bool end_array() override { return close(); }

  bool key(string_t& name) override {
    if (skip_ > 0) return true;
    if (auto* quoted = std::get_if<Quoted>(&stack_.back())) {
      quoted->next_key(std::move(name));
      return true;
    }
    auto& object = std::get<KnownObject>(stack_.back());
    object.next = field_shape(*object.shape, name);
    if (object.next != nullptr) {
      object.key = std::move(name);
      if (object.shape == &kZone && object.next->kind == Shape::Kind::kList) {
        lists_.restart(object.next->list);
      }
    } else if (!object.first_unknown || name < *object.first_unknown) {
      if (object.first_unknown) object.value.erase(*object.first_unknown);
      object.value[name] = nullptr;
      object.first_unknown = std::move(name);
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without the tag,
    // and the bytes it quotes escaped (they may be anything).
    std::string what = e.what();
    if (const auto at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    error_ = redact(what, 300);
    return false;
  }

  // The document once the parse is over, checked in the order of the checks.
  PlanDocument finish() {
    if (error_) throw PlanFileError(file_ + ": not a plan document: " + *error_);
    const Reader& r = reader_;
    const json& doc = root_;
    check_format(r, doc);
    PlanDocument plan;
    read_identity(r, doc, plan);
    r.array(doc["zones"], "zones");
    if (zones_problem_) throw PlanFileError(*zones_problem_);
    plan.zones = std::move(zones_);
    check_summary(r, doc, plan.zones);
    plan.checksum = r.checksum(doc["checksum"], "checksum");
    const std::string computed = plan_checksum(plan.zones);
    if (computed != plan.checksum) {
      r.fail("checksum",
             "does not match the zones (computed " + computed + "): the file was edited",
             &doc["checksum"]);
    }
    return plan;
  }

 private:
  // Where the value that starts now goes: kept in a quote, kept with a shape, or not kept.
  enum class Slot { kSkip, kQuoted, kShaped };
  std::pair<Slot, const Shape*> slot() const {
    if (stack_.empty()) return {Slot::kShaped, &kDocument};
    if (const auto* object = std::get_if<KnownObject>(&stack_.back())) {
      return {object->next == nullptr ? Slot::kSkip : Slot::kShaped, object->next};
    }
    if (const auto* list = std::get_if<ItemList>(&stack_.back())) {
      return {Slot::kShaped, list->shape->item};
    }
    return {std::get<Quoted>(stack_.back()).next_is_kept() ? Slot::kQuoted : Slot::kSkip, nullptr};
  }

  bool value(json v) {
    if (skip_ > 0) return true;
    const auto [where, _] = slot();
    if (where == Slot::kSkip) return true;
    const std::size_t length = where == Slot::kQuoted ? text_length(v) : 0;
    deliver(std::move(v), length);
    return true;
  }

  bool open(bool object) {
    if (!depth_.enter()) {
      error_ = "nested deeper than " + std::to_string(depth_.max_depth()) + " levels";
      return false;
    }
    const auto [where, shape] = skip_ > 0 ? std::pair{Slot::kSkip, nullptr} : slot();
    if (where == Slot::kSkip) {
      ++skip_;
    } else if (where == Slot::kShaped && object && shape->kind == Shape::Kind::kObject) {
      if (shape == &kZone) start_zone();
      stack_.emplace_back(KnownObject{shape});
    } else if (where == Slot::kShaped && !object && shape->kind == Shape::Kind::kList) {
      if (shape->list == List::kZones) restart_zones();
      stack_.emplace_back(ItemList{shape});
    } else {
      stack_.emplace_back(Quoted{object ? json::object() : json::array()});
    }
    return true;
  }

  bool close() {
    depth_.leave();
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    Frame done = std::move(stack_.back());
    stack_.pop_back();
    if (auto* object = std::get_if<KnownObject>(&done)) {
      deliver(std::move(object->value), 0);
    } else if (std::holds_alternative<ItemList>(done)) {
      deliver(json::array(), 0);
    } else {
      auto& quoted = std::get<Quoted>(done);
      const std::size_t length = quoted.length();
      deliver(std::move(quoted.value), length);
    }
    return true;
  }

  // A value that is complete, to the frame it belongs to. `length`: its text's, when quoted.
  void deliver(json v, std::size_t length) {
    if (stack_.empty()) {
      root_ = std::move(v);
    } else if (auto* object = std::get_if<KnownObject>(&stack_.back())) {
      object->value[object->key] = std::move(v);
    } else if (auto* list = std::get_if<ItemList>(&stack_.back())) {
      item(list->shape->list, list->items++, v);
    } else {
      std::get<Quoted>(stack_.back()).add(std::move(v), length);
    }
  }

  // A zone's object starts (the list of zones is the frame on top).
  void start_zone() {
    lists_ = {};
    zone_key_ = Reader::at("zones", std::get<ItemList>(stack_.back()).items);
  }

  void restart_zones() {
    zones_.clear();
    zone_ids_.clear();
    zones_problem_.reset();
  }

  void item(List list, std::size_t i, const json& v) {
    if (list != List::kZones) {
      if (!zones_problem_) lists_.add(reader_, list, zone_key_, i, v);
      return;
    }
    zone(i, v);
  }

  // Zone `i`, complete: judged now, its problem (the first zone's that has one) kept.
  void zone(std::size_t i, const json& v) {
    const std::string key = Reader::at("zones", i);
    if (!zones_problem_) {
      try {
        PlanZone z = read_zone(reader_, v, key, lists_);
        if (!zone_ids_.insert(z.zone_id).second) {
          reader_.fail(key + ".zone_id", "appears twice", &v["zone_id"]);
        }
        zones_.push_back(std::move(z));
      } catch (const PlanFileError& e) {
        zones_problem_ = e.what();
      }
    }
    lists_ = {};
  }

  std::string file_;
  Reader reader_;
  JsonDepthGuard depth_{kMaxJsonDepth};
  std::optional<std::string> error_;  // a syntax error or a depth beyond the bound
  std::vector<Frame> stack_;
  std::size_t skip_ = 0;  // how deep inside a value that is not kept
  json root_;
  // The zones read so far, and the first problem of one.
  std::vector<PlanZone> zones_;
  std::set<std::string> zone_ids_;
  std::optional<std::string> zones_problem_;
  // The zone being read: its key and the items of its lists.
  std::string zone_key_;
  ZoneLists lists_;
};

}  // namespace

PlanDocument parse_plan_document(std::string_view text, const std::string& file) {
  if (text.size() > kMaxPlanFileBytes) {
    throw PlanFileError(file + ": not a plan document: larger than " +
                        std::to_string(kMaxPlanFileBytes) + " bytes (" +
                        std::to_string(text.size()) + ")");
  }
  PlanSax sax(file);
  json::sax_parse(text, &sax, json::input_format_t::json, /*strict=*/true);
  return sax.finish();
}

PlanDocument parse_plan_document(std::istream& in, const std::string& file) {
  PlanSax sax(file);
  json::sax_parse(in, &sax, json::input_format_t::json, /*strict=*/true);
  return sax.finish();
}

}  // namespace orc
