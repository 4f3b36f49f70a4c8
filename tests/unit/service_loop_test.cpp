// The daemon's loop (service/daemon.cpp) end to end in simulated time: the real loop, the real
// reconciler, request executor and budget, the stand-in's Cloudflare API behind an in-memory
// HttpClient, an in-memory desired-state file and a recording notifier. Every test runs hours
// of simulated time in milliseconds of wall time.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/desired_state_parser.h"
#include "fakes.h"
#include "log_capture.h"
#include "memory_desired_file.h"
#include "seed.h"
#include "service.h"
#include "service/daemon.h"
#include "service/desired_file.h"
#include "service/leadership.h"
#include "simulated_time.h"

namespace orc {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeLeadership;
using testing::MemoryDesiredFile;
using testing::SimulatedTime;

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kToken = "loop-test-token";
constexpr const char* kHost = "http://127.0.0.1:9";  // never contacted: the HTTP is in memory

std::string desired_yaml(const std::vector<std::string>& ips) {
  std::string out = std::string("zones:\n  - zone_id: ") + kZone + "\n    origins:\n";
  for (const auto& ip : ips) out += "      - " + ip + "\n";
  return out;
}

// A fleet of `zones` zones: zone i holds 10.0.i.1-3 live and keeps 10.0.i.1-2, except for the
// zones given a different list in `keep`.
std::string fleet_zone(int i) {
  char id[33];
  std::snprintf(id, sizeof(id), "%032x", i + 1);
  return id;
}
std::string fleet_ip(int zone, int host) {
  return "10.0." + std::to_string(zone) + "." + std::to_string(host);
}
nlohmann::json fleet_seed(int zones) {
  nlohmann::json doc = {{"zones", nlohmann::json::object()}};
  for (int i = 0; i < zones; ++i) {
    for (int h = 1; h <= 3; ++h) {
      doc["zones"][fleet_zone(i)].push_back(
          {{"ip", fleet_ip(i, h)}, {"vendor", "aws"}, {"region", "us-east-1"}});
    }
  }
  return doc;
}
std::string fleet_yaml(int zones, const std::map<int, std::vector<int>>& keep = {}) {
  std::string out = "zones:\n";
  for (int i = 0; i < zones; ++i) {
    out += "  - zone_id: " + fleet_zone(i) + "\n    origins:\n";
    const auto it = keep.find(i);
    for (int h : it != keep.end() ? it->second : std::vector<int>{1, 2}) {
      out += "      - " + fleet_ip(i, h) + "\n";
    }
  }
  return out;
}

// The stand-in's API behind the HttpClient interface. Every request is logged with its
// simulated time. With hang() set, a request does not finish (a transfer that never ends)
// until the transfer abort token is stopped.
class StandInHttp final : public HttpClient {
 public:
  struct Sent {
    MonoTime at;
    std::string method;
    std::string url;
    std::string body;
    bool aborted = false;
    MonoTime ended{};
  };

  StandInHttp(SimulatedTime& time, std::stop_token abort)
      : time_(time),
        abort_(std::move(abort)),
        service_(seed(), standin::FaultPlan{}, options(), time, time, log_) {}

  static standin::ServiceOptions options() {
    standin::ServiceOptions o;
    o.credentials.token = kToken;
    return o;
  }

  // Replaces every zone and mapping (the stand-in's PUT /__admin/state).
  void seed(const nlohmann::json& doc) {
    const auto answer = service_.handle({"PUT", "/__admin/state", {}, doc.dump()});
    ASSERT_EQ(answer.status, 200) << answer.body;
  }

  void hang(bool on) {
    std::lock_guard lock(mu_);
    hang_ = on;
  }

  // Headers every answer carries from now on, in place of the stand-in's own of those names
  // (lower case): an API server announcing its budget.
  void announce(std::map<std::string, std::string> headers) {
    std::lock_guard lock(mu_);
    announced_ = std::move(headers);
  }

  HttpResponse perform(const HttpRequest& request, Millis) override {
    std::size_t index = 0;
    bool hang = false;
    {
      std::lock_guard lock(mu_);
      sent_.push_back({time_.monotonic(), request.method, request.url, request.body});
      index = sent_.size() - 1;
      hang = hang_;
    }
    HttpResponse response;
    if (hang && !time_.sleep_for(std::chrono::hours(24), abort_)) {
      response.transport_error = "Callback aborted";
      std::lock_guard lock(mu_);
      sent_[index].aborted = true;
      sent_[index].ended = time_.monotonic();
      return response;
    }
    std::string authorization;
    for (const auto& [name, value] : request.headers) {
      if (name == "Authorization") authorization = value;
    }
    const auto answer = service_.handle({request.method,
                                         request.url.substr(std::string(kHost).size()),
                                         {authorization, "", ""},
                                         request.body});
    response.status = answer.status;
    response.body = answer.body;
    for (const auto& [name, value] : answer.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      response.headers[lower] = value;
    }
    response.received_at = time_.wall();
    std::lock_guard lock(mu_);
    for (const auto& [name, value] : announced_) response.headers[name] = value;
    sent_[index].ended = time_.monotonic();
    return response;
  }

  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::vector<Sent> sent(const std::string& method) const {
    std::vector<Sent> out;
    for (auto& s : sent()) {
      if (s.method == method) out.push_back(s);
    }
    return out;
  }
  // When the first batch delete that names `ip` was sent.
  std::optional<MonoTime> deleted_at(const std::string& ip) const {
    for (const auto& s : sent("DELETE")) {
      if (s.body.find("\"" + ip + "\"") != std::string::npos) return s.at;
    }
    return std::nullopt;
  }

