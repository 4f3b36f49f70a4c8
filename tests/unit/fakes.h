// Test doubles for the injected edges: time, sleeping, randomness, HTTP, the zone API and
// leadership.
// Sleeping on a FakeSleeper advances the FakeClock instantly, so retry tests run in
// microseconds and assert the exact delays.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cloudflare/cloudflare_api.h"
#include "model/ip.h"
#include "net/http.h"
#include "reconcile/zone_api.h"
#include "service/leadership.h"

namespace orc::testing {

class FakeClock final : public Clock {
 public:
  MonoTime monotonic() const override {
    std::lock_guard lock(mu_);
    return mono_;
  }
  WallTime wall() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  void advance(Millis d) {
    std::lock_guard lock(mu_);
    mono_ += d;
    wall_ += d;
  }

 private:
  mutable std::mutex mu_;
  MonoTime mono_{std::chrono::hours(1000)};
  WallTime wall_{std::chrono::seconds(1'700'000'000)};
};

// Sleeps advance the FakeClock at once. It owns a stop source for tests that stop "the daemon":
// pass token() wherever a stop token goes; stop() and stop_during_sleep() request it.
class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock& clock) : clock_(clock) {}
  // A stopped sleeper sleeps no more, whatever token it is given: a thread of the code under
  // test (an elector) waits on its own token, and would otherwise spin the clock forever.
  bool sleep_for(Millis d, std::stop_token stop) override {
    std::lock_guard lock(mu_);
    if (stop.stop_requested() || source_.stop_requested()) return false;
    sleeps_.push_back(d);
    clock_.advance(d);
    if (stop_after_sleeps_ > 0 && sleeps_.size() >= stop_after_sleeps_) source_.request_stop();
    return !stop.stop_requested();
  }
  std::stop_token token() const { return source_.get_token(); }
  void stop() { source_.request_stop(); }
  // The stop request arrives during the n-th sleep.
  void stop_during_sleep(std::size_t n) { stop_after_sleeps_ = n; }
  std::vector<Millis> sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  FakeClock& clock_;
  mutable std::mutex mu_;
  std::vector<Millis> sleeps_;
  std::stop_source source_;
  std::size_t stop_after_sleeps_ = 0;
};

class FixedRandom final : public RandomSource {
 public:
  explicit FixedRandom(double value) : value_(value) {}
  double uniform01() override { return value_; }

 private:
  double value_;
};

// Answers from a script, in order; records every request.
class ScriptedHttp final : public HttpClient {
 public:
  void push(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    script_.push_back(std::move(r));
  }
  void push_transport_error(std::string what) {
    HttpResponse r;
    r.transport_error = std::move(what);
    script_.push_back(std::move(r));
  }
  HttpResponse perform(const HttpRequest& request, Millis) override {
    requests_.push_back(request);
    if (script_.empty())
      throw std::logic_error("ScriptedHttp: no answer scripted for " + request.url);
    HttpResponse r = std::move(script_.front());
    script_.pop_front();
    return r;
  }
  const std::vector<HttpRequest>& requests() const { return requests_; }
  std::size_t remaining() const { return script_.size(); }

 private:
  std::deque<HttpResponse> script_;
  std::vector<HttpRequest> requests_;
};

class RecordingObserver final : public ApiObserver {
 public:
  struct Request {
    Operation op;
    int status;
  };
  struct Retry {
    Operation op;
    RetryReason reason;
    Millis delay;
  };
  void on_request(Operation op, int status, double) override { requests.push_back({op, status}); }
  void on_retry(Operation op, RetryReason reason, Millis delay) override {
    retries.push_back({op, reason, delay});
  }
  std::vector<Request> requests;
  std::vector<Retry> retries;
};

// An in-memory zone API: like the real one it canonicalizes, deletes and upserts per item,
// checks vendor and region against its supported regions, and rejects a batch of more than
// 100 items before changing anything. Failures can be injected per zone and per IP.
class FakeZoneApi final : public ZoneApi {
 public:
  FakeZoneApi() {
    regions.by_vendor["aws"] = {"us-east-1", "eu-west-1"};
    regions.by_vendor["gcp"] = {"us-central1", "europe-west1"};
  }
  void seed(const std::string& zone, const std::vector<std::string>& ips) {
    std::lock_guard lock(mu_);
    for (const auto& ip : ips) zones_[zone][*canonicalize_ip(ip)] = {"aws", "us-east-1"};
  }
  void seed(const std::string& zone, const std::vector<Mapping>& mappings) {
    std::lock_guard lock(mu_);
    for (const auto& m : mappings) zones_[zone][*canonicalize_ip(m.ip)] = {m.vendor, m.region};
  }
  std::set<std::string> live(const std::string& zone) const {
    std::lock_guard lock(mu_);
    std::set<std::string> out;
    if (auto it = zones_.find(zone); it != zones_.end()) {
      for (const auto& [ip, where] : it->second) out.insert(ip);
    }
    return out;
  }
  // ip -> {vendor, region}
  std::map<std::string, std::pair<std::string, std::string>> mappings(
      const std::string& zone) const {
    std::lock_guard lock(mu_);
    auto it = zones_.find(zone);
    return it == zones_.end() ? decltype(zones_)::mapped_type{} : it->second;
  }

