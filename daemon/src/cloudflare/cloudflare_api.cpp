#include "cloudflare/cloudflare_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "base/log_fields.h"
#include "base/source_text.h"
#include "cloudflare/api_parse.h"
#include "model/ip.h"

namespace orc {

using nlohmann::json;

RequestExecutor::RequestExecutor(Deps deps, RetryPolicy policy, Millis request_timeout)
    : d_(deps),
      policy_(policy),
      backoff_(policy.initial_backoff, policy.max_backoff),
      timeout_(request_timeout) {}

std::optional<ApiError> RequestExecutor::attempts(
    Operation op, const HttpRequest& request,
    const std::function<std::optional<ApiError>(const HttpResponse&)>& accept) {
  const ScopedLogField operation(LogField::kOperation, to_string(op));
  ApiError last;
  for (int attempt = 1; attempt <= policy_.max_attempts; ++attempt) {
    if (!d_.limiter.acquire(d_.stop.token()) || (d_.may_send && !d_.may_send())) {
      return ApiError::cancelled(d_.stop);
    }
    const MonoTime started = d_.clock.monotonic();
    const HttpResponse response = d_.http.perform(request, timeout_);
    d_.limiter.observe(started, read_server_budget(response.headers, answer_time(response)));
    const double seconds = std::chrono::duration<double>(d_.clock.monotonic() - started).count();
    d_.observer.on_request(op, response.status, seconds);

    auto error = accept(response);
    if (!error) return std::nullopt;
    last = std::move(*error);
    if (last.kind != ApiError::Kind::kRetryable) return last;
    // A stop ends what a retry would have decided (an abandoned transfer fails like this too).
    if (d_.stop.stop_requested()) return ApiError::cancelled(d_.stop);
    if (attempt == policy_.max_attempts) break;

    const Millis delay = last.retry_after.value_or(backoff_.delay(attempt - 1, d_.random));
    d_.observer.on_retry(op, last.reason, delay);
    spdlog::warn("{} {}: {} (attempt {}/{}); retrying in {}", to_string(op), request.method,
                 last.describe(), attempt, policy_.max_attempts, format_duration(delay));
    // Cloudflare's budget is per user: a 429 holds back every zone, not only this one.
    if (last.reason == RetryReason::kRateLimited) d_.limiter.pause_for(delay);
    if (!d_.sleeper.sleep_for(delay, d_.stop.token())) {
      return ApiError::cancelled(d_.stop);
    }
  }
  last.message += " (gave up after " + std::to_string(policy_.max_attempts) + " attempts)";
  return last;
}

std::vector<std::pair<std::string, std::string>> request_headers(const Credentials& credentials) {
  std::vector<std::pair<std::string, std::string>> h;
  if (credentials.kind == Credentials::Kind::kToken) {
    h.emplace_back("Authorization", "Bearer " + credentials.token);
  } else {
    h.emplace_back("X-Auth-Email", credentials.email);
    h.emplace_back("X-Auth-Key", credentials.api_key);
  }
  h.emplace_back("Accept", "application/json");
  h.emplace_back("User-Agent", std::string("origin-reconciler/") + ORC_VERSION);
  return h;
}

namespace {

// The body of a batch delete: the texts as a JSON array, as json(ips).dump() writes it. The
// usual texts are addresses, which need no escaping: they are written as they are, without
// a document tree (a node and an allocation a text); any other text, through nlohmann.
std::string json_array(const std::vector<std::string>& texts) {
  const auto plain = [](const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
             c == '.' || c == ':';
    });
  };
  if (!std::all_of(texts.begin(), texts.end(), plain)) return nlohmann::json(texts).dump();
  std::size_t size = 2;
  for (const auto& text : texts) size += text.size() + 3;
  std::string body;
  body.reserve(size);
  body += '[';
  for (const auto& text : texts) {
    if (body.size() > 1) body += ',';
    body += '"';
    body += text;
    body += '"';
  }
  body += ']';
  return body;
}

// What both generations share: how requests are built and answers checked.
class ApiBase : public ZoneApi {
 protected:
  ApiBase(std::string api_base, const Credentials& credentials, RequestExecutor& executor,
          std::string path_suffix, std::string ip_key, std::string upsert_method,
          std::string upsert_ip_key)
      : base_(std::move(api_base)),
        headers_(request_headers(credentials)),
        executor_(executor),
        suffix_(std::move(path_suffix)),
        ip_key_(std::move(ip_key)),
        upsert_method_(std::move(upsert_method)),
        upsert_ip_key_(std::move(upsert_ip_key)) {}