 private:
  standin::Store seed() {
    return *standin::parse_seed(nlohmann::json::parse(std::string(R"({"zones": {")") + kZone +
                                                      R"(": [
        {"ip": "10.0.0.1", "vendor": "aws", "region": "us-east-1"},
        {"ip": "10.0.0.2", "vendor": "aws", "region": "us-east-1"},
        {"ip": "10.0.0.3", "vendor": "aws", "region": "us-east-1"},
        {"ip": "10.0.0.4", "vendor": "aws", "region": "us-east-1"}]}})"),
                                time_.wall())
                .value;
  }

  SimulatedTime& time_;
  std::stop_token abort_;
  standin::RequestLog log_{nullptr};
  standin::StandIn service_;
  mutable std::mutex mu_;
  bool hang_ = false;
  std::map<std::string, std::string> announced_;
  std::vector<Sent> sent_;
};

class RecordingNotifier final : public ServiceNotifier {
 public:
  RecordingNotifier(const Clock& clock, std::optional<std::chrono::microseconds> watchdog)
      : clock_(clock), watchdog_(watchdog) {}
  void ready() override { record("ready"); }
  void reloading() override { record("reloading"); }
  void stopping() override { record("stopping"); }
  void status(const std::string&) override {}
  void watchdog() override { record("watchdog"); }
  void extend_timeout(std::chrono::microseconds) override { record("extend_timeout"); }
  std::optional<std::chrono::microseconds> watchdog_interval() const override { return watchdog_; }

  std::vector<MonoTime> times(const std::string& what) const {
    std::lock_guard lock(mu_);
    std::vector<MonoTime> out;
    for (const auto& [at, name] : events_) {
      if (name == what) out.push_back(at);
    }
    return out;
  }

 private:
  void record(std::string what) {
    std::lock_guard lock(mu_);
    events_.emplace_back(clock_.monotonic(), std::move(what));
  }
  const Clock& clock_;
  std::optional<std::chrono::microseconds> watchdog_;
  mutable std::mutex mu_;
  std::vector<std::pair<MonoTime, std::string>> events_;
};

Config loop_config() {
  Config c;
  c.cloudflare.api_base = std::string(kHost) + "/client/v4";
  c.cloudflare.api_flavor = ApiFlavor::kOriginV2;
  c.reconcile.desired_state = "desired.yaml";
  c.reconcile.interval = seconds(60);
  c.reconcile.concurrency = 1;  // the cycle runs on the loop's cycle thread (SimulatedTime)
  c.reconcile.max_delete_fraction = 0.5;  // a change removing 1 of 3 origins is not held
  c.reconcile.settle_period = seconds(2);
  c.reconcile.hold_confirm_period = minutes(10);
  c.reconcile.retry.initial_backoff = seconds(1);
  c.reconcile.retry.max_backoff = seconds(1);
  c.listen.port = 0;
  return c;
}

// The loop on a thread of the simulated time; the test thread drives the time.
class ServiceLoop : public ::testing::Test {
 protected:
  void start(Config config = loop_config(),
             std::optional<std::chrono::microseconds> watchdog = std::nullopt,
             Leadership* leadership = nullptr) {
    notifier_.emplace(time_, watchdog);
    Credentials credentials;
    credentials.token = kToken;
    daemon_.emplace(std::move(config), credentials, file_.parsed(), RunOptions{},
                    DaemonDeps{time_, time_, random_, http_, abort_, file_, *notifier_,
                               leadership != nullptr ? *leadership : always_, time_, outcomes_});
    loop_ = time_.start([this] {
      status_ = daemon_->run();
      ended_at_ = time_.monotonic();
    });
  }

  ~ServiceLoop() override {
    if (loop_.joinable()) {
      daemon_->request_stop();
      time_.leave();
      loop_.join();
    }
  }

  // Stops the loop at `at` and waits for run() to return.
  void stop_at(MonoTime at) {
    time_.advance_to(at);
    daemon_->request_stop();
    time_.leave();
    loop_.join();
  }

  MonoTime t0() const { return SimulatedTime::start(); }

  SimulatedTime time_;
  std::stop_source abort_;
  MemoryDesiredFile file_{desired_yaml({"10.0.0.1", "10.0.0.2", "10.0.0.3"})};
  StandInHttp http_{time_, abort_.get_token()};
  testing::FixedRandom random_{0.5};
  AlwaysLeader always_;
  std::optional<RecordingNotifier> notifier_;
  OutcomeSink* outcomes_ = nullptr;  // what start() hands the loop as its outcome sink
  std::optional<Daemon> daemon_;
  std::jthread loop_;
  int status_ = -1;
  MonoTime ended_at_{};
};

TEST_F(ServiceLoop, CyclesOneIntervalApart) {
  start();
  stop_at(t0() + seconds(250));
  const auto lists = http_.sent("GET");
  ASSERT_EQ(lists.size(), 5u);  // at 0, 60, 120, 180 and 240 s
  for (std::size_t i = 0; i < lists.size(); ++i) {
    EXPECT_EQ(lists[i].at - t0(), seconds(60) * static_cast<int>(i)) << "cycle " << i;
  }
  EXPECT_EQ(http_.deleted_at("10.0.0.4"), t0());  // the first cycle prunes the stale mapping
  EXPECT_EQ(http_.sent("DELETE").size(), 1u);
  EXPECT_EQ(status_, 0);
}

