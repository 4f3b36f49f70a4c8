// Fault injection: rules that make chosen requests slow, fail, or answer with broken bodies.
// Pure: the caller says which request it is; applying a rule's action is the service's job.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "batch.h"
#include "types.h"

namespace standin {

struct FaultRule {
  // What the rule matches; nullopt matches anything.
  std::optional<Operation> operation;
  std::optional<ApiFlavor> flavor;
  std::optional<std::string> zone;

  int skip = 0;   // matching requests let through before the rule applies
  int times = 1;  // matching requests it applies to; -1: forever

  // What it does.
  int latency_ms = 0;               // delay before the answer is sent
  std::optional<int> status;        // answer with this status and an error envelope
  std::optional<int> retry_after;   // seconds, sent as Retry-After
  std::optional<std::string> body;  // answer with exactly this body
  bool truncate = false;            // run the handler, send half of its body
  bool success_false = false;       // answer 200 with success false (1140 or 1141, or `code`)
  std::optional<int> code;          // the error code of `status` or `success_false`
  ForcedFailures fail_ips;  // batch_delete/batch_upsert: these canonical IPs fail, unchanged

  // `flavor` is nullopt for the zone list, which a rule naming a flavor does not match.
  bool matches(Operation op, std::optional<ApiFlavor> flavor, std::string_view zone) const;
  // True when the real handler must not run (the request changes nothing).
  bool replaces_handler() const { return status || body || success_false; }
  // For the request log: "429", "body", "success_false", "truncate", "fail_ips", "latency",
  // joined with '+' when a rule does several things.
  std::string label() const;
};

// Parses one rule; unknown fields and contradictory actions are errors.
Parsed<FaultRule> parse_fault_rule(const nlohmann::json& rule);

// An ordered rule list with the counts each rule has left.
class FaultPlan {
 public:
  // {"rules": [rule, ...]}
  static Parsed<FaultPlan> parse(const nlohmann::json& doc);

  // The first matching rule that is not spent applies. A rule still skipping counts the
  // request against its skip and lets later rules look at it. Counts the request against
  // the rule it returns.
  std::optional<FaultRule> take(Operation op, std::optional<ApiFlavor> flavor,
                                std::string_view zone);

  // {"rules": [rule as given + "skip_remaining", "times_remaining" (-1: forever), "applied"]}
  nlohmann::json to_json() const;

 private:
  struct Entry {
    FaultRule rule;
    nlohmann::json source;
    int skip_left = 0;
    int times_left = 0;
    int applied = 0;
  };
  std::vector<Entry> entries_;
};

}  // namespace standin
