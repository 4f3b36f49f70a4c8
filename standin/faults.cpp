#include "faults.h"

#include <set>

#include "json_doc.h"
#include "store.h"

namespace standin {
namespace {

using nlohmann::json;

const std::set<std::string, std::less<>> kRuleFields = {
    "operation",   "flavor", "zone",     "skip",          "times",    "latency_ms", "status",
    "retry_after", "body",   "truncate", "success_false", "fail_ips", "code"};

// Reads an optional integer field within [min, max]; returns an error message or "".
std::string read_int(const json& rule, const char* key, int min, int max, auto&& store) {
  auto it = rule.find(key);
  if (it == rule.end()) return {};
  if (!it->is_number_integer() || *it < min || *it > max) {
    return std::string("\"") + key + "\" must be a whole number from " + std::to_string(min) +
           " to " + std::to_string(max);
  }
  store(it->get<int>());
  return {};
}

std::string read_bool(const json& rule, const char* key, bool& out) {
  auto it = rule.find(key);
  if (it == rule.end()) return {};
  if (!it->is_boolean()) return std::string("\"") + key + "\" must be true or false";
  out = it->get<bool>();
  return {};
}

std::string read_match_fields(const json& rule, FaultRule& r) {
  if (auto it = rule.find("operation"); it != rule.end()) {
    const auto name = it->is_string() ? it->get<std::string>() : std::string();
    if (name != "any") {
      r.operation = parse_operation(name);
      if (!r.operation) {
        return "\"operation\" must be one of list, get, delete, batch_delete, batch_upsert, "
               "upsert, create, supported_regions, zones, any";
      }
    }
  }
  if (auto it = rule.find("flavor"); it != rule.end()) {
    r.flavor = it->is_string() ? parse_flavor(it->get<std::string>()) : std::nullopt;
    if (!r.flavor) return "\"flavor\" must be cache-v1 or origin-v2";
  }
  if (auto it = rule.find("zone"); it != rule.end()) {
    if (!it->is_string() || !is_valid_zone_id(it->get<std::string>())) {
      return "\"zone\" must be a zone id (32 lower-case hex characters)";
    }
    r.zone = it->get<std::string>();
  }
  return {};
}

std::string read_fail_ips(const json& rule, FaultRule& r) {
  auto it = rule.find("fail_ips");
  if (it == rule.end()) return {};
  if (!it->is_object()) return "\"fail_ips\" must be an object of IP -> error message";
  for (const auto& [ip, error] : it->items()) {
    auto canonical = orc::canonicalize_ip(ip);
    if (!canonical) return "\"fail_ips\": \"" + ip + "\" is not an IP address";
    if (!error.is_string()) return "\"fail_ips\": the error for " + ip + " must be a string";
    r.fail_ips[*canonical] = error.get<std::string>();
  }
  return {};
}

std::string contradiction(const FaultRule& r) {
  if (r.code && !r.status && !r.success_false) {
    return "\"code\" is the code of an injected error: it needs \"status\" or \"success_false\"";
  }
  if (r.code && r.body) return "\"code\" cannot be combined with body (the body is sent as given)";
  if (r.success_false && (r.status || r.body || r.truncate || !r.fail_ips.empty())) {
    return "\"success_false\" cannot be combined with status, body, truncate or fail_ips";
  }
  if ((r.status || r.body) && (r.truncate || !r.fail_ips.empty())) {
    return "status and body replace the handler; they cannot be combined with truncate or "
           "fail_ips";
  }
  if (!r.fail_ips.empty() && r.operation != Operation::kBatchDelete &&
      r.operation != Operation::kBatchUpsert) {
    return "\"fail_ips\" needs \"operation\": \"batch_delete\" or \"batch_upsert\"";
  }
  return {};
}

std::string read_rule(const json& rule, FaultRule& r) {
  if (!rule.is_object()) return "a rule must be a JSON object";
  for (const auto& [key, value] : rule.items()) {
    if (!kRuleFields.contains(key)) return "unknown field \"" + key + "\"";
  }
  std::vector<std::string> problems = {
      read_match_fields(rule, r),
      read_int(rule, "skip", 0, 1'000'000'000, [&](int v) { r.skip = v; }),
      read_int(rule, "times", -1, 1'000'000'000, [&](int v) { r.times = v; }),
      read_int(rule, "latency_ms", 0, 600'000, [&](int v) { r.latency_ms = v; }),
      read_int(rule, "status", 100, 599, [&](int v) { r.status = v; }),
      read_int(rule, "retry_after", 0, 86'400, [&](int v) { r.retry_after = v; }),
      read_int(rule, "code", 1, 99'999, [&](int v) { r.code = v; }),
      read_bool(rule, "truncate", r.truncate),
      read_bool(rule, "success_false", r.success_false),
      read_fail_ips(rule, r),
  };
  if (auto it = rule.find("body"); it != rule.end()) {
    if (it->is_string()) {
      r.body = it->get<std::string>();
    } else {
      problems.push_back("\"body\" must be a string");
    }
  }
  for (const auto& p : problems) {
    if (!p.empty()) return p;
  }
  return contradiction(r);
}

}  // namespace

bool FaultRule::matches(Operation op, std::optional<ApiFlavor> fl, std::string_view z) const {
  return (!operation || *operation == op) && (!flavor || *flavor == fl) && (!zone || *zone == z);
}

std::string FaultRule::label() const {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : "+") + part; };
  if (status) add(std::to_string(*status));
  if (body) add("body");
  if (success_false) add("success_false");
  if (truncate) add("truncate");
  if (!fail_ips.empty()) add("fail_ips");
  if (latency_ms > 0) add("latency");
  if (out.empty()) add("noop");
  return out;
}

Parsed<FaultRule> parse_fault_rule(const json& rule) {
  FaultRule r;
  if (auto problem = read_rule(rule, r); !problem.empty()) {
    return Parsed<FaultRule>::fail(problem);
  }
  return Parsed<FaultRule>::ok(std::move(r));
}

Parsed<FaultPlan> FaultPlan::parse(const json& doc) {
  using Result = Parsed<FaultPlan>;
  const auto rules = sole_field(doc, "rules", json::value_t::array,
                                "fault rules must be a JSON object {\"rules\": [...]}");
  if (!rules) return Result::fail(rules.error);
  FaultPlan plan;
  int index = 0;
  for (const auto& source : **rules.value) {
    auto rule = parse_fault_rule(source);
    if (!rule) return Result::fail("rule " + std::to_string(index) + ": " + rule.error);
    plan.entries_.push_back({*rule.value, source, rule.value->skip, rule.value->times, 0});
    ++index;
  }
  return Result::ok(std::move(plan));
}

std::optional<FaultRule> FaultPlan::take(Operation op, std::optional<ApiFlavor> flavor,
                                         std::string_view zone) {
  for (auto& e : entries_) {
    if (e.times_left == 0 || !e.rule.matches(op, flavor, zone)) continue;
    if (e.skip_left > 0) {
      --e.skip_left;
      continue;
    }
    if (e.times_left > 0) --e.times_left;
    ++e.applied;
    return e.rule;
  }
  return std::nullopt;
}

nlohmann::json FaultPlan::to_json() const {
  json rules = json::array();
  for (const auto& e : entries_) {
    json r = e.source;
    r["skip_remaining"] = e.skip_left;
    r["times_remaining"] = e.times_left;
    r["applied"] = e.applied;
    rules.push_back(std::move(r));
  }
  return {{"rules", std::move(rules)}};
}

}  // namespace standin