TEST_F(ServiceLoop, AChangedFileIsUsedOnceSettledWithoutWaitingForTheInterval) {
  start();
  // Off the loop's 1 s grid, so that the order of the write and a poll is never a tie.
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  file_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));  // 1 of 3 removed: within 50%
  const MonoTime written = time_.monotonic();
  stop_at(t0() + seconds(50));

  // Seen at the next poll (1 s steps), used once unchanged for the settle period (2 s), and
  // reconciled at once rather than at the end of the interval.
  const auto deleted = http_.deleted_at("10.0.0.3");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, written + seconds(2));
  EXPECT_LE(*deleted, written + seconds(3) + milliseconds(10));
  const auto lists = http_.sent("GET");
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[1].at, *deleted);
}

TEST_F(ServiceLoop, AChangeRewrittenWhileSettlingStartsOver) {
  start();
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  file_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  time_.advance_to(t0() + seconds(11) + milliseconds(700));
  file_.write(desired_yaml({"10.0.0.1", "10.0.0.3"}));  // the writer was not done
  const MonoTime last_write = time_.monotonic();
  stop_at(t0() + seconds(50));

  EXPECT_FALSE(http_.deleted_at("10.0.0.3").has_value());  // the first version never used
  const auto deleted = http_.deleted_at("10.0.0.2");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, last_write + seconds(2));
  EXPECT_LE(*deleted, last_write + seconds(3) + milliseconds(10));
}

TEST_F(ServiceLoop, AHeldChangeWaitsUntilSighupConfirmsIt) {
  Config config = loop_config();
  config.reconcile.max_delete_fraction = 0.3;  // removing 1 of 3 origins is held
  start(config);
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  file_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  time_.advance_to(t0() + seconds(100) + milliseconds(500));  // settled; a cycle ran at 60 s
  EXPECT_FALSE(http_.deleted_at("10.0.0.3").has_value());
  EXPECT_EQ(http_.sent("GET").size(), 2u);
  EXPECT_TRUE(notifier_->times("reloading").empty());

  daemon_->request_reload();  // SIGHUP
  const MonoTime sighup = time_.monotonic();
  stop_at(t0() + seconds(110));
  EXPECT_EQ(http_.deleted_at("10.0.0.3"), sighup);  // a cycle at once, with the held change
  EXPECT_EQ(notifier_->times("reloading"), std::vector<MonoTime>{sighup});
}

// What the loop tells its outcome sink (Kubernetes Events in the daemon).
class RecordingSink final : public OutcomeSink {
 public:
  void on_zone_done(const ZoneReport& report) override {
    std::lock_guard lock(mu_);
    zones_.push_back(report.zone_id + " " + std::string(to_string(report.outcome)));
  }
  void on_change_held(const std::vector<ZoneShrink>& shrinks, Millis confirm_period) override {
    std::lock_guard lock(mu_);
    for (const auto& s : shrinks) {
      held_.push_back(s.zone_id + " " + std::to_string(s.removed) + " of " +
                      std::to_string(s.before) + " for " + format_duration(confirm_period));
    }
  }
  EventCounts event_counts() const override { return {}; }
  std::vector<std::string> zones() const {
    std::lock_guard lock(mu_);
    return zones_;
  }
  std::vector<std::string> held() const {
    std::lock_guard lock(mu_);
    return held_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> zones_;
  std::vector<std::string> held_;
};

TEST_F(ServiceLoop, EachZoneOutcomeAndEachHeldChangeReachTheOutcomeSink) {
  RecordingSink sink;
  outcomes_ = &sink;
  Config config = loop_config();
  config.reconcile.max_delete_fraction = 0.3;  // removing 1 of 3 origins is held
  start(config);
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  file_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  time_.advance_to(t0() + seconds(70));  // settled and held; a second cycle ran at 60 s
  stop_at(t0() + seconds(80));
  const std::string zone = kZone;
  EXPECT_EQ(sink.zones(), (std::vector<std::string>{zone + " success", zone + " success"}));
  EXPECT_EQ(sink.held(), std::vector<std::string>{zone + " 1 of 3 for 10m"})
      << "once, when the change was judged";
}

TEST_F(ServiceLoop, SigtermLetsRequestsRunForTheGraceThenAbortsThemAndExits) {
  start();
  time_.advance_to(t0() + seconds(60) - milliseconds(1));
  http_.hang(true);  // the second cycle's listing never finishes on its own
  time_.advance_to(t0() + seconds(61) + milliseconds(100));
  ASSERT_EQ(http_.sent("GET").size(), 2u);
  daemon_->request_stop();
  const MonoTime stop = time_.monotonic();
  time_.leave();
  loop_.join();

  EXPECT_EQ(notifier_->times("stopping"), std::vector<MonoTime>{stop});
  const auto sent = http_.sent();
  const auto& hung = sent.back();
  EXPECT_EQ(hung.method, "GET");
  EXPECT_TRUE(hung.aborted);
  // When the grace ends: the loop waits for that deadline, not for a poll step after it.
  EXPECT_EQ(hung.ended, stop + kShutdownGrace);
  EXPECT_EQ(ended_at_, hung.ended);  // no retry, no further request: the loop ends
  EXPECT_EQ(sent.size(), 3u);        // list + delete of the first cycle, the hung list
  EXPECT_EQ(status_, 0);
}

TEST_F(ServiceLoop, AStopBetweenCyclesEndsTheWaitAtOnce) {
  start();
  time_.advance_to(t0() + seconds(30) + milliseconds(500));
  daemon_->request_stop();
  time_.leave();
  loop_.join();
  EXPECT_FALSE(abort_.stop_requested());
  EXPECT_EQ(ended_at_, t0() + seconds(30) + milliseconds(500));  // no transfer to abort
}

TEST_F(ServiceLoop, WatchdogIsPingedWhileHealthyAndNotOnceStalled) {
  Config config = loop_config();
  config.reconcile.interval = seconds(10);
  config.cloudflare.request_timeout = seconds(30);
  // Stalled after max(2 x 10 s, 30 s + 1 s) + 1 min = 91 s without progress.
  start(config, std::chrono::seconds(10));
  time_.advance_to(t0() + seconds(100) + milliseconds(500));
  http_.hang(true);
  const MonoTime hung = time_.monotonic();
  time_.advance_to(t0() + seconds(400));

  const auto pings = notifier_->times("watchdog");
  ASSERT_FALSE(pings.empty());
  // While healthy: one ping per watchdog interval (at the 200 ms look during a cycle, or the
  // 1 s poll step between cycles, when the interval has passed).
  EXPECT_LE(pings.front() - t0(), seconds(10) + milliseconds(200));
  for (std::size_t i = 1; i < pings.size(); ++i) {
    EXPECT_LE(pings[i] - pings[i - 1], seconds(10) + milliseconds(1000)) << "ping " << i;
  }
  // The listing that hangs is sent at the next cycle (within 10 s); from it on, no progress.
  // Pinged until the stall threshold has passed, never after.
  const MonoTime last = pings.back();
  EXPECT_GE(last, hung + seconds(80));
  EXPECT_LE(last, hung + seconds(10) + seconds(91));
  EXPECT_EQ(http_.sent("GET").back().at, http_.sent().back().at);
}

// Every answer says the API user's budget is spent until a day from now: the wait is capped at
// an hour and ends in one request asking again, and all along it is a wait the API announced,
// not a stall: the watchdog (pinged only while healthy) is fed long past the stall threshold.
TEST_F(ServiceLoop, ADayLongHeaderWaitIsCappedAtAnHourAndKeepsTheWatchdogFed) {
  http_.announce({{"ratelimit", R"("default";r=0;t=86400)"},
                  {"ratelimit-policy", R"("default";q=1200;w=86400)"}});
  Config config = loop_config();
  config.reconcile.interval = seconds(1);
  config.cloudflare.request_timeout = seconds(1);
  // Stalled after max(2 x 1 s, 1 s + 1 s) + 1 min = 62 s without progress, but for the wait.
  start(config, std::chrono::seconds(2));
  time_.advance_to(t0() + minutes(61));

  const auto sent = http_.sent();
  ASSERT_EQ(sent.size(), 2u);  // the listing, then the delete it held back for an hour
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[1].method, "DELETE");
  EXPECT_GE(sent[1].at - sent[0].ended, minutes(60) - seconds(1));
  EXPECT_LE(sent[1].at - sent[0].ended, minutes(60));
  const auto pings = notifier_->times("watchdog");
  ASSERT_FALSE(pings.empty());
  EXPECT_LE(pings.front() - t0(), seconds(2) + seconds(1));
  for (std::size_t i = 1; i < pings.size(); ++i) {
    ASSERT_LE(pings[i] - pings[i - 1], seconds(2) + seconds(1)) << "ping " << i;
  }
  EXPECT_GE(pings.back(), sent[1].at);
}

