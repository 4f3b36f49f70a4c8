#include "api_parse.h"

#include <algorithm>
#include <cctype>

#include "backoff.h"
#include "source_text.h"

namespace orc {

using nlohmann::json;

std::string_view to_string(Operation op) {
  switch (op) {
    case Operation::kList:
      return "list";
    case Operation::kBatchDelete:
      return "batch_delete";
    case Operation::kGet:
      return "get";
  }
  return "unknown";
}

std::string_view to_string(RetryReason reason) {
  switch (reason) {
    case RetryReason::kRateLimited:
      return "rate_limited";
    case RetryReason::kServerError:
      return "server_error";
    case RetryReason::kTransport:
      return "transport";
  }
  return "unknown";
}

ApiError ApiError::cancelled() {
  ApiError e;
  e.kind = Kind::kCancelled;
  e.message = "shutting down";
  return e;
}

bool ApiError::has_code(int code) const {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

std::string ApiError::describe() const {
  std::string out =
      http_status == 0 ? std::string("no answer") : "HTTP " + std::to_string(http_status);
  if (!message.empty()) out += ": " + message;
  return out;
}

std::optional<Envelope> parse_envelope(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto success = doc.find("success");
  if (success == doc.end() || !success->is_boolean()) return std::nullopt;

  Envelope env;
  env.success = success->get<bool>();
  if (auto errors = doc.find("errors"); errors != doc.end() && errors->is_array()) {
    for (const auto& e : *errors) {
      if (!e.is_object()) continue;
      std::string part;
      if (auto code = e.find("code"); code != e.end() && code->is_number_integer()) {
        env.codes.push_back(code->get<int>());
        part = "[" + std::to_string(code->get<int>()) + "] ";
      }
      if (auto msg = e.find("message"); msg != e.end() && msg->is_string()) {
        part += msg->get<std::string>();
      }
      if (!env.messages.empty()) env.messages += "; ";
      env.messages += part;
    }
  }
  if (auto r = doc.find("result"); r != doc.end()) env.result = std::move(*r);
  if (auto ri = doc.find("result_info"); ri != doc.end()) env.result_info = std::move(*ri);
  return env;
}

namespace {

std::optional<Millis> retry_after_of(const HttpResponse& response) {
  const std::string* value = response.header("retry-after");
  return value ? parse_retry_after(*value) : std::nullopt;
}

}  // namespace

ApiError classify_failure(const HttpResponse& response, const std::optional<Envelope>& envelope) {
  ApiError err;
  err.http_status = response.status;
  if (envelope) {
    err.codes = envelope->codes;
    err.message = envelope->messages;
  }
  const int s = response.status;
  if (s == 0) {
    err.kind = ApiError::Kind::kRetryable;
    err.reason = RetryReason::kTransport;
    err.message = response.transport_error.empty() ? "transport error" : response.transport_error;
  } else if (s == 429) {
    err.kind = ApiError::Kind::kRetryable;
    err.reason = RetryReason::kRateLimited;
    err.retry_after = retry_after_of(response);
    if (err.message.empty()) err.message = "rate limited";
  } else if (s >= 500 && s <= 599) {
    err.kind = ApiError::Kind::kRetryable;
    err.reason = RetryReason::kServerError;
    err.retry_after = retry_after_of(response);
    if (err.message.empty()) err.message = "server error: " + shown(response.body);
  } else if (s >= 200 && s <= 299) {
    err.kind = ApiError::Kind::kRetryable;
    err.reason = RetryReason::kServerError;
    if (!envelope) {
      err.message = "malformed answer (not a JSON envelope): '" + shown(response.body) + "'";
    } else if (err.message.empty()) {
      err.message = "answer says success=false without an error";
    } else {
      err.message = "answer says success=false: " + err.message;
    }
  } else {
    err.kind = ApiError::Kind::kPermanent;
    if (err.message.empty()) err.message = shown(response.body);
  }
  return err;
}

ApiError malformed_result(const HttpResponse& response, std::string what) {
  ApiError err;
  err.kind = ApiError::Kind::kRetryable;
  err.reason = RetryReason::kServerError;
  err.http_status = response.status;
  err.message = "unexpected answer: " + std::move(what);
  return err;
}

namespace {

const std::string* string_field(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

}  // namespace

std::optional<std::vector<Mapping>> parse_mappings(const json& array, std::string_view ip_key) {
  if (!array.is_array()) return std::nullopt;
  std::vector<Mapping> out;
  out.reserve(array.size());
  for (const auto& item : array) {
    if (!item.is_object()) return std::nullopt;
    const std::string* ip = string_field(item, ip_key);
    if (ip == nullptr) return std::nullopt;
    Mapping m;
    m.ip = *ip;
    if (const auto* v = string_field(item, "vendor")) m.vendor = *v;
    if (const auto* r = string_field(item, "region")) m.region = *r;
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<BatchDeleteResult> parse_batch_result(const json& value, std::string_view ip_key) {
  if (!value.is_object()) return std::nullopt;
  auto succeeded = value.find("succeeded");
  auto failed = value.find("failed");
  if (succeeded == value.end() || !succeeded->is_array()) return std::nullopt;
  if (failed == value.end() || !failed->is_array()) return std::nullopt;

  BatchDeleteResult out;
  for (const auto& item : *succeeded) {
    const std::string* ip = item.is_object() ? string_field(item, ip_key) : nullptr;
    if (ip == nullptr) return std::nullopt;
    out.succeeded.push_back(*ip);
  }
  for (const auto& item : *failed) {
    const std::string* ip = item.is_object() ? string_field(item, ip_key) : nullptr;
    if (ip == nullptr) return std::nullopt;
    const std::string* error = string_field(item, "error");
    out.failed.push_back({*ip, error ? *error : std::string("(no error given)")});
  }
  return out;
}

std::optional<int> parse_total_pages(const json& result_info) {
  if (!result_info.is_object()) return std::nullopt;
  auto it = result_info.find("total_pages");
  if (it == result_info.end() || !it->is_number_integer()) return std::nullopt;
  const auto pages = it->get<long long>();
  if (pages < 0 || pages > 100000) return std::nullopt;
  return static_cast<int>(pages);
}

bool says_no_mapping(const HttpResponse& response, const std::optional<Envelope>& envelope) {
  if (response.status != 404 || !envelope) return false;
  const auto& codes = envelope->codes;
  return std::find(codes.begin(), codes.end(), kCodeSettingMissing) != codes.end() ||
         std::find(codes.begin(), codes.end(), kCodeNoMapping) != codes.end();
}

bool says_zone_empty(const HttpResponse& response, const std::optional<Envelope>& envelope) {
  if (response.status != 404 || !envelope) return false;
  const auto& codes = envelope->codes;
  return std::find(codes.begin(), codes.end(), kCodeSettingMissing) != codes.end();
}

bool says_not_found(std::string_view item_error) {
  std::string lower(item_error);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("not found") != std::string::npos ||
         lower.find("does not exist") != std::string::npos;
}

}  // namespace orc
