// libFuzzer target: one API answer body through every parser in api_parse.h: the v4 envelope,
// both generations' mapping lists, batch results, result_info.total_pages, the failure
// classification and the "not found" test. They promise never to throw on malformed input, so
// any exception is a finding. What they accept must read back the same once written out as
// JSON again (parse -> dump -> parse); the one-pass list reader accepts only what the tree
// accepts, with the same mappings, and the one-pass batch reader only successes the tree reads
// into the same items.
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cloudflare/api_parse.h"
#include "fuzz_support.h"

namespace {

using nlohmann::json;
using orc::fuzz::check;

constexpr std::string_view kIpKeys[] = {"origin-ip", "origin_ip"};

// Where generation 1 puts its list and batch results: result.value.
const json& value_of(const json& result) {
  static const json kNull;
  if (!result.is_object()) return kNull;
  auto it = result.find("value");
  return it == result.end() ? kNull : *it;
}

void check_mappings(const json& array, std::string_view key) {
  const auto mappings = orc::parse_mappings(array, key);
  if (!mappings) return;
  check(mappings->size() == array.size(), "mapping list lost items");
  json written = json::array();
  for (const auto& m : *mappings) {
    written.push_back({{std::string(key), m.ip}, {"vendor", m.vendor}, {"region", m.region}});
  }
  const auto again = orc::parse_mappings(json::parse(written.dump()), key);
  check(again == mappings, "mapping list does not read back: " + written.dump());
}

// Whether `again` is what reading `first` back gives: the same, but for a refusal message that
// was cut at the message cap. Cutting again cuts the "...[N more bytes]" it ends with, so only
// the part kept the first time is compared.
bool same_items(const std::vector<orc::BatchItem>& first,
                const std::vector<orc::BatchItem>& again) {
  if (first.size() != again.size()) return false;
  for (std::size_t i = 0; i < first.size(); ++i) {
    const auto& a = first[i];
    const auto& b = again[i];
    if (a.ip != b.ip || a.outcome.kind != b.outcome.kind ||
        a.outcome.refusal.code != b.outcome.refusal.code) {
      return false;
    }
    const std::string& message = a.outcome.refusal.message;
    const auto cut = message.rfind("...[");
    const bool was_cut = cut != std::string::npos && message.ends_with(" more bytes]");
    if (!was_cut && b.outcome.refusal.message != message) return false;
    if (was_cut && !b.outcome.refusal.message.starts_with(message.substr(0, cut))) return false;
  }
  return true;
}

void check_batch(const json& value, std::string_view key, orc::Operation op) {
  const auto batch = orc::parse_batch_result(value, key, op);
  if (!batch) return;
  json written = {{"succeeded", json::array()}, {"failed", json::array()}};
  for (const auto& item : batch->items) {
    const auto& o = item.outcome;
    check(o.kind != orc::ItemOutcome::Kind::kAbsent || op == orc::Operation::kBatchDelete,
          "an upsert item read as absent");
    if (o.kind == orc::ItemOutcome::Kind::kApplied) {
      written["succeeded"].push_back({{std::string(key), item.ip}});
    } else if (o.kind == orc::ItemOutcome::Kind::kAbsent) {
      written["failed"].push_back(
          {{std::string(key), item.ip}, {"error", {{"code", 1163}, {"message", "no mapping"}}}});
    } else if (o.refusal.code == 0) {
      written["failed"].push_back({{std::string(key), item.ip}, {"error", o.refusal.message}});
    } else {
      written["failed"].push_back(
          {{std::string(key), item.ip},
           {"error", {{"code", o.refusal.code}, {"message", o.refusal.message}}}});
    }
    o.refusal.describe();
  }
  const auto again = orc::parse_batch_result(json::parse(written.dump()), key, op);
  check(again.has_value() && same_items(batch->items, again->items),
        "batch result does not read back: " + written.dump());
}

void check_classification(std::string_view body, const std::optional<orc::Envelope>& env) {
  for (const int status : {0, 200, 400, 403, 404, 429, 500, 503}) {
    orc::HttpResponse response;
    response.status = status;
    response.body = std::string(body);
    if (status == 0) response.transport_error = "connection refused";
    const orc::ApiError error = orc::classify_failure(response, env);
    check(error.http_status == status, "classification changed the status");
    const bool retryable =
        status == 0 || status == 429 || status >= 500 || (status >= 200 && status <= 299);
    check((error.kind == orc::ApiError::Kind::kRetryable) == retryable,
          "wrong retry decision for HTTP " + std::to_string(status));
    error.describe();
  }
}

// The one-pass list reader (simdjson) against the tree-based path: a usable answer is one the
// tree accepts, with the same mappings and page count. (The reader may leave an odd answer the
// tree takes, a byte-order mark first, to the tree: the daemon then reads it that way.)
void check_list_answer(std::string_view body, const std::optional<orc::Envelope>& env) {
  for (const std::string_view key : kIpKeys) {
    for (const auto shape : {orc::ListShape::kResultArray, orc::ListShape::kResultValue}) {
      const orc::ListAnswer fast = orc::parse_list_answer(body, key, shape);
      check(!(fast.usable && !fast.limit.empty()), "a list answer both usable and limited");
      if (!fast.usable) continue;
      check(env && env->success, "a list answer usable but not a successful envelope");
      const bool paged = shape == orc::ListShape::kResultArray;
      const auto mappings = orc::parse_mappings(paged ? env->result : value_of(env->result), key);
      check(mappings && *mappings == fast.mappings, "list answer: mappings differ from the tree's");
      if (paged) {
        check(fast.total_pages == orc::parse_total_pages(env->result_info),
              "list answer: total_pages differs from the tree's");
      } else {
        check(env->result.is_object() && env->result.contains("value"),
              "list answer usable without result.value");
      }
    }
  }
}

// The batch answer read without a tree: an answer it takes is a successful envelope whose
// payload the tree reads into the same items (the tree's result for any operation: every item
// it takes is applied).
void check_batch_answer(std::string_view body, const std::optional<orc::Envelope>& env) {
  for (const std::string_view key : kIpKeys) {
    for (const auto shape : {orc::ListShape::kResultArray, orc::ListShape::kResultValue}) {
      const auto fast = orc::parse_batch_answer(body, key, shape);
      if (!fast) continue;
      check(env && env->success, "a batch answer taken but not a successful envelope");
      const bool flat = shape == orc::ListShape::kResultArray;
      const auto tree = orc::parse_batch_result(flat ? env->result : value_of(env->result), key,
                                                orc::Operation::kBatchDelete);
      check(tree && tree->items == fast->items, "batch answer: items differ from the tree's");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto env = orc::parse_envelope(body);
  check_classification(body, env);
  check_list_answer(body, env);
  check_batch_answer(body, env);
  if (!env) return 0;

  orc::says_not_found(env->messages);
  if (const auto regions = orc::parse_supported_regions(env->result)) {
    for (const auto& [vendor, names] : regions->by_vendor) {
      for (const auto& name : names) check(regions->supports(vendor, name), "region lost");
    }
  }
  if (const auto pages = orc::parse_total_pages(env->result_info)) {
    check(*pages >= 0 && *pages <= 100000, "total_pages out of range");
  }
  for (const std::string_view key : kIpKeys) {
    check_mappings(env->result, key);            // origin-v2: a flat list
    check_mappings(value_of(env->result), key);  // cache-v1: the setting's value
    for (const auto op : {orc::Operation::kBatchDelete, orc::Operation::kBatchUpsert}) {
      check_batch(env->result, key, op);
      check_batch(value_of(env->result), key, op);
    }
  }
  return 0;
}