TEST_F(ServiceLoop, AnInstanceThatStopsLeadingSendsNothingMore) {
  FakeLeadership leadership;
  start(loop_config(), std::nullopt, &leadership);
  time_.advance_to(t0() + seconds(30) + milliseconds(500));
  const auto before = http_.sent().size();
  EXPECT_EQ(before, 2u);  // list + delete
  leadership.lose();
  time_.advance_to(t0() + seconds(200));  // three more cycles: nothing may be sent
  EXPECT_EQ(http_.sent().size(), before);
  stop_at(t0() + seconds(210) + milliseconds(500));
  EXPECT_EQ(leadership.releases.load(), 1);
}

TEST_F(ServiceLoop, EveryRequestAsksWhetherThisInstanceStillLeads) {
  FakeLeadership leadership;
  start(loop_config(), std::nullopt, &leadership);
  time_.advance_to(t0() + seconds(30) + milliseconds(500));
  const auto before = http_.sent().size();
  leadership.lapse();  // the cycle token is not stopped: only the per-request check knows
  time_.advance_to(t0() + seconds(200));
  EXPECT_EQ(http_.sent().size(), before);
  stop_at(t0() + seconds(210) + milliseconds(500));
}

// A zone cut short says why, so that the log reads right at 3 a.m.: lost leadership is not a
// shutdown, and a shutdown is not lost leadership. 20 zones at one request per second: 5.5 s
// in, a zone waits for the budget when the stop comes.
class CutShort : public ServiceLoop {
 protected:
  void start_fleet(Leadership* leadership = nullptr) {
    http_.seed(fleet_seed(20));
    file_.write(fleet_yaml(20));
    Config config = loop_config();
    config.cloudflare.requests_per_second = 1;
    start(config, std::nullopt, leadership);
  }
  static MonoTime mid_cycle() { return SimulatedTime::start() + milliseconds(5500); }
  // The one zone line that says the zone was cut short.
  static void expect_one_zone_cut_short(const testing::LogCapture& log, const char* level,
                                        const std::string& how, const std::string& why) {
    const auto lines = log.lines_with(why);
    const auto zone_lines = std::count_if(lines.begin(), lines.end(), [&](const auto& line) {
      return line.rfind(std::string(level) + " zone ", 0) == 0;
    });
    EXPECT_EQ(zone_lines, 1) << ::testing::PrintToString(log.lines());
    for (const auto& line : lines) {
      if (line.rfind(std::string(level) + " zone ", 0) != 0) continue;
      EXPECT_NE(line.find(how), std::string::npos) << line;
    }
  }
};