  Result<std::vector<Mapping>> list(const std::string& zone) override {
    std::lock_guard lock(mu_);
    ++list_calls;
    calls.push_back("list");
    if (list_fails.contains(zone)) return list_fails.at(zone);
    if (empty_lists > 0) {
      --empty_lists;
      return std::vector<Mapping>{};
    }
    std::vector<Mapping> out;
    for (const auto& [ip, where] : zones_[zone]) out.push_back({ip, where.first, where.second});
    return out;
  }

  Result<BatchResult> batch_delete(const std::string& zone,
                                   const std::vector<std::string>& ips) override {
    std::lock_guard lock(mu_);
    batches.push_back({zone, ips});
    calls.push_back("delete");
    if (ips.empty() || ips.size() > 100) return too_many(ips.size());
    if (batch_fails.contains(zone)) return batch_fails.at(zone);
    BatchResult r;
    for (const auto& ip : ips) {
      if (refuse.contains(ip)) {
        r.items.push_back({ip, ItemOutcome::refused({0, refuse.at(ip)})});
      } else if (zones_[zone].erase(ip) == 1) {
        r.items.push_back({ip, ItemOutcome::applied()});
      } else if (missing_refusal) {
        r.items.push_back({ip, ItemOutcome::refused(*missing_refusal)});
      } else {
        r.items.push_back({ip, ItemOutcome::absent()});
      }
    }
    return r;
  }

  Result<BatchResult> batch_upsert(const std::string& zone,
                                   const std::vector<Mapping>& items) override {
    std::lock_guard lock(mu_);
    upserts.push_back({zone, items});
    calls.push_back("upsert");
    if (items.empty() || items.size() > 100) return too_many(items.size());
    if (upsert_fails.contains(zone)) return upsert_fails.at(zone);
    if (zone_limit) {  // the API refuses the whole batch when the zone would outgrow its limit
      std::size_t adds = 0;
      for (const auto& m : items) adds += zones_[zone].contains(*canonicalize_ip(m.ip)) ? 0 : 1;
      if (zones_[zone].size() + adds > *zone_limit) {
        ApiError e;
        e.kind = ApiError::Kind::kPermanent;
        e.http_status = 400;
        e.codes = {1164};
        e.zone_full = true;
        e.message = "[1164] Zone limit reached";
        ++limit_refusals;
        return e;
      }
    }
    if (upsert_answers_nothing) return BatchResult{};
    BatchResult r;
    for (const auto& m : items) {
      if (refuse_upsert.contains(m.ip)) {
        r.items.push_back({m.ip, ItemOutcome::refused(refuse_upsert.at(m.ip))});
      } else if (!regions.supports(m.vendor, m.region)) {
        r.items.push_back({m.ip, ItemOutcome::refused({1157, "invalid vendor or region"})});
      } else {
        zones_[zone][*canonicalize_ip(m.ip)] = {m.vendor, m.region};
        r.items.push_back({m.ip, ItemOutcome::applied()});
      }
    }
    return r;
  }

  Result<Presence> get(const std::string& zone, const std::string& ip) override {
    std::lock_guard lock(mu_);
    gets.push_back(ip);
    return zones_[zone].contains(ip) ? Presence::kPresent : Presence::kAbsent;
  }