  std::string collection(const std::string& zone_id) const {
    return base_ + "/zones/" + zone_id + suffix_;
  }

  HttpRequest request(std::string method, std::string url, std::string body = {}) const {
    HttpRequest r{std::move(method), std::move(url), headers_, std::move(body)};
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }

  // The common acceptance rule: a 2xx answer with "success": true, handed to `use`.
  template <class Use>
  static auto accept_success(const HttpResponse& response, Use&& use)
      -> std::invoke_result_t<Use&, const Envelope&> {
    auto env = parse_envelope(response.body);
    if (response.status < 200 || response.status > 299 || !env || !env->success) {
      return classify_failure(response, env);
    }
    return use(*env);
  }

 public:
  Result<BatchResult> batch_delete(const std::string& zone_id,
                                   const std::vector<std::string>& ips) override {
    return send_batch(Operation::kBatchDelete,
                      request("DELETE", collection(zone_id) + "/batch", json_array(ips)),
                      "batch delete result");
  }

  Result<BatchResult> batch_upsert(const std::string& zone_id,
                                   const std::vector<Mapping>& mappings) override {
    json items = json::array();
    for (const auto& m : mappings) {
      items.push_back({{upsert_ip_key_, m.ip}, {"vendor", m.vendor}, {"region", m.region}});
    }
    return send_batch(Operation::kBatchUpsert,
                      request(upsert_method_, collection(zone_id) + "/batch", items.dump()),
                      "batch upsert result");
  }

  Result<SupportedRegions> supported_regions(const std::string& zone_id) override {
    return executor_.run(
        Operation::kSupportedRegions, request("GET", collection(zone_id) + "/supported_regions"),
        [&](const HttpResponse& response) {
          return accept_success(response, [&](const Envelope& env) -> Result<SupportedRegions> {
            auto parsed = parse_supported_regions(env.result);
            if (!parsed) return malformed_result(response, "supported regions");
            return std::move(*parsed);
          });
        });
  }

  Result<Presence> get(const std::string& zone_id, const std::string& ip_text) override {
    // Only an address goes into the path, in its RFC 5952 form: text that came from an answer
    // ("../../user/tokens/verify") must never address another endpoint.
    const auto canonical = canonicalize_ip(ip_text);
    if (!canonical) {
      ApiError e;
      e.kind = ApiError::Kind::kPermanent;
      e.message = "'" + shown(ip_text, 64) + "' is not an IP address; no request sent";
      return e;
    }
    const std::string& ip = *canonical;
    return executor_.run(Operation::kGet, request("GET", collection(zone_id) + "/" + ip),
                         [&](const HttpResponse& response) -> Result<Presence> {
                           // Both generations: 404 with 1142 or 1163 is "no mapping".
                           if (says_no_mapping(response, parse_envelope(response.body))) {
                             return Presence::kAbsent;
                           }
                           return accept_success(response, [](const Envelope&) -> Result<Presence> {
                             return Presence::kPresent;
                           });
                         });
  }

 protected:
  Result<BatchResult> send_batch(Operation op, const HttpRequest& req, const char* what) {
    return executor_.run(op, req, [&](const HttpResponse& response) -> Result<BatchResult> {
      // The usual success, every item applied, read without a tree; any other answer below.
      if (response.status >= 200 && response.status <= 299) {
        if (auto fast = parse_batch_answer(response.body, ip_key_, batch_shape(),
                                           response.body.capacity())) {
          return std::move(*fast);
        }
      }
      return accept_success(response, [&](const Envelope& env) -> Result<BatchResult> {
        auto parsed = parse_batch_result(batch_value(env.result), ip_key_, op);
        if (!parsed) return malformed_result(response, what);
        return std::move(*parsed);
      });
    });
  }

  // One page of a listing: its mappings, and the page count it gives (paged answers).
  struct ListPage {
    std::vector<Mapping> mappings;
    int total_pages = 0;
  };
  // A 2xx list answer read without a tree (parse_list_answer): the page when it is a usable
  // one, an error when a limit stopped the reading (such an answer is not read again into a
  // tree), nullopt for anything else, which the tree-based path then reads and describes.
  std::optional<Result<ListPage>> list_fast(const HttpResponse& response, ListShape shape) const {
    if (response.status < 200 || response.status > 299) return std::nullopt;
    ListAnswer answer = parse_list_answer(response.body, ip_key_, shape, response.body.capacity());
    if (answer.usable) return ListPage{std::move(answer.mappings), answer.total_pages.value_or(0)};
    if (answer.limit.empty()) return std::nullopt;
    return malformed_result(response, "mapping list: " + answer.limit);
  }