TEST_F(CutShort, AZoneCutShortByLostLeadershipSaysSoNotShuttingDown) {
  const testing::LogCapture log;
  FakeLeadership leadership;
  start_fleet(&leadership);
  time_.advance_to(mid_cycle());
  leadership.lose();
  stop_at(t0() + seconds(10) + milliseconds(500));
  expect_one_zone_cut_short(
      log, "warning", ": abandoned: ", ": no answer: this instance is no longer the leader: ");
  EXPECT_EQ(log.lines_with("shutting down"), std::vector<std::string>{})
      << "a zone abandoned for lost leadership reads like a shutdown";
}

TEST_F(CutShort, AZoneCutShortByTheRequestCheckSaysSoToo) {
  const testing::LogCapture log;
  FakeLeadership leadership;
  start_fleet(&leadership);
  time_.advance_to(mid_cycle());
  leadership.lapse();  // only the check before the next request knows
  stop_at(t0() + seconds(10) + milliseconds(500));
  expect_one_zone_cut_short(
      log, "warning", ": abandoned: ", ": no answer: this instance is no longer the leader: ");
  EXPECT_EQ(log.lines_with("shutting down"), std::vector<std::string>{});
  EXPECT_EQ(log.lines_with("no longer the leader: abandoning this cycle").size(), 1u);
}

TEST_F(CutShort, AZoneCutShortBySigtermIsInterruptedNotFailed) {
  const testing::LogCapture log;
  FakeLeadership leadership;
  start_fleet(&leadership);
  stop_at(mid_cycle());
  expect_one_zone_cut_short(log, "info", ": interrupted: ", ": no answer: shutting down: ");
  EXPECT_EQ(log.lines_with("leader"), std::vector<std::string>{})
      << "a zone cut short by SIGTERM reads like lost leadership";
  for (const auto& line : log.lines()) {
    EXPECT_NE(line.rfind("error ", 0), 0u) << "an orderly stop logs no error: " << line;
  }
  const auto done = log.lines_with("cycle done: ");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(done[0].find(" 0 failed, 0 blocked, 0 dry-run, 1 interrupted; "), std::string::npos)
      << done[0];
}

// Changes first: 20 zones at one request per second make a cycle of about 40 s.
class ChangesFirst : public ServiceLoop {
 protected:
  static constexpr int kZones = 20;
  void start_fleet() {
    http_.seed(fleet_seed(kZones));
    file_.write(fleet_yaml(kZones));
    Config config = loop_config();
    config.cloudflare.requests_per_second = 1;
    start(config);
  }
  std::vector<MonoTime> lists_of(int zone) const {
    std::vector<MonoTime> out;
    for (const auto& s : http_.sent("GET")) {
      if (s.url.find(fleet_zone(zone)) != std::string::npos) out.push_back(s.at);
    }
    return out;
  }
};

TEST_F(ChangesFirst, AZoneChangedMidCycleIsReconciledNextAndTheCycleGoesOn) {
  start_fleet();
  time_.advance_to(t0() + seconds(5) + milliseconds(500));  // zone 2 or 3 is being reconciled
  file_.write(fleet_yaml(kZones, {{17, {1}}}));             // zone 17 no longer keeps .2
  const MonoTime written = time_.monotonic();
  stop_at(t0() + seconds(55) + milliseconds(500));  // the next cycle starts at about 100 s

  // Seen at the loop's next look (1 s steps, as between cycles), settled 2 s later, then the
  // zone in progress finishes its request, and zone 17's list and delete take the next two
  // slots.
  const auto deleted = http_.deleted_at(fleet_ip(17, 2));
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, written + seconds(2));
  EXPECT_LE(*deleted, written + seconds(7));
  EXPECT_EQ(lists_of(17).size(), 1u);  // not reached before the change: reconciled once
  // The rest of the cycle continued behind it: every zone pruned in this one cycle, those
  // still waiting after zone 17.
  for (int i = 0; i < kZones; ++i) {
    const auto at = http_.deleted_at(fleet_ip(i, 3));
    ASSERT_TRUE(at.has_value()) << "zone " << i;
    if (i >= 5 && i != 17) {
      EXPECT_GT(*at, *deleted) << "zone " << i;
    }
    EXPECT_EQ(lists_of(i).size(), 1u) << "zone " << i;
  }
}

TEST_F(ChangesFirst, AZoneAlreadyDoneThisCycleIsReconciledAgainAtOnce) {
  start_fleet();
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  file_.write(fleet_yaml(kZones, {{0, {1}}}));  // zone 0 was reconciled at the start
  const MonoTime written = time_.monotonic();
  stop_at(t0() + seconds(55) + milliseconds(500));

  const auto deleted = http_.deleted_at(fleet_ip(0, 2));
  ASSERT_TRUE(deleted.has_value());
  EXPECT_LE(*deleted, written + seconds(7));  // as above: a 1 s look, 2 s settle, two slots
  EXPECT_EQ(lists_of(0).size(), 2u);
  EXPECT_LT(*deleted, *http_.deleted_at(fleet_ip(kZones - 1, 3)));
}

