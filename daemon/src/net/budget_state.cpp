#include "net/budget_state.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>

#include "base/json_bounds.h"

namespace orc {

using nlohmann::json;

namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kOneDaySeconds = 24 * 60 * 60;
constexpr std::int64_t kMostCount = 1'000'000'000;
// Times a file may name: from 1970 to 2200 (as a plan's created_at), in milliseconds.
constexpr std::int64_t kLatestMs = 7'258'118'400'000;  // 2200-01-01T00:00:00Z

// Rounded up: a wait read back never ends early.
std::int64_t to_ms(WallTime t) {
  return std::chrono::ceil<milliseconds>(t.time_since_epoch()).count();
}

WallTime from_ms(std::int64_t ms) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(milliseconds(ms)));
}

// A problem with the key at `key`: thrown inside the parser only, returned as an Error.
struct Problem {
  std::string message;
};

std::int64_t whole(const json& parent, const char* name, const std::string& key,
                   std::int64_t most) {
  const json& v = parent.at(name);
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0) {
    throw Problem{key + ": must be a whole number, 0 or more"};
  }
  // Beyond the range: not a number this daemon wrote, but read as the most it may be.
  return std::min(v.get<std::int64_t>(), most);
}

std::int64_t time_ms(const json& parent, const char* name, const std::string& key) {
  const json& v = parent.at(name);
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > kLatestMs) {
    throw Problem{key + ": must be a time in milliseconds since 1970, before 2200"};
  }
  return v.get<std::int64_t>();
}

void only_keys(const json& object, const std::string& where, const std::set<std::string>& known,
               const std::set<std::string>& required) {
  if (!object.is_object()) {
    throw Problem{(where.empty() ? "(document)" : where) + ": must be an object"};
  }
  const std::string prefix = where.empty() ? "" : where + ".";
  for (const auto& [name, _] : object.items()) {
    if (!known.contains(name))
      throw Problem{(where.empty() ? "(document)" : where) + ": a key unknown here"};
  }
  for (const auto& name : required) {
    if (!object.contains(name)) throw Problem{prefix + name + ": missing"};
  }
}

SavedBudget::Answer read_answer(const json& a) {
  only_keys(a, "answer", {"at_ms", "remaining", "reset_seconds", "quota", "window_seconds"},
            {"at_ms", "remaining"});
  SavedBudget::Answer out;
  out.at = from_ms(time_ms(a, "at_ms", "answer.at_ms"));
  std::int64_t quota = kMostCount;
  if (a.contains("quota")) {
    quota = std::max<std::int64_t>(1, whole(a, "quota", "answer.quota", kMostCount));
    out.server.quota = static_cast<int>(quota);
  }
  out.server.remaining = static_cast<int>(whole(a, "remaining", "answer.remaining", quota));
  if (a.contains("reset_seconds")) {
    out.server.reset =
        std::chrono::seconds(whole(a, "reset_seconds", "answer.reset_seconds", kOneDaySeconds));
  }
  if (a.contains("window_seconds")) {
    out.server.window = std::chrono::seconds(std::max<std::int64_t>(
        1, whole(a, "window_seconds", "answer.window_seconds", kOneDaySeconds)));
  }
  return out;
}

}  // namespace

std::string to_budget_state_text(const SavedBudget& saved) {
  json doc{{"format", kBudgetStateFormat}, {"version", kBudgetStateVersion}};
  if (saved.answer) {
    const ServerBudget& s = saved.answer->server;
    json a{{"at_ms", to_ms(saved.answer->at)}, {"remaining", s.remaining}};
    if (s.reset) a["reset_seconds"] = s.reset->count();
    if (s.quota) a["quota"] = *s.quota;
    if (s.window) a["window_seconds"] = s.window->count();
    doc["answer"] = std::move(a);
  }
  if (saved.paused_until) doc["paused_until_ms"] = to_ms(*saved.paused_until);
  return doc.dump(2) + "\n";
}

StatusOr<SavedBudget> parse_budget_state(std::string_view text) {
  if (const Status bounded = check_json_bounds(text, {kMaxBudgetStateBytes, 4}); !bounded.ok()) {
    return bounded.error();
  }
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error{"not JSON"};
  try {
    only_keys(doc, "", {"format", "version", "answer", "paused_until_ms"}, {"format", "version"});
    if (doc["format"] != kBudgetStateFormat) {
      throw Problem{"format: must be '" + std::string(kBudgetStateFormat) + "'"};
    }
    if (doc["version"] != kBudgetStateVersion) {
      throw Problem{"version: this origin-reconciler reads version " +
                    std::to_string(kBudgetStateVersion)};
    }
    SavedBudget out;
    if (doc.contains("answer")) out.answer = read_answer(doc["answer"]);
    if (doc.contains("paused_until_ms")) {
      out.paused_until = from_ms(time_ms(doc, "paused_until_ms", "paused_until_ms"));
    }
    if (!out.answer && !out.paused_until) throw Problem{"holds neither an answer nor a pause"};
    return out;
  } catch (const Problem& p) {
    return Error{p.message};
  }
}

}  // namespace orc