  // Where the {"succeeded", "failed"} object sits in a batch answer: the result itself, or its
  // "value" (for parse_batch_answer, and in the tree below).
  virtual ListShape batch_shape() const = 0;
  const json& batch_value(const json& result) const {
    return batch_shape() == ListShape::kResultValue ? value_of(result) : result;
  }

  // A cache-v1 setting's "value" (null when there is none).
  static const json& value_of(const json& result) {
    static const json kNull;
    if (!result.is_object()) return kNull;
    const auto it = result.find("value");
    return it == result.end() ? kNull : *it;
  }

  const std::string base_;
  const std::vector<std::pair<std::string, std::string>> headers_;
  RequestExecutor& executor_;
  const std::string suffix_;
  const std::string ip_key_;         // in answers
  const std::string upsert_method_;  // of the batch upsert
  const std::string upsert_ip_key_;  // in batch upsert items
};

// Generation 1 (end of life at Cloudflare since 2026-10-01): /cache/origin_cloud_regions;
// results wrapped in a setting object; no paging.
class CacheV1Api final : public ApiBase {
 public:
  CacheV1Api(std::string base, const Credentials& c, RequestExecutor& e)
      : ApiBase(std::move(base), c, e, "/cache/origin_cloud_regions", "origin-ip", "PATCH", "ip") {}

  Result<std::vector<Mapping>> list(const std::string& zone_id) override {
    using Mappings = Result<std::vector<Mapping>>;
    return executor_.run(Operation::kList, request("GET", collection(zone_id)),
                         [&](const HttpResponse& response) -> Mappings {
                           // An empty zone: 200 with "value": [] (below), or 404/1142 where the
                           // setting record disappeared with the zone's last mapping. Either way
                           // nothing to prune.
                           if (auto fast = list_fast(response, ListShape::kResultValue)) {
                             if (!fast->ok()) return std::move(*fast).error();
                             return std::move(fast->value().mappings);
                           }
                           if (says_zone_empty(response, parse_envelope(response.body))) {
                             return std::vector<Mapping>{};
                           }
                           return accept_success(response, [&](const Envelope& e) -> Mappings {
                             auto parsed = parse_mappings(value_of(e.result), ip_key_);
                             if (!parsed) return malformed_result(response, "mapping list");
                             return std::move(*parsed);
                           });
                         });
  }

 private:
  ListShape batch_shape() const override { return ListShape::kResultValue; }
};

// Generation 2: /origin/cloud_regions; flat results; paged lists.
class OriginV2Api final : public ApiBase {
 public:
  OriginV2Api(std::string base, const Credentials& c, RequestExecutor& e, int page_size)
      : ApiBase(std::move(base), c, e, "/origin/cloud_regions", "origin_ip", "PUT", "origin_ip"),
        page_size_(page_size) {}

  Result<std::vector<Mapping>> list(const std::string& zone_id) override {
    std::vector<Mapping> all;
    int total_pages = 1;
    for (int page = 1; page <= total_pages; ++page) {
      const std::string url = collection(zone_id) + "?page=" + std::to_string(page) +
                              "&per_page=" + std::to_string(page_size_);
      auto read =
          executor_.run(Operation::kList, request("GET", url), [&](const HttpResponse& response) {
            if (auto fast = list_fast(response, ListShape::kResultArray)) return std::move(*fast);
            return accept_success(response, [&](const Envelope& e) -> Result<ListPage> {
              auto parsed = parse_mappings(e.result, ip_key_);
              auto pages = parse_total_pages(e.result_info);
              if (!parsed || !pages) return malformed_result(response, "mapping list page");
              return ListPage{std::move(*parsed), *pages};
            });
          });
      if (!read.ok()) return std::move(read).error();
      auto& [items, pages_said] = read.value();
      // Page 1 fixes the page count. A later page that says otherwise (the zone changed while
      // it was read, or the answers are wrong) means this listing cannot be known complete:
      // a shrinking count would otherwise end it early and leave mappings unseen.
      if (page == 1) {
        total_pages = pages_said;
      } else if (pages_said != total_pages) {
        ApiError e;
        e.kind = ApiError::Kind::kRetryable;
        e.reason = RetryReason::kServerError;
        e.http_status = 200;
        e.message = "the listing changed while it was read (page 1 said " +
                    std::to_string(total_pages) + " pages, page " + std::to_string(page) +
                    " says " + std::to_string(pages_said) + "); not taken as complete";
        return e;
      }
      if (all.empty()) all.reserve(items.size() * static_cast<std::size_t>(total_pages));
      std::move(items.begin(), items.end(), std::back_inserter(all));
    }
    drop_repeated_ips(all);  // a mapping added mid-listing can shift pages
    return all;
  }