TEST_F(ChangesFirst, SighupTakesAHeldChangeMidCycleAndChangesGoFirst) {
  http_.seed(fleet_seed(kZones));
  file_.write(fleet_yaml(kZones));
  Config config = loop_config();
  config.cloudflare.requests_per_second = 1;
  config.reconcile.max_delete_fraction = 0.3;  // removing 1 of 2 origins is held
  start(config);
  time_.advance_to(t0() + seconds(3) + milliseconds(500));
  file_.write(fleet_yaml(kZones, {{15, {1}}}));
  time_.advance_to(t0() + seconds(10) + milliseconds(500));  // settled, held
  daemon_->request_reload();
  const MonoTime sighup = time_.monotonic();
  stop_at(t0() + seconds(30) + milliseconds(500));

  const auto deleted = http_.deleted_at(fleet_ip(15, 2));
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, sighup);
  EXPECT_LE(*deleted, sighup + seconds(4));
}

// ---------------------------------------------------------------------------------------------
// The loop's decisions the integration tests used to time from outside with real sleeps: a
// held change confirmed by time or replaced, an invalid or vanished file kept out and reported
// once, SIGHUP re-reading what polling cannot see, a failed zone retried next cycle, a stop
// during a slow request. These tests also read the loop's log.

// Batch deletes that take `latency` to answer (a slow API), cut short only by the transfer
// abort token; everything else goes straight to the stand-in.
class SlowDeletes final : public HttpClient {
 public:
  SlowDeletes(HttpClient& inner, SimulatedTime& time, std::stop_token abort, Millis latency)
      : inner_(inner), time_(time), abort_(std::move(abort)), latency_(latency) {}
  HttpResponse perform(const HttpRequest& request, Millis timeout) override {
    if (request.method == "DELETE") ++started;
    if (request.method == "DELETE" && !time_.sleep_for(latency_, abort_)) {
      aborted = true;
      HttpResponse response;
      response.transport_error = "Callback aborted";
      return response;
    }
    return inner_.perform(request, timeout);
  }
  std::atomic<int> started{0};
  std::atomic<bool> aborted{false};

 private:
  HttpClient& inner_;
  SimulatedTime& time_;
  std::stop_token abort_;
  Millis latency_;
};

class ScriptedLoop : public ServiceLoop {
 protected:
  void TearDown() override {
    if (loop_.joinable()) {  // a test that failed half-way: stop the loop before the log goes
      daemon_->request_stop();
      time_.leave();
      loop_.join();
    }
  }

  // The loop on `scripted_`, sending through `http` (the stand-in by default).
  void start_scripted(Config config = loop_config(), HttpClient* http = nullptr) {
    notifier_.emplace(time_, std::nullopt);
    Credentials credentials;
    credentials.token = kToken;
    daemon_.emplace(std::move(config), credentials, scripted_.parsed(), RunOptions{},
                    DaemonDeps{time_, time_, random_, http != nullptr ? *http : http_, abort_,
                               scripted_, *notifier_, always_, time_});
    loop_ = time_.start([this] {
      status_ = daemon_->run();
      ended_at_ = time_.monotonic();
    });
  }

  // The stand-in's PUT /__admin/faults, before the loop starts.
  void set_faults(const std::string& plan) {
    const auto answer =
        http_.perform({"PUT", std::string(kHost) + "/__admin/faults", {}, plan}, seconds(1));
    ASSERT_EQ(answer.status, 200) << answer.body;
  }

  const testing::LogCapture log_;  // the loop's log lines, from before it starts
  MemoryDesiredFile scripted_{desired_yaml({"10.0.0.1", "10.0.0.2", "10.0.0.3"})};
};

std::string invalid_yaml() {
  return std::string("zones:\n  - zone_id: ") + kZone + "\n    origins: [10.0.0.1, 10.0.0.300]\n";
}

TEST_F(ScriptedLoop, AHeldChangeTakesEffectOnceUnchangedForTheConfirmationPeriod) {
  Config config = loop_config();
  config.reconcile.max_delete_fraction = 0.3;  // removing 1 of 3 origins is held
  config.reconcile.hold_confirm_period = seconds(30);
  start_scripted(config);
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  scripted_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  const MonoTime written = time_.monotonic();
  time_.advance_to(t0() + seconds(40) + milliseconds(500));  // held since about 12.5 s
  EXPECT_EQ(log_.count("desired state change held"), 1);
  EXPECT_EQ(log_.count("stays unchanged for 30s"), 1);
  EXPECT_FALSE(http_.deleted_at("10.0.0.3").has_value());
  stop_at(t0() + seconds(55) + milliseconds(500));

  // Settled (2 s), then unchanged for the confirmation period (30 s), looked at when that
  // period ends, and reconciled at once rather than at the next interval (60 s).
  const auto deleted = http_.deleted_at("10.0.0.3");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, written + seconds(32));
  EXPECT_LE(*deleted, written + seconds(33) + milliseconds(10));
  const auto lists = http_.sent("GET");
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[1].at, *deleted);
  EXPECT_EQ(log_.count("desired state reloaded (held change confirmed: unchanged for 30s)"), 1);
  EXPECT_EQ(log_.count("desired state change held"), 1);  // announced once, not every poll
  EXPECT_TRUE(notifier_->times("reloading").empty());
}

