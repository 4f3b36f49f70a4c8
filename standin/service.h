// The stand-in as one object: every HTTP request goes through handle(), which routes it to the
// Cloudflare API (authentication, rate limit, fault rules, the operation, the request log) or
// to the /__admin/ endpoints. One lock guards all state; a fault's latency is waited out
// between choosing the fault (and logging the arrival) and running the operation, without the
// lock, so other requests (and other actors' changes) proceed meanwhile. Independent of the
// HTTP library: main.cpp turns httplib requests into HttpCall and HttpAnswer back into
// responses.
#pragma once

#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "api.h"
#include "auth.h"
#include "base/clock.h"
#include "faults.h"
#include "rate_window.h"
#include "request_log.h"
#include "routes.h"
#include "store.h"

namespace standin {

struct HttpCall {
  std::string method;
  std::string target;  // as sent: raw path, then '?' and the raw query if any
  PresentedCredentials credentials;
  std::string body;
};

struct HttpAnswer {
  HttpAnswer() = default;
  HttpAnswer(int status_code, std::string text, std::string type = "application/json")
      : status(status_code), body(std::move(text)), content_type(std::move(type)) {}

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ServiceOptions {
  AcceptedCredentials credentials;  // none: every API request is unauthenticated
  std::optional<int> rate_limit;    // enforced requests per 5 minutes; nullopt: headers only
  Quirks quirks;                    // deliberate departures from the schema (api.h)
  std::chrono::seconds rate_window = kCloudflareWindow;  // the window of rate_limit
  RatePolicyHeader rate_policy = {};                     // what Ratelimit-Policy says
  ZoneNames zone_names = {};    // GET /zones: the account's zones by id (--zone-names)
  bool deny_zone_read = false;  // GET /zones: 403 code 9109, a token without Zone:Read
};

class StandIn {
 public:
  // `sleeper` waits out latency faults; stopping `stop` cuts those waits short.
  StandIn(Store store, FaultPlan faults, ServiceOptions options, const orc::Clock& clock,
          orc::Sleeper& sleeper, RequestLog& log, std::stop_token stop = {});

  HttpAnswer handle(const HttpCall& call);

  std::size_t zone_count() const;
  std::size_t mapping_count() const;

 private:
  struct ApiCall;  // one API request on its way through handle()

  // Under the lock: the checks in front of the operation, the choice of a fault rule and the
  // arrival's log entry.
  ApiCall begin_api(const HttpCall& http, std::string_view path, std::string_view query);
  std::optional<HttpAnswer> refusal(ApiCall& call, const HttpCall& http);
  // Under the lock: the operation (or the fault's answer), the headers and the log entry.
  HttpAnswer finish_api(ApiCall& call, const HttpCall& http);
  HttpAnswer run_with_fault(ApiCall& call, const HttpCall& http);
  HttpAnswer handle_admin(const HttpCall& call, std::string_view path, std::string_view query);

  ServiceOptions options_;
  const orc::Clock& clock_;
  orc::Sleeper& sleeper_;
  std::stop_token stop_;
  const orc::MonoTime started_;

  mutable std::mutex mu_;  // guards everything below
  Store store_;
  FaultPlan faults_;
  SlidingWindow window_;
  RequestLog& log_;
};

}  // namespace standin