 private:
  ListShape batch_shape() const override { return ListShape::kResultArray; }

  int page_size_;
};

// GET /zones?name=: the zone list filtered by exact name, paged like every v4 list.
class CloudflareZoneDirectory final : public ZoneDirectory {
 public:
  CloudflareZoneDirectory(std::string base, const Credentials& c, RequestExecutor& e)
      : base_(std::move(base)), headers_(request_headers(c)), executor_(e) {}

  Result<std::vector<ZoneRef>> zones_named(const std::string& name) override {
    std::vector<ZoneRef> out;
    int total_pages = 1;
    for (int page = 1; page <= total_pages && page <= kMostPages; ++page) {
      // The name is a checked zone name (desired_state.h's is_zone_name): letters, digits,
      // '-' and '.', nothing to escape in a query.
      const std::string url = base_ + "/zones?name=" + name + "&page=" + std::to_string(page) +
                              "&per_page=" + std::to_string(kPerPage);
      struct ZonePage {
        std::vector<ZoneRef> zones;  // those of exactly this name
        int total_pages = 0;
      };
      auto read = executor_.run(
          Operation::kZoneLookup, HttpRequest{"GET", url, headers_, {}},
          [&](const HttpResponse& response) -> Result<ZonePage> {
            auto env = parse_envelope(response.body);
            if (response.status < 200 || response.status > 299 || !env || !env->success) {
              return classify_failure(response, env);
            }
            auto pages = parse_total_pages(env->result_info);
            if (!env->result.is_array() || !pages) {
              return malformed_result(response, "zone list");
            }
            ZonePage got{{}, *pages};
            for (const auto& z : env->result) {
              if (!z.is_object()) return malformed_result(response, "zone list");
              const auto id = z.find("id");
              const auto zone_name = z.find("name");
              if (id == z.end() || !id->is_string() || zone_name == z.end() ||
                  !zone_name->is_string()) {
                return malformed_result(response, "zone list");
              }
              // Only the exact name (the filter is exact at Cloudflare; a stand-in or proxy
              // that matched more must not widen it).
              if (zone_name->get<std::string>() != name) continue;
              got.zones.push_back({id->get<std::string>(), zone_name->get<std::string>()});
            }
            return got;
          });
      if (!read.ok()) return std::move(read).error();
      for (auto& z : read->zones) out.push_back(std::move(z));
      total_pages = std::max(read->total_pages, 1);
    }
    for (const auto& z : out) {
      bool hex = z.id.size() == 32;
      for (const char c : z.id) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
      if (!hex) {
        ApiError e;
        e.kind = ApiError::Kind::kPermanent;
        e.message = "the zone list names zone '" + shown(z.id, 64) + "', which is not a zone id";
        return e;
      }
    }
    return out;
  }

 private:
  static constexpr int kPerPage = 50;     // Cloudflare's most for /zones
  static constexpr int kMostPages = 100;  // far beyond any account's zones of one name
  const std::string base_;
  const std::vector<std::pair<std::string, std::string>> headers_;
  RequestExecutor& executor_;
};

}  // namespace

std::unique_ptr<ZoneDirectory> make_zone_directory(std::string api_base,
                                                   const Credentials& credentials,
                                                   RequestExecutor& executor) {
  return std::make_unique<CloudflareZoneDirectory>(std::move(api_base), credentials, executor);
}

std::unique_ptr<ZoneApi> make_zone_api(ApiFlavor flavor, std::string api_base,
                                       const Credentials& credentials, int page_size,
                                       RequestExecutor& executor) {
  switch (flavor) {
    case ApiFlavor::kOriginV2:
      return std::make_unique<OriginV2Api>(std::move(api_base), credentials, executor, page_size);
    case ApiFlavor::kCacheV1:
      return std::make_unique<CacheV1Api>(std::move(api_base), credentials, executor);
  }
  throw std::invalid_argument("no API generation " + std::to_string(static_cast<int>(flavor)));
}

}  // namespace orc