TEST_F(ScriptedLoop, AHeldChangeEditedAgainIsDroppedAndTheNewVersionSettles) {
  Config config = loop_config();
  config.reconcile.max_delete_fraction = 0.4;  // removing 2 of 3 origins is held, 1 of 3 is not
  start_scripted(config);
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  scripted_.write(desired_yaml({"10.0.0.1"}));
  time_.advance_to(t0() + seconds(20) + milliseconds(500));
  EXPECT_EQ(log_.count("desired state change held"), 1);
  // The writer had only paused: its next write replaces the held version.
  scripted_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  const MonoTime rewritten = time_.monotonic();
  stop_at(t0() + seconds(50) + milliseconds(500));

  EXPECT_FALSE(http_.deleted_at("10.0.0.2").has_value());  // the held version never acted
  const auto deleted = http_.deleted_at("10.0.0.3");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, rewritten + seconds(2));
  EXPECT_LE(*deleted, rewritten + seconds(3) + milliseconds(10));
  EXPECT_EQ(log_.count("the held change is dropped"), 1);
  EXPECT_EQ(log_.count("desired state reloaded (file changed)"), 1);
}

TEST_F(ScriptedLoop, AnInvalidFileIsReportedOnceAndTheLastValidStateKept) {
  start_scripted();
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  scripted_.write(invalid_yaml());
  time_.advance_to(t0() + seconds(70) + milliseconds(500));  // many polls, and a cycle at 60 s
  EXPECT_EQ(log_.count("desired state not reloaded (file changed)"), 1) << log_.text();
  EXPECT_EQ(log_.count("10.0.0.300"), 1);
  EXPECT_EQ(log_.count("keeping the last valid one (1 zones)"), 1);
  EXPECT_EQ(http_.sent("GET").size(), 2u);     // the cycle at 60 s ran on the last valid state
  EXPECT_EQ(http_.sent("DELETE").size(), 1u);  // the first cycle's prune of 10.0.0.4 alone
  // A valid file again is taken like any change.
  scripted_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  const MonoTime fixed = time_.monotonic();
  stop_at(t0() + seconds(100) + milliseconds(500));

  const auto deleted = http_.deleted_at("10.0.0.3");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, fixed + seconds(2));
  EXPECT_LE(*deleted, fixed + seconds(3) + milliseconds(10));
  EXPECT_EQ(log_.count("desired state reloaded (file changed)"), 1);
}

TEST_F(ScriptedLoop, SighupKeepsAnInvalidFileOutAndTakesAValidOneAtOnce) {
  start_scripted();
  // Off the loop's poll grid (which a SIGHUP moves), so a write and a poll never tie.
  time_.advance_to(t0() + seconds(10) + milliseconds(300));
  scripted_.write(invalid_yaml());
  daemon_->request_reload();
  const MonoTime first = time_.monotonic();
  time_.advance_to(t0() + seconds(30) + milliseconds(700));
  EXPECT_EQ(log_.count("desired state not reloaded (SIGHUP)"), 1) << log_.text();
  EXPECT_EQ(log_.count("10.0.0.300"), 1);
  EXPECT_EQ(log_.count("desired state not reloaded"), 1);  // polling does not report it again
  EXPECT_EQ(http_.sent("DELETE").size(), 1u);              // nothing on the broken file

  scripted_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  daemon_->request_reload();
  const MonoTime second = time_.monotonic();
  stop_at(t0() + seconds(40) + milliseconds(500));

  // Taken at once: SIGHUP says the file is complete, so there is no settle period.
  EXPECT_EQ(http_.deleted_at("10.0.0.3"), second);
  EXPECT_EQ(log_.count("desired state reloaded (SIGHUP)"), 1);
  EXPECT_EQ(notifier_->times("reloading"), (std::vector<MonoTime>{first, second}));
  EXPECT_EQ(notifier_->times("ready").size(), 3u);  // at start, and after each reload
}

