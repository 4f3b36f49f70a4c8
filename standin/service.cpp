#include "service.h"

#include "api.h"
#include "envelope.h"
#include "seed.h"

namespace standin {
namespace {

using nlohmann::json;

HttpAnswer api_error(const ApiError& error) {
  return {error.http_status, to_text(error_envelope(error))};
}

// Cloudflare's "Internal error" message for the operation (code 1141 in the reference).
std::string internal_error_message(Operation op) {
  std::string verb = "retrieve";
  if (op == Operation::kDelete || op == Operation::kBatchDelete) verb = "delete";
  if (op == Operation::kUpsert || op == Operation::kBatchUpsert || op == Operation::kCreate) {
    verb = "update";
  }
  return "Unable to " + verb + " origin_public_cloud_region setting. Internal error.";
}

bool is_write(Operation op) {
  return op == Operation::kUpsert || op == Operation::kBatchUpsert || op == Operation::kCreate;
}

// The error code of an injected failure where the schema puts one: a write's internal error is
// 1140 (1156 when asked: the region could not be validated), a delete's and a read's 1141.
ApiError internal_error(int status, Operation op, std::optional<int> code) {
  const int c = code.value_or(is_write(op) ? 1140 : 1141);
  if (c == 1140) {
    return {status, c,
            "Unable to update origin_public_cloud_region setting value. Internal error."};
  }
  if (c == 1156) return {status, c, "Failed to validate region against cloud vendor"};
  return {status, c, internal_error_message(op)};
}

// The error a fault rule's bare `status` answers with.
ApiError injected_error(int status, Operation op, std::optional<int> code = std::nullopt) {
  if (status == 429)
    return {429, code.value_or(971), "Please wait and consider throttling your request speed"};
  if (status == 403) return {403, code.value_or(10000), "Authentication error"};
  return internal_error(status, op, code);
}

HttpAnswer json_answer(int status, const json& body) {
  return {status, to_text(body) + "\n"};
}

HttpAnswer admin_error(int status, const std::string& message) {
  return json_answer(status, {{"error", message}});
}

std::optional<json> parse_body(const std::string& body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

template <class T>
json optional_name(const std::optional<T>& value) {
  return value ? json(std::string(to_string(*value))) : json(nullptr);
}

}  // namespace

struct StandIn::ApiCall {
  Route route;
  QueryParams query;
  std::string path;
  orc::MonoTime arrived;
  SlidingWindow::Verdict limit;
  std::optional<HttpAnswer> refused;  // decided before any fault or operation
  std::optional<FaultRule> fault;
  json log;  // the request log entry being filled in
};

StandIn::StandIn(Store store, FaultPlan faults, ServiceOptions options, const orc::Clock& clock,
                 orc::Sleeper& sleeper, RequestLog& log, std::stop_token stop)
    : options_(std::move(options)),
      clock_(clock),
      sleeper_(sleeper),
      stop_(std::move(stop)),
      started_(clock.monotonic()),
      store_(std::move(store)),
      faults_(std::move(faults)),
      window_(options_.rate_limit.value_or(kCloudflareQuota), options_.rate_window,
              options_.rate_limit.has_value(), options_.rate_policy),
      log_(log) {}

std::size_t StandIn::zone_count() const {
  std::lock_guard lock(mu_);
  return store_.size();
}

std::size_t StandIn::mapping_count() const {
  std::lock_guard lock(mu_);
  return count_mappings(store_);
}

HttpAnswer StandIn::handle(const HttpCall& http) {
  const std::string_view target = http.target;
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query = qmark == target.npos ? "" : target.substr(qmark + 1);

  if (path.starts_with("/__admin/")) {
    std::lock_guard lock(mu_);
    return handle_admin(http, path, query);
  }
  ApiCall call = begin_api(http, path, query);
  if (call.fault && call.fault->latency_ms > 0) {
    sleeper_.sleep_for(std::chrono::milliseconds(call.fault->latency_ms), stop_);
  }
  return finish_api(call, http);
}

StandIn::ApiCall StandIn::begin_api(const HttpCall& http, std::string_view path,
                                    std::string_view query) {
  std::lock_guard lock(mu_);
  ApiCall call;
  call.route = match_route(http.method, path);
  call.query = parse_query(query);
  call.path = path;
  call.arrived = clock_.monotonic();
  const auto mono_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(call.arrived - started_).count();
  const bool matched = call.route.status == RouteStatus::kMatched;
  call.log = {
      {"time", rfc3339_millis(clock_.wall())},
      {"mono_ms", mono_ms},
      {"method", http.method},
      {"path", path},
      {"query", query},
      {"flavor", call.route.flavor ? json(orc::to_string(*call.route.flavor)) : json(nullptr)},
      {"operation", optional_name(call.route.operation)},
      {"zone", call.route.flavor ? json(call.route.zone) : json(nullptr)},
      {"fault", nullptr},
      {"ips", matched ? request_ips(call.route, http.body) : std::vector<std::string>()},
      {"succeeded", 0},
      {"failed", 0},
      {"auth", to_string(presented_scheme(http.credentials))},
  };
  call.refused = refusal(call, http);
  if (!call.refused) {
    call.fault = faults_.take(*call.route.operation, call.route.flavor, call.route.zone);
    if (call.fault) call.log["fault"] = call.fault->label();
  }
  // The arrival, before any latency is waited out; what the answer says comes with the entry
  // of the answered request.
  json arrival = call.log;
  arrival.erase("succeeded");
  arrival.erase("failed");
  log_.received(std::move(arrival));
  return call;
}

// Route, credentials, rate limit and zone id, in that order.
std::optional<HttpAnswer> StandIn::refusal(ApiCall& call, const HttpCall& http) {
  call.limit = window_.peek(call.arrived);
  switch (call.route.status) {
    case RouteStatus::kNoRoute:
      return api_error({404, 7000, "No route for that URI"});
    case RouteStatus::kWrongMethod:
      return api_error({405, 10405, "Method " + http.method + " not allowed for this route"});
    case RouteStatus::kMatched:
      break;
  }
  if (!authenticated(http.credentials, options_.credentials)) {
    return api_error({403, 10000, "Authentication error"});
  }
  call.limit = window_.admit(call.arrived);
  if (!call.limit.allowed) {
    call.log["fault"] = "rate_limit";
    HttpAnswer answer = api_error(injected_error(429, *call.route.operation));
    answer.headers.emplace_back("Retry-After",
                                std::to_string(std::max(1, call.limit.reset_seconds)));
    return answer;
  }
  if (call.route.operation != Operation::kZones && !is_valid_zone_id(call.route.zone)) {
    return api_error({400, 7003,
                      "Could not route to " + std::string(strip_base_prefix(call.path)) +
                          ": perhaps your object identifier is invalid?"});
  }
  return std::nullopt;
}

HttpAnswer StandIn::finish_api(ApiCall& call, const HttpCall& http) {
  std::lock_guard lock(mu_);
  HttpAnswer answer = call.refused ? std::move(*call.refused) : run_with_fault(call, http);
  answer.headers.emplace_back("Ratelimit", window_.ratelimit_header(call.limit));
  answer.headers.emplace_back("Ratelimit-Policy", window_.policy_header());
  call.log["status"] = answer.status;
  log_.append(std::move(call.log));
  return answer;
}

HttpAnswer StandIn::run_with_fault(ApiCall& call, const HttpCall& http) {
  const Route& route = call.route;
  const auto& fault = call.fault;
  auto run_handler = [&](const ForcedFailures& forced) {
    OpResult result = route.operation == Operation::kZones
                          ? list_zones(options_.zone_names, call.query, options_.deny_zone_read)
                          : run_operation(store_, route, call.query, http.body, forced,
                                          clock_.wall(), options_.quirks);
    call.log["succeeded"] = result.succeeded;
    call.log["failed"] = result.failed;
    // The operation's own error codes (e.g. 1164, the zone limit), so a test can see them.
    if (auto errors = result.envelope.find("errors");
        errors != result.envelope.end() && errors->is_array() && !errors->empty()) {
      json codes = json::array();
      for (const auto& e : *errors) codes.push_back(e.value("code", 0));
      call.log["codes"] = std::move(codes);
    }
    return HttpAnswer{result.status, to_text(result.envelope)};
  };
  if (!fault) return run_handler({});

  HttpAnswer answer;
  if (fault->success_false) {
    answer = api_error(internal_error(200, *route.operation, fault->code));
  } else if (fault->replaces_handler()) {
    answer.status = fault->status.value_or(200);
    answer.body =
        fault->body
            ? *fault->body
            : to_text(error_envelope(injected_error(answer.status, *route.operation, fault->code)));
  } else {
    answer = run_handler(fault->fail_ips);
    if (fault->truncate) answer.body.resize(answer.body.size() / 2);
  }
  if (fault->retry_after) {
    answer.headers.emplace_back("Retry-After", std::to_string(*fault->retry_after));
  }
  return answer;
}

HttpAnswer StandIn::handle_admin(const HttpCall& http, std::string_view path,
                                 std::string_view query) {
  const bool get = http.method == "GET" || http.method == "HEAD";
  const bool put = http.method == "PUT";
  if (path == "/__admin/healthz") {
    if (get) return {200, "ok\n", "text/plain"};
  } else if (path == "/__admin/state") {
    if (get) return json_answer(200, state_json(store_));
    if (put) {
      auto doc = parse_body(http.body);
      if (!doc) return admin_error(400, "the body is not valid JSON");
      auto store = parse_seed(*doc, clock_.wall());
      if (!store) return admin_error(400, store.error);
      store_ = std::move(*store.value);
      return json_answer(200, {{"zones", store_.size()}, {"mappings", count_mappings(store_)}});
    }
  } else if (path == "/__admin/faults") {
    if (get) return json_answer(200, faults_.to_json());
    if (put) {
      auto doc = parse_body(http.body);
      if (!doc) return admin_error(400, "the body is not valid JSON");
      auto plan = FaultPlan::parse(*doc);
      if (!plan) return admin_error(400, plan.error);
      faults_ = std::move(*plan.value);
      return json_answer(200, faults_.to_json());
    }
  } else if (path == "/__admin/requests") {
    if (get) {
      const auto params = parse_query(query);
      const auto event = params.find("event");
      if (event == params.end() || event->second == "answered") {
        return json_answer(200, log_.entries());
      }
      if (event->second == "received") return json_answer(200, log_.received_entries());
      return admin_error(400, "event must be received or answered");
    }
    if (http.method == "DELETE") {
      log_.clear();
      return json_answer(200, {{"cleared", true}});
    }
  } else {
    return admin_error(404, "no admin endpoint " + std::string(path));
  }
  return admin_error(405, "method " + http.method + " not allowed on " + std::string(path));
}

}  // namespace standin