  Result<SupportedRegions> supported_regions(const std::string& zone) override {
    std::lock_guard lock(mu_);
    ++regions_calls;
    ++regions_calls_by_zone[zone];
    calls.push_back("regions");
    if (regions_fail) return *regions_fail;
    if (auto it = zone_regions_fail.find(zone); it != zone_regions_fail.end()) return it->second;
    return regions;
  }

  // Another actor removes a mapping behind our back.
  void remove_behind_our_back(const std::string& zone, const std::string& ip) {
    std::lock_guard lock(mu_);
    zones_[zone].erase(ip);
  }

  std::map<std::string, ApiError> list_fails;
  int empty_lists = 0;                  // the next listings answer empty (a glitch)
  bool upsert_answers_nothing = false;  // batch upserts answer without any item, write nothing
  std::map<std::string, ApiError> batch_fails;
  std::map<std::string, ApiError> upsert_fails;
  std::map<std::string, std::string> refuse;     // ip -> error text; stays in place
  std::map<std::string, Refusal> refuse_upsert;  // ip -> why; not written
  // A delete of a mapping that is not there: absent (how the API layer reads "origin IP not
  // found"), or, when set, refused for this reason.
  std::optional<Refusal> missing_refusal;
  SupportedRegions regions;
  std::optional<ApiError> regions_fail;
  std::map<std::string, ApiError> zone_regions_fail;  // only these zones' regions fail
  std::optional<std::size_t> zone_limit;              // refuse upserts past it (code 1164)
  int limit_refusals = 0;
  std::map<std::string, int> regions_calls_by_zone;
  std::vector<std::pair<std::string, std::vector<std::string>>> batches;
  std::vector<std::pair<std::string, std::vector<Mapping>>> upserts;
  std::vector<std::string> gets;
  std::vector<std::string> calls;  // list | upsert | delete | regions, in order (not get)
  int list_calls = 0;
  int regions_calls = 0;

 private:
  static ApiError too_many(std::size_t n) {
    ApiError e;
    e.kind = ApiError::Kind::kPermanent;
    e.http_status = 400;
    e.message = "batch of " + std::to_string(n);
    return e;
  }

  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, std::pair<std::string, std::string>>> zones_;
};

// Passes every call through to another ZoneApi; tests override the one call they change.
class ForwardingZoneApi : public ZoneApi {
 public:
  explicit ForwardingZoneApi(ZoneApi& inner) : inner_(inner) {}
  Result<std::vector<Mapping>> list(const std::string& zone) override { return inner_.list(zone); }
  Result<BatchResult> batch_delete(const std::string& zone,
                                   const std::vector<std::string>& ips) override {
    return inner_.batch_delete(zone, ips);
  }
  Result<BatchResult> batch_upsert(const std::string& zone,
                                   const std::vector<Mapping>& items) override {
    return inner_.batch_upsert(zone, items);
  }
  Result<Presence> get(const std::string& zone, const std::string& ip) override {
    return inner_.get(zone, ip);
  }
  Result<SupportedRegions> supported_regions(const std::string& zone) override {
    return inner_.supported_regions(zone);
  }

 protected:
  ZoneApi& inner_;
};

// Leads until told otherwise; counts releases.
class FakeLeadership final : public Leadership {
 public:
  void start(LeadershipCallbacks) override {}
  std::stop_token cycle_token() const override { return lost_.get_token(); }
  bool leading() const override { return leading_.load(); }
  void release() override { ++releases; }
  bool elects() const override { return true; }
  bool healthy(MonoTime) const override { return !cut_off_; }
  std::string describe() const override {
    if (cut_off_) return "standby: the lease API is unreachable";
    return leading_ ? "leader" : "standby";
  }
  std::uint64_t transitions() const override { return 0; }
  bool duplicate_identity() const override { return false; }
  // The elector noticed: the cycle token is stopped.
  void lose() {
    leading_ = false;
    lost_.request_stop();
  }
  // The renew deadline passed, and the elector has not looked yet: only leading() knows.
  void lapse() { leading_ = false; }
  // A standby that cannot read the Lease for longer than the health bound.
  void cut_off() {
    leading_ = false;
    cut_off_ = true;
  }
  std::atomic<int> releases{0};

 private:
  std::atomic<bool> leading_{true};
  std::atomic<bool> cut_off_{false};
  std::stop_source lost_;
};

}  // namespace orc::testing