TEST_F(ScriptedLoop, SighupRereadsAFileWhoseStampDidNotChange) {
  start_scripted();
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  scripted_.write_keeping_stamp(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  time_.advance_to(t0() + seconds(30) + milliseconds(500));
  EXPECT_FALSE(http_.deleted_at("10.0.0.3").has_value());  // polls look at the stamp alone
  daemon_->request_reload();
  const MonoTime sighup = time_.monotonic();
  stop_at(t0() + seconds(40) + milliseconds(500));
  EXPECT_EQ(http_.deleted_at("10.0.0.3"), sighup);
  EXPECT_EQ(log_.count("desired state reloaded (SIGHUP)"), 1);
}

TEST_F(ScriptedLoop, ADeletedFileIsReportedOnceTheLastStateKeptAndItsReturnIsNoChange) {
  start_scripted();
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  scripted_.remove();
  time_.advance_to(t0() + seconds(70) + milliseconds(500));  // many polls, and a cycle at 60 s
  EXPECT_EQ(log_.count("cannot be read"), 1) << log_.text();
  EXPECT_EQ(log_.count("desired.yaml cannot be read: No such file or directory; keeping the "
                       "last valid desired state (1 zones)"),
            1);
  EXPECT_EQ(http_.sent("GET").size(), 2u);     // the cycle at 60 s ran on the last valid state
  EXPECT_EQ(http_.sent("DELETE").size(), 1u);  // the first cycle's prune of 10.0.0.4 alone

  // Back as it was: said once, nothing to reload, nothing deleted.
  scripted_.write(desired_yaml({"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
  time_.advance_to(t0() + seconds(100) + milliseconds(500));
  EXPECT_EQ(log_.count("is back"), 1) << log_.text();
  EXPECT_EQ(log_.count("desired state reloaded"), 0);
  EXPECT_EQ(http_.sent("DELETE").size(), 1u);

  // And changes are taken again.
  scripted_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  const MonoTime changed = time_.monotonic();
  stop_at(t0() + seconds(110) + milliseconds(500));
  const auto deleted = http_.deleted_at("10.0.0.3");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, changed + seconds(2));
  EXPECT_LE(*deleted, changed + seconds(3) + milliseconds(10));
  EXPECT_EQ(log_.count("cannot be read"), 1);
}

TEST_F(ScriptedLoop, AFileStreamedInChunksIsUsedOnlyOnceComplete) {
  // 40 live mappings; the finished file keeps 38. It is written in place over 2.25 s, two
  // origins every 250 ms, as `generate > desired.yaml` would: every prefix is valid YAML that
  // lacks trailing origins.
  std::vector<std::string> all;
  nlohmann::json seed = {{"zones", {{kZone, nlohmann::json::array()}}}};
  for (int h = 1; h <= 40; ++h) {
    all.push_back("10.0.0." + std::to_string(h));
    seed["zones"][kZone].push_back(
        {{"ip", all.back()}, {"vendor", "aws"}, {"region", "us-east-1"}});
  }
  http_.seed(seed);
  scripted_.write(desired_yaml(all));
  start_scripted();
  time_.advance_to(t0() + seconds(10) + milliseconds(300));
  MonoTime last_write{};
  for (std::size_t kept = 20; kept <= 38; kept += 2) {
    if (kept > 20) time_.advance(milliseconds(250));
    scripted_.write(desired_yaml({all.begin(), all.begin() + static_cast<std::ptrdiff_t>(kept)}));
    last_write = time_.monotonic();
  }
  stop_at(t0() + seconds(30) + milliseconds(500));

  for (int h = 1; h <= 38; ++h) {
    EXPECT_FALSE(http_.deleted_at(all[h - 1]).has_value()) << all[h - 1] << " is desired";
  }
  for (const auto* ip : {"10.0.0.39", "10.0.0.40"}) {
    const auto deleted = http_.deleted_at(ip);
    ASSERT_TRUE(deleted.has_value()) << ip;
    EXPECT_GE(*deleted, last_write + seconds(2)) << ip;
    EXPECT_LE(*deleted, last_write + seconds(3) + milliseconds(10)) << ip;
  }
  EXPECT_EQ(log_.count("desired state reloaded (file changed)"), 1);
  EXPECT_EQ(log_.count("desired state not reloaded"), 0);
}

TEST_F(ScriptedLoop, AZoneThatFailedIsRetriedAtTheNextCycleNotSooner) {
  set_faults(R"({"rules": [{"operation": "list", "status": 502, "times": 4}]})");
  Config config = loop_config();
  config.reconcile.retry.max_attempts = 4;
  start_scripted(config);
  stop_at(t0() + seconds(100) + milliseconds(500));

  // Four attempts in the first cycle, then the next one after the interval (60 s from the end
  // of the failed cycle), which prunes.
  const auto lists = http_.sent("GET");
  ASSERT_EQ(lists.size(), 5u);
  EXPECT_LT(lists[3].at - t0(), seconds(5));
  EXPECT_GE(lists[4].at - lists[3].ended, seconds(60));
  EXPECT_LE(lists[4].at - lists[3].ended, seconds(61));
  const auto deleted = http_.deleted_at("10.0.0.4");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_GE(*deleted, lists[4].at);
  EXPECT_EQ(http_.sent("DELETE").size(), 1u);
  EXPECT_EQ(log_.count("will retry next cycle"), 1);
}

TEST_F(ScriptedLoop, AStopDuringASlowRequestLetsItFinishAndUsesItsAnswer) {
  SlowDeletes slow(http_, time_, abort_.get_token(), seconds(1));
  start_scripted(loop_config(), &slow);
  time_.advance_to(t0() + milliseconds(500));  // the first cycle's batch delete is in flight
  ASSERT_EQ(http_.sent("GET").size(), 1u);
  ASSERT_EQ(slow.started.load(), 1);
  daemon_->request_stop();
  const MonoTime stop = time_.monotonic();
  time_.leave();
  loop_.join();

  // Finished within the grace, its answer read: the mapping is pruned and counted.
  EXPECT_FALSE(slow.aborted.load());
  EXPECT_FALSE(abort_.stop_requested());
  const auto deletes = http_.sent("DELETE");
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_GT(deletes[0].at, stop);
  EXPECT_LT(deletes[0].at, stop + kShutdownGrace);
  EXPECT_EQ(log_.count("stale=1 pruned=1"), 1) << log_.text();
  EXPECT_EQ(notifier_->times("stopping"), std::vector<MonoTime>{stop});
  EXPECT_LE(ended_at_, deletes[0].ended + milliseconds(200));
  EXPECT_EQ(status_, 0);
}

TEST_F(ScriptedLoop, SighupConfirmsAHeldChangeAtOnceAndSaysSo) {
  Config config = loop_config();
  config.reconcile.max_delete_fraction = 0.3;  // removing 1 of 3 origins is held
  start_scripted(config);
  time_.advance_to(t0() + seconds(10) + milliseconds(500));
  scripted_.write(desired_yaml({"10.0.0.1", "10.0.0.2"}));
  time_.advance_to(t0() + seconds(20) + milliseconds(500));
  EXPECT_EQ(log_.count("desired state change held"), 1);
  EXPECT_FALSE(http_.deleted_at("10.0.0.3").has_value());
  daemon_->request_reload();
  const MonoTime sighup = time_.monotonic();
  stop_at(t0() + seconds(30) + milliseconds(500));
  EXPECT_EQ(http_.deleted_at("10.0.0.3"), sighup);
  EXPECT_EQ(log_.count("desired state reloaded (SIGHUP, which confirms the held change)"), 1)
      << log_.text();
}

}  // namespace
}  // namespace orc
