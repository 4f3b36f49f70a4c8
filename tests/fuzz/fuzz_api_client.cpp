// libFuzzer target: the whole client path of both API generations (ZoneApi list, batch_delete
// and get over the retrying RequestExecutor) with a fake HTTP client answering from the input.
//
// Input (text, so seeds are readable):
//   origin-v2                      first line: the API generation (anything else: cache-v1)
//   200                            each answer: "<status>[ <Retry-After>[|<Date>]]" on a line,
//   {"success": true, ...}         then the body;
//   --                             answers separated by a line "--"
//   429 30
//   ...
// The client lists the zone, deletes a batch of three IPs and gets one, in that order, each
// taking the next answers; once the input runs out every request fails as a transport error.
// Checked: nothing throws or crashes, the requests stay on the zone's mapping paths, waits are
// bounded (Retry-After at most an hour), and every operation ends after a bounded number of
// requests.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cloudflare/cloudflare_api.h"
#include "fakes.h"
#include "fuzz_support.h"
#include "net/rate_limiter.h"
#include "reconcile/zone_api.h"

namespace {

using orc::fuzz::check;
using std::chrono::milliseconds;

constexpr const char* kBase = "http://127.0.0.1:1/client/v4";
constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr int kMaxAttempts = 3;
constexpr milliseconds kMaxBackoff{8000};
constexpr milliseconds kMaxRetryAfter{3600 * 1000};

std::vector<std::string_view> split(std::string_view text, std::string_view separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t at = text.find(separator);
    if (at == std::string_view::npos) break;
    parts.push_back(text.substr(0, at));
    text.remove_prefix(at + separator.size());
  }
  parts.push_back(text);
  return parts;
}

orc::HttpResponse answer(std::string_view part) {
  const std::size_t eol = part.find('\n');
  const std::string_view first = part.substr(0, eol);
  orc::HttpResponse r;
  r.body = eol == std::string_view::npos ? std::string() : std::string(part.substr(eol + 1));
  const std::size_t space = first.find(' ');
  const std::string_view status = first.substr(0, space);
  int value = 0;
  const auto [end, ec] = std::from_chars(status.data(), status.data() + status.size(), value);
  r.status = ec == std::errc() && end == status.data() + status.size() ? value : 200;
  if (r.status == 0) r.transport_error = "connection reset by peer";
  if (space != std::string_view::npos) {
    const std::string_view headers = first.substr(space + 1);
    const std::size_t bar = headers.find('|');
    r.headers["retry-after"] = headers.substr(0, bar);
    if (bar != std::string_view::npos) r.headers["date"] = headers.substr(bar + 1);
  }
  return r;
}

// Answers from the input in order; once they run out, every request fails as a transport error.
class InputHttp final : public orc::HttpClient {
 public:
  explicit InputHttp(std::vector<orc::HttpResponse> answers) : answers_(std::move(answers)) {}
  orc::HttpResponse perform(const orc::HttpRequest& request, milliseconds) override {
    urls.push_back(request.url);
    if (next_ < answers_.size()) return answers_[next_++];
    orc::HttpResponse r;
    r.transport_error = "no more answers";
    return r;
  }
  std::vector<std::string> urls;

 private:
  std::vector<orc::HttpResponse> answers_;
  std::size_t next_ = 0;
};

template <class T>
void check_result(const orc::Result<T>& result) {
  if (result.ok()) return;
  check(result.error().kind != orc::ApiError::Kind::kCancelled, "cancelled without a stop");
  result.error().describe();
}

}  // namespace

// Retries are logged: formatted at every level, then dropped (a fuzzer runs millions of inputs).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto logger =
      std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string_view> parts =
      split(std::string_view(reinterpret_cast<const char*>(data), size), "\n--\n");
  const std::string_view first_line = parts.front().substr(0, parts.front().find('\n'));
  const orc::ApiFlavor flavor =
      first_line == "origin-v2" ? orc::ApiFlavor::kOriginV2 : orc::ApiFlavor::kCacheV1;
  std::vector<orc::HttpResponse> answers;
  for (std::size_t i = 1; i < parts.size(); ++i) answers.push_back(answer(parts[i]));
  const std::size_t answer_count = answers.size();

  orc::testing::FakeClock clock;
  orc::testing::FakeSleeper sleeper(clock);
  orc::RateLimiter limiter(1000.0, clock, sleeper);
  orc::testing::FixedRandom random(0.5);
  orc::testing::RecordingObserver observer;
  InputHttp http(std::move(answers));
  orc::RetryPolicy policy;
  policy.max_attempts = kMaxAttempts;
  policy.initial_backoff = milliseconds(1000);
  policy.max_backoff = kMaxBackoff;
  orc::RequestExecutor executor({http, limiter, sleeper, random, clock, observer, sleeper.token()},
                                policy, milliseconds(30000));
  orc::Credentials credentials;
  credentials.token = "fuzz-token";
  const auto api = orc::make_zone_api(flavor, kBase, credentials, 100, executor);

  // Each operation takes at most one answer per request, and gives up after kMaxAttempts
  // transport errors once the answers run out.
  const auto list = api->list(kZone);
  check_result(list);
  check(http.urls.size() <= answer_count + kMaxAttempts, "list: requests without bound");
  check_result(api->batch_delete(kZone, {"192.0.2.1", "2001:db8::1", "198.51.100.7"}));
  check_result(api->get(kZone, "192.0.2.1"));
  check_result(api->batch_upsert(kZone, {{"192.0.2.1", "aws", "us-east-1"}}));
  check_result(api->supported_regions(kZone));
  check(http.urls.size() <= answer_count + 5 * kMaxAttempts, "requests without bound");

  const std::string collection =
      std::string(kBase) + "/zones/" + kZone +
      (flavor == orc::ApiFlavor::kOriginV2 ? "/origin/cloud_regions"
                                           : "/cache/origin_cloud_regions");
  for (const auto& url : http.urls) {
    check(url.starts_with(collection), "request outside the zone's mappings: " + url);
  }
  for (const auto& retry : observer.retries) {
    check(retry.delay >= milliseconds(0) && retry.delay <= std::max(kMaxBackoff, kMaxRetryAfter),
          "retry wait out of bounds: " + std::to_string(retry.delay.count()) + "ms");
  }
  return 0;
}
