#include "config/config.h"
#include "model/plan_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "temp_dir.h"

namespace orc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kFile = "/etc/origin-reconciler/config.yaml";

// The message of the ConfigError that parsing `yaml` throws ("" if it does not throw).
std::string parse_error(const std::string& yaml, const fs::path& path = kFile) {
  try {
    parse_config(yaml, path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Defaults

TEST(ParseConfig, EmptyDocumentsGiveAllDefaults) {
  for (const char* text : {"", "{}", "# only a comment\n", "---\n", "\n\n", "~", "---\n{}\n...\n",
                           "cloudflare:\nreconcile:\nlog:\n"}) {
    SCOPED_TRACE(::testing::Message() << "text: '" << text << "'");
    const Config c = parse_config(text, kFile);
    EXPECT_EQ(c.path, fs::path(kFile));
    EXPECT_EQ(c.cloudflare.api_base, "https://api.cloudflare.com/client/v4");
    EXPECT_EQ(c.cloudflare.api_flavor, ApiFlavor::kOriginV2);
    EXPECT_FALSE(c.cloudflare.token_file.has_value());
    EXPECT_EQ(c.cloudflare.request_timeout, Millis{30000});
    EXPECT_DOUBLE_EQ(c.cloudflare.requests_per_second, 4);
    EXPECT_EQ(c.cloudflare.page_size, 100);
    EXPECT_DOUBLE_EQ(c.cloudflare.budget_headroom, 0.05);
    // The default desired-state file sits next to the config file.
    EXPECT_EQ(c.reconcile.desired_state, fs::path("/etc/origin-reconciler/desired.yaml"));
    EXPECT_EQ(c.reconcile.interval, Millis{60000});
    EXPECT_EQ(c.reconcile.batch_size, 100);
    EXPECT_EQ(c.reconcile.concurrency, 4);
    EXPECT_FALSE(c.reconcile.dry_run);
    EXPECT_DOUBLE_EQ(c.reconcile.max_delete_fraction, 0.3);
    EXPECT_EQ(c.reconcile.policy, Policy::kPrune);
    EXPECT_DOUBLE_EQ(c.reconcile.max_update_fraction, 0.5);
    EXPECT_EQ(c.reconcile.retry.max_attempts, 6);
    EXPECT_EQ(c.reconcile.retry.initial_backoff, Millis{1000});
    EXPECT_EQ(c.reconcile.retry.max_backoff, Millis{60000});
    EXPECT_EQ(c.reconcile.settle_period, Millis{2000});
    EXPECT_EQ(c.reconcile.hold_confirm_period, Millis{600000});
    EXPECT_EQ(c.listen.host, "127.0.0.1");
    EXPECT_EQ(c.listen.port, 9464);
    EXPECT_EQ(c.log.level, LogLevel::kInfo);
    EXPECT_EQ(c.log.format, LogFormat::kAuto);
  }
}

TEST(ParseConfig, EveryKeySet) {
  const char* text = R"(
cloudflare:
  api_base: https://cf.example.com/client/v4/
  api_flavor: origin-v2
  token_file: /run/secrets/cf-token
  request_timeout: 45s
  requests_per_second: 2.5
  page_size: 50
  budget_headroom: 0.2
reconcile:
  desired_state: /srv/desired.yaml
  interval: 5m
  batch_size: 20
  concurrency: 8
  dry_run: true
  max_delete_fraction: 0.5
  retry: {max_attempts: 3, initial_backoff: 250ms, max_backoff: 2m}
  settle_period: 500ms
  hold_confirm_period: 15m
listen: 0.0.0.0:9100
log: {level: debug, format: json}
)";
  const Config c = parse_config(text, kFile);
  EXPECT_EQ(c.cloudflare.api_base, "https://cf.example.com/client/v4");
  EXPECT_EQ(c.cloudflare.api_flavor, ApiFlavor::kOriginV2);
  ASSERT_TRUE(c.cloudflare.token_file.has_value());
  EXPECT_EQ(*c.cloudflare.token_file, fs::path("/run/secrets/cf-token"));
  EXPECT_EQ(c.cloudflare.request_timeout, Millis{45000});
  EXPECT_DOUBLE_EQ(c.cloudflare.requests_per_second, 2.5);
  EXPECT_EQ(c.cloudflare.page_size, 50);
  EXPECT_DOUBLE_EQ(c.cloudflare.budget_headroom, 0.2);
  EXPECT_EQ(c.reconcile.desired_state, fs::path("/srv/desired.yaml"));
  EXPECT_EQ(c.reconcile.interval, Millis{300000});
  EXPECT_EQ(c.reconcile.batch_size, 20);
  EXPECT_EQ(c.reconcile.concurrency, 8);
  EXPECT_TRUE(c.reconcile.dry_run);
  EXPECT_DOUBLE_EQ(c.reconcile.max_delete_fraction, 0.5);
  EXPECT_EQ(c.reconcile.retry.max_attempts, 3);
  EXPECT_EQ(c.reconcile.retry.initial_backoff, Millis{250});
  EXPECT_EQ(c.reconcile.retry.max_backoff, Millis{120000});
  EXPECT_EQ(c.reconcile.settle_period, Millis{500});
  EXPECT_EQ(c.reconcile.hold_confirm_period, Millis{900000});
  EXPECT_EQ(c.listen.host, "0.0.0.0");
  EXPECT_EQ(c.listen.port, 9100);
  EXPECT_EQ(c.log.level, LogLevel::kDebug);
  EXPECT_EQ(c.log.format, LogFormat::kJson);
}

TEST(ParseConfig, AWholeDaemonFreezeNeedsAReason) {
  EXPECT_EQ(parse_config("", kFile).reconcile.suspend, std::nullopt);
  const Config c = parse_config(
      "reconcile:\n  suspend: {reason: \"change freeze\", until: 2026-12-27T08:00:00Z}\n", kFile);
  ASSERT_TRUE(c.reconcile.suspend);
  EXPECT_EQ(c.reconcile.suspend->reason, "change freeze");
  EXPECT_EQ(c.reconcile.suspend->until, parse_utc("2026-12-27T08:00:00Z"));
  EXPECT_EQ(parse_config("reconcile: {suspend: {reason: x}}\n", kFile).reconcile.suspend->until,
            std::nullopt);
  EXPECT_EQ(parse_error("reconcile:\n  suspend: {until: 2026-12-27T08:00:00Z}\n"),
            std::string(kFile) +
                ":2: reconcile.suspend: needs a reason (suspend: {reason: \"...\", until: "
                "\"2026-12-24T00:00:00Z\"})");
  EXPECT_EQ(parse_error("reconcile:\n  suspend: {reason: x, until: soon}\n"),
            std::string(kFile) +
                ":2: reconcile.suspend.until: must be an RFC 3339 time like 2026-12-24T00:00:00Z "
                "or 2026-12-24T01:00:00+01:00: the date must be YYYY-MM-DD (got 'soon')");
  EXPECT_EQ(parse_error("reconcile:\n  suspend: {reason: x, until: 2026-12-27T25:00:00Z}\n"),
            std::string(kFile) +
                ":2: reconcile.suspend.until: must be an RFC 3339 time like 2026-12-24T00:00:00Z "
                "or 2026-12-24T01:00:00+01:00: hour 25 is not 00 to 23 (got "
                "'2026-12-27T25:00:00Z')");
  // An offset, and fractional seconds, as RFC 3339 writes them.
  EXPECT_EQ(
      parse_config("reconcile: {suspend: {reason: x, until: 2026-12-27T09:00:00.5+01:00}}\n", kFile)
          .reconcile.suspend->until,
      *parse_utc("2026-12-27T08:00:00Z") + std::chrono::milliseconds(500));
}

TEST(ParseConfig, KeysLeftOutKeepTheirDefaults) {
  const Config c = parse_config("reconcile: {retry: {max_attempts: 2}}\n", kFile);
  EXPECT_EQ(c.reconcile.retry.max_attempts, 2);
  EXPECT_EQ(c.reconcile.retry.initial_backoff, Millis{1000});
  EXPECT_EQ(c.reconcile.retry.max_backoff, Millis{60000});
  EXPECT_EQ(c.reconcile.batch_size, 100);
  EXPECT_EQ(c.cloudflare.page_size, 100);
}

TEST(ApiFlavor, OnlyTheRetiredGenerationIsWarnedAbout) {
  EXPECT_EQ(api_flavor_warning(parse_config("", kFile)), "");
  EXPECT_EQ(api_flavor_warning(parse_config("cloudflare: {api_flavor: origin-v2}", kFile)), "");
  const std::string warning =
      api_flavor_warning(parse_config("cloudflare: {api_flavor: cache-v1}", kFile));
  EXPECT_NE(warning.find(fs::path(kFile).string()), std::string::npos) << warning;
  EXPECT_NE(warning.find("end of life"), std::string::npos) << warning;
  EXPECT_NE(warning.find("2026-10-01"), std::string::npos) << warning;
  EXPECT_NE(warning.find("api_flavor: origin-v2"), std::string::npos) << warning;
}

TEST(ApiFlavor, ToString) {
  EXPECT_EQ(to_string(ApiFlavor::kCacheV1), "cache-v1");
  EXPECT_EQ(to_string(ApiFlavor::kOriginV2), "origin-v2");
}

// ---------------------------------------------------------------------------------------------
// Accepted values, including every range boundary.

struct AcceptCase {
  const char* yaml;
  void (*check)(const Config&);
};

void PrintTo(const AcceptCase& c, std::ostream* os) {
  *os << c.yaml;
}

class ConfigAccepts : public ::testing::TestWithParam<AcceptCase> {};

TEST_P(ConfigAccepts, Parses) {
  const auto& c = GetParam();
  SCOPED_TRACE(c.yaml);
  Config config;
  ASSERT_NO_THROW(config = parse_config(c.yaml, kFile)) << parse_error(c.yaml);
  c.check(config);
}

INSTANTIATE_TEST_SUITE_P(Boundaries, ConfigAccepts,
                         ::testing::Values(AcceptCase{"cloudflare: {request_timeout: 1s}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.cloudflare.request_timeout,
                                                                  Millis{1000});
                                                      }},
                                           AcceptCase{"cloudflare: {request_timeout: 1000ms}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.cloudflare.request_timeout,
                                                                  Millis{1000});
                                                      }},
                                           AcceptCase{"cloudflare: {request_timeout: 10m}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.cloudflare.request_timeout,
                                                                  Millis{600000});
                                                      }},
                                           AcceptCase{"cloudflare: {requests_per_second: 0.01}",
                                                      [](const Config& c) {
                                                        EXPECT_DOUBLE_EQ(
                                                            c.cloudflare.requests_per_second,
                                                            0.01);
                                                      }},
                                           AcceptCase{"reconcile: {settle_period: 100ms}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.settle_period,
                                                                  Millis{100});
                                                      }},
                                           AcceptCase{"reconcile: {settle_period: 10m}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.settle_period,
                                                                  Millis{600000});
                                                      }},
                                           AcceptCase{"reconcile: {hold_confirm_period: 1s}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.hold_confirm_period,
                                                                  Millis{1000});
                                                      }},
                                           AcceptCase{"reconcile: {hold_confirm_period: 24h}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.hold_confirm_period,
                                                                  Millis{86400000});
                                                      }},
                                           AcceptCase{"cloudflare: {requests_per_second: 1000}",
                                                      [](const Config& c) {
                                                        EXPECT_DOUBLE_EQ(
                                                            c.cloudflare.requests_per_second, 1000);
                                                      }},
                                           AcceptCase{"cloudflare: {requests_per_second: 1e2}",
                                                      [](const Config& c) {
                                                        EXPECT_DOUBLE_EQ(
                                                            c.cloudflare.requests_per_second, 100);
                                                      }},
                                           AcceptCase{"cloudflare: {page_size: 1}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.cloudflare.page_size, 1);
                                                      }},
                                           AcceptCase{"cloudflare: {page_size: 100}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.cloudflare.page_size, 100);
                                                      }},
                                           AcceptCase{"reconcile: {interval: 1s}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.interval,
                                                                  Millis{1000});
                                                      }},
                                           AcceptCase{"reconcile: {interval: 24h}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.interval,
                                                                  Millis{86400000});
                                                      }},
                                           AcceptCase{"reconcile: {interval: '30s'}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.interval,
                                                                  Millis{30000});
                                                      }},
                                           AcceptCase{"reconcile: {batch_size: 1}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.batch_size, 1);
                                                      }},
                                           AcceptCase{"reconcile: {batch_size: 100}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.batch_size, 100);
                                                      }},
                                           AcceptCase{"reconcile: {concurrency: 1}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.concurrency, 1);
                                                      }},
                                           AcceptCase{"reconcile: {concurrency: 64}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.concurrency, 64);
                                                      }},
                                           AcceptCase{"reconcile: {dry_run: false}",
                                                      [](const Config& c) {
                                                        EXPECT_FALSE(c.reconcile.dry_run);
                                                      }},
                                           AcceptCase{"reconcile: {dry_run: true}",
                                                      [](const Config& c) {
                                                        EXPECT_TRUE(c.reconcile.dry_run);
                                                      }},
                                           AcceptCase{"reconcile: {max_delete_fraction: 0}",
                                                      [](const Config& c) {
                                                        EXPECT_DOUBLE_EQ(
                                                            c.reconcile.max_delete_fraction, 0);
                                                      }},
                                           AcceptCase{"reconcile: {max_delete_fraction: 1}",
                                                      [](const Config& c) {
                                                        EXPECT_DOUBLE_EQ(
                                                            c.reconcile.max_delete_fraction, 1);
                                                      }},
                                           AcceptCase{"reconcile: {max_delete_fraction: 1.0}",
                                                      [](const Config& c) {
                                                        EXPECT_DOUBLE_EQ(
                                                            c.reconcile.max_delete_fraction, 1);
                                                      }},
                                           AcceptCase{"reconcile: {policy: sync}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.policy,
                                                                  Policy::kSync);
                                                      }},
                                           AcceptCase{"reconcile: {policy: prune}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.policy,
                                                                  Policy::kPrune);
                                                      }},
                                           AcceptCase{"reconcile: {max_update_fraction: 0}",
                                                      [](const Config& c) {
                                                        EXPECT_DOUBLE_EQ(
                                                            c.reconcile.max_update_fraction, 0);
                                                      }},
                                           AcceptCase{"reconcile: {max_update_fraction: 1}",
                                                      [](const Config& c) {
                                                        EXPECT_DOUBLE_EQ(
                                                            c.reconcile.max_update_fraction, 1);
                                                      }},
                                           AcceptCase{"reconcile: {retry: {max_attempts: 1}}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.retry.max_attempts,
                                                                  1);
                                                      }},
                                           AcceptCase{"reconcile: {retry: {max_attempts: 20}}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.retry.max_attempts,
                                                                  20);
                                                      }},
                                           AcceptCase{"reconcile: {retry: {initial_backoff: 1ms}}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.retry.initial_backoff,
                                                                  Millis{1});
                                                      }},
                                           AcceptCase{"reconcile: {retry: {initial_backoff: 2s, "
                                                      "max_backoff: 2s}}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.retry.initial_backoff,
                                                                  Millis{2000});
                                                        EXPECT_EQ(c.reconcile.retry.max_backoff,
                                                                  Millis{2000});
                                                      }},
                                           AcceptCase{"reconcile: {retry: {max_backoff: 1h}}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.retry.max_backoff,
                                                                  Millis{3600000});
                                                      }},
                                           AcceptCase{"reconcile: {retry: {initial_backoff: 1h, "
                                                      "max_backoff: 1h}}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.retry.initial_backoff,
                                                                  Millis{3600000});
                                                      }},
                                           // The default initial_backoff (1s) is the lowest
                                           // max_backoff allowed on its own.
                                           AcceptCase{"reconcile: {retry: {max_backoff: 1s}}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.reconcile.retry.max_backoff,
                                                                  Millis{1000});
                                                      }},
                                           AcceptCase{"listen: 127.0.0.1:0",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.listen.host, "127.0.0.1");
                                                        EXPECT_EQ(c.listen.port, 0);
                                                      }},
                                           AcceptCase{"listen: 127.0.0.1:65535",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.listen.port, 65535);
                                                      }},
                                           AcceptCase{"listen: '[::1]:9464'",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.listen.host, "::1");
                                                        EXPECT_EQ(c.listen.port, 9464);
                                                      }},
                                           AcceptCase{"listen: '[2001:DB8::1]:80'",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.listen.host, "2001:db8::1");
                                                        EXPECT_EQ(c.listen.port, 80);
                                                      }},
                                           AcceptCase{"listen: localhost:9464",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.listen.host, "localhost");
                                                        EXPECT_EQ(c.listen.port, 9464);
                                                      }},
                                           AcceptCase{"cloudflare: {api_flavor: cache-v1}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.cloudflare.api_flavor,
                                                                  ApiFlavor::kCacheV1);
                                                      }},
                                           AcceptCase{
                                               "log: {level: trace}",
                                               [](const Config&
                                                      c) { EXPECT_EQ(c.log.level, LogLevel::kTrace); }},
                                           AcceptCase{
                                               "log: {level: warn}",
                                               [](const Config&
                                                      c) { EXPECT_EQ(c.log.level, LogLevel::kWarn); }},
                                           AcceptCase{
                                               "log: {level: error}",
                                               [](const Config&
                                                      c) { EXPECT_EQ(c.log.level, LogLevel::kError); }},
                                           AcceptCase{"log: {format: text}", [](const Config& c) {
                                                        EXPECT_EQ(c.log.format, LogFormat::kText);
                                                      }},
                                           AcceptCase{"log: {format: journal}",
                                                      [](const Config& c) {
                                                        EXPECT_EQ(c.log.format,
                                                                  LogFormat::kJournal);
                                                      }},
                                           AcceptCase{"log: {format: auto}", [](const Config& c) {
                                                        EXPECT_EQ(c.log.format, LogFormat::kAuto);
                                                      }}));

// ---------------------------------------------------------------------------------------------
// Rejected values: the whole message is checked.

struct RejectCase {
  const char* yaml;
  const char* key;   // dotted path in the message
  const char* what;  // what is wrong
  const char* got;   // the "(got ...)" clause content, nullptr when there is none
  int line = 1;
};

void PrintTo(const RejectCase& c, std::ostream* os) {
  *os << c.yaml;
}

class ConfigRejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(ConfigRejects, WithExactMessage) {
  const auto& c = GetParam();
  std::string expected =
      std::string(kFile) + ":" + std::to_string(c.line) + ": " + c.key + ": " + c.what;
  if (c.got != nullptr) expected += std::string(" (got ") + c.got + ")";
  EXPECT_EQ(parse_error(c.yaml), expected) << c.yaml;
}

constexpr const char* kDurationWhat = "not a duration like 500ms, 30s, 5m or 1h";

INSTANTIATE_TEST_SUITE_P(
    OnePastBoundaries, ConfigRejects,
    ::testing::Values(
        RejectCase{"cloudflare: {request_timeout: 999ms}", "cloudflare.request_timeout",
                   "must be between 1s and 10m", "'999ms'"},
        RejectCase{"cloudflare: {request_timeout: 600001ms}", "cloudflare.request_timeout",
                   "must be between 1s and 10m", "'600001ms'"},
        RejectCase{"cloudflare: {request_timeout: 0s}", "cloudflare.request_timeout",
                   "must be between 1s and 10m", "'0s'"},
        RejectCase{"cloudflare: {requests_per_second: 0}", "cloudflare.requests_per_second",
                   "0 (no client-side budget) is only allowed with an http:// api_base on "
                   "loopback",
                   "'0'"},
        RejectCase{"cloudflare: {requests_per_second: -1}", "cloudflare.requests_per_second",
                   "must be between 0.01 and 1000", "'-1'"},
        RejectCase{"cloudflare: {requests_per_second: 1000.001}", "cloudflare.requests_per_second",
                   "must be between 0.01 and 1000", "'1000.001'"},
        // Tiny rates used to overflow the limiter's wait into no limit at all.
        RejectCase{"cloudflare: {requests_per_second: 0.0099}", "cloudflare.requests_per_second",
                   "must be between 0.01 and 1000", "'0.0099'"},
        RejectCase{"cloudflare: {requests_per_second: 1e-300}", "cloudflare.requests_per_second",
                   "must be between 0.01 and 1000", "'1e-300'"},
        RejectCase{"cloudflare: {requests_per_second: 4.9e-324}", "cloudflare.requests_per_second",
                   "must be between 0.01 and 1000", "'4.9e-324'"},
        RejectCase{"reconcile: {settle_period: 99ms}", "reconcile.settle_period",
                   "must be between 100ms and 10m", "'99ms'"},
        RejectCase{"reconcile: {settle_period: 0s}", "reconcile.settle_period",
                   "must be between 100ms and 10m", "'0s'"},
        RejectCase{"reconcile: {settle_period: 601s}", "reconcile.settle_period",
                   "must be between 100ms and 10m", "'601s'"},
        RejectCase{"reconcile: {hold_confirm_period: 999ms}", "reconcile.hold_confirm_period",
                   "must be between 1s and 24h", "'999ms'"},
        RejectCase{"reconcile: {hold_confirm_period: 25h}", "reconcile.hold_confirm_period",
                   "must be between 1s and 24h", "'25h'"},
        RejectCase{"cloudflare: {budget_headroom: -0.01}", "cloudflare.budget_headroom",
                   "must be between 0 and 0.9", "'-0.01'"},
        RejectCase{"cloudflare: {budget_headroom: 0.91}", "cloudflare.budget_headroom",
                   "must be between 0 and 0.9", "'0.91'"},
        RejectCase{"cloudflare: {budget_headroom: 5%}", "cloudflare.budget_headroom",
                   "must be a number", "'5%'"},
        RejectCase{"cloudflare: {page_size: 0}", "cloudflare.page_size",
                   "must be between 1 and 100", "'0'"},
        RejectCase{"cloudflare: {page_size: 101}", "cloudflare.page_size",
                   "must be between 1 and 100", "'101'"},
        RejectCase{"reconcile: {interval: 999ms}", "reconcile.interval",
                   "must be between 1s and 24h", "'999ms'"},
        RejectCase{"reconcile: {interval: 86400001ms}", "reconcile.interval",
                   "must be between 1s and 24h", "'86400001ms'"},
        RejectCase{"reconcile: {interval: 25h}", "reconcile.interval", "must be between 1s and 24h",
                   "'25h'"},
        RejectCase{"reconcile: {batch_size: 0}", "reconcile.batch_size",
                   "must be between 1 and 100", "'0'"},
        RejectCase{"reconcile: {batch_size: 101}", "reconcile.batch_size",
                   "must be between 1 and 100", "'101'"},
        RejectCase{"reconcile: {batch_size: -5}", "reconcile.batch_size",
                   "must be between 1 and 100", "'-5'"},
        RejectCase{"reconcile: {batch_size: 99999999999999999999}", "reconcile.batch_size",
                   "must be between 1 and 100", "'99999999999999999999'"},
        RejectCase{"reconcile: {concurrency: 0}", "reconcile.concurrency",
                   "must be between 1 and 64", "'0'"},
        RejectCase{"reconcile: {concurrency: 65}", "reconcile.concurrency",
                   "must be between 1 and 64", "'65'"},
        RejectCase{"reconcile: {max_delete_fraction: -0.001}", "reconcile.max_delete_fraction",
                   "must be between 0 and 1", "'-0.001'"},
        RejectCase{"reconcile: {max_delete_fraction: 1.001}", "reconcile.max_delete_fraction",
                   "must be between 0 and 1", "'1.001'"},
        RejectCase{"reconcile: {max_delete_fraction: nan}", "reconcile.max_delete_fraction",
                   "must be a number", "'nan'"},
        RejectCase{"reconcile: {max_delete_fraction: .inf}", "reconcile.max_delete_fraction",
                   "must be a number", "'.inf'"},
        RejectCase{"reconcile: {policy: upsert-only}", "reconcile.policy", "must be prune or sync",
                   "'upsert-only'"},
        RejectCase{"reconcile: {policy: Sync}", "reconcile.policy", "must be prune or sync",
                   "'Sync'"},
        RejectCase{"reconcile: {max_update_fraction: 1.5}", "reconcile.max_update_fraction",
                   "must be between 0 and 1", "'1.5'"},
        RejectCase{"reconcile: {max_update_fraction: -1}", "reconcile.max_update_fraction",
                   "must be between 0 and 1", "'-1'"},
        RejectCase{"reconcile: {retry: {max_attempts: 0}}", "reconcile.retry.max_attempts",
                   "must be between 1 and 20", "'0'"},
        RejectCase{"reconcile: {retry: {max_attempts: 21}}", "reconcile.retry.max_attempts",
                   "must be between 1 and 20", "'21'"},
        RejectCase{"reconcile: {retry: {initial_backoff: 0ms}}", "reconcile.retry.initial_backoff",
                   "must be between 1ms and 1h", "'0ms'"},
        RejectCase{"reconcile: {retry: {max_backoff: 3600001ms}}", "reconcile.retry.max_backoff",
                   "must be between 1ms and 1h", "'3600001ms'"},
        RejectCase{"reconcile: {retry: {initial_backoff: 2s, max_backoff: 1999ms}}",
                   "reconcile.retry.max_backoff",
                   "must be at least reconcile.retry.initial_backoff (2s)", "'1999ms'"},
        // Only initial_backoff written: it is the one blamed against the default max_backoff.
        RejectCase{"reconcile: {retry: {initial_backoff: 61s}}", "reconcile.retry.initial_backoff",
                   "must be at most reconcile.retry.max_backoff (1m)", "'61s'"},
        RejectCase{"reconcile: {retry: {max_backoff: 999ms}}", "reconcile.retry.max_backoff",
                   "must be at least reconcile.retry.initial_backoff (1s)", "'999ms'"},
        RejectCase{"listen: 127.0.0.1:65536", "listen", "port must be a number 0..65535",
                   "'127.0.0.1:65536'"}));

INSTANTIATE_TEST_SUITE_P(
    UnknownKeys, ConfigRejects,
    ::testing::Values(RejectCase{"cloudflarex: {}", "cloudflarex", "unknown key", nullptr},
                      RejectCase{"cloudflare: {api_flavorx: cache-v1}", "cloudflare.api_flavorx",
                                 "unknown key", nullptr},
                      RejectCase{"reconcile: {batchsize: 10}", "reconcile.batchsize", "unknown key",
                                 nullptr},
                      RejectCase{"reconcile: {retry: {max_attempt: 3}}",
                                 "reconcile.retry.max_attempt", "unknown key", nullptr},
                      RejectCase{"log: {levle: info}", "log.levle", "unknown key", nullptr},
                      RejectCase{"reconcile:\n  interval: 30s\n  dryrun: true\n",
                                 "reconcile.dryrun", "unknown key", nullptr, 3},
                      // Keys are case-sensitive.
                      RejectCase{"Reconcile: {}", "Reconcile", "unknown key", nullptr},
                      // A repeated key would silently hide one of the two values.
                      RejectCase{"reconcile:\n  batch_size: 1\n  batch_size: 2\n",
                                 "reconcile.batch_size", "appears twice", nullptr, 3}));

INSTANTIATE_TEST_SUITE_P(
    WrongTypes, ConfigRejects,
    ::testing::Values(
        RejectCase{"- a\n- b\n", "top level", "must be a map", "a sequence"},
        RejectCase{"hello", "top level", "must be a map", "'hello'"},
        RejectCase{"cloudflare: []", "cloudflare", "must be a map", "a sequence"},
        RejectCase{"log: info", "log", "must be a map", "'info'"},
        RejectCase{"reconcile: {retry: 3}", "reconcile.retry", "must be a map", "'3'"},
        RejectCase{"reconcile: {batch_size: abc}", "reconcile.batch_size", "must be a whole number",
                   "'abc'"},
        RejectCase{"reconcile: {batch_size: 1.5}", "reconcile.batch_size", "must be a whole number",
                   "'1.5'"},
        RejectCase{"reconcile: {batch_size: 0x10}", "reconcile.batch_size",
                   "must be a whole number", "'0x10'"},
        RejectCase{"reconcile: {batch_size: {a: 1}}", "reconcile.batch_size",
                   "must be a whole number", "a map"},
        RejectCase{"reconcile: {batch_size: [1]}", "reconcile.batch_size", "must be a whole number",
                   "a sequence"},
        RejectCase{"reconcile: {batch_size: ~}", "reconcile.batch_size", "must be a whole number",
                   "nothing"},
        RejectCase{"reconcile: {batch_size: '10'}", "reconcile.batch_size",
                   "must be a whole number, not a quoted string", "'10'"},
        RejectCase{"cloudflare: {requests_per_second: fast}", "cloudflare.requests_per_second",
                   "must be a number", "'fast'"},
        RejectCase{"cloudflare: {requests_per_second: 4/s}", "cloudflare.requests_per_second",
                   "must be a number", "'4/s'"},
        RejectCase{"reconcile: {dry_run: yes}", "reconcile.dry_run", "must be true or false",
                   "'yes'"},
        RejectCase{"reconcile: {dry_run: no}", "reconcile.dry_run", "must be true or false",
                   "'no'"},
        RejectCase{"reconcile: {dry_run: True}", "reconcile.dry_run", "must be true or false",
                   "'True'"},
        RejectCase{"reconcile: {dry_run: 1}", "reconcile.dry_run", "must be true or false", "'1'"},
        RejectCase{"reconcile: {dry_run: on}", "reconcile.dry_run", "must be true or false",
                   "'on'"},
        RejectCase{"reconcile: {dry_run: 'true'}", "reconcile.dry_run",
                   "must be true or false, not a quoted string", "'true'"},
        RejectCase{"reconcile: {dry_run: }", "reconcile.dry_run", "must be true or false",
                   "nothing"},
        RejectCase{"cloudflare: {api_base: [https://x]}", "cloudflare.api_base",
                   "must be an http:// or https:// URL", "a sequence"},
        RejectCase{"cloudflare: {api_flavor: cache-v2}", "cloudflare.api_flavor",
                   "must be cache-v1 or origin-v2", "'cache-v2'"},
        RejectCase{"cloudflare: {token_file: ''}", "cloudflare.token_file", "must not be empty",
                   "''"},
        RejectCase{"cloudflare: {token_file: {path: x}}", "cloudflare.token_file",
                   "must be a file path", "a map"},
        RejectCase{"reconcile: {desired_state: ''}", "reconcile.desired_state", "must not be empty",
                   "''"},
        RejectCase{"log: {level: verbose}", "log.level",
                   "must be trace, debug, info, warn or error", "'verbose'"},
        RejectCase{"log: {level: INFO}", "log.level", "must be trace, debug, info, warn or error",
                   "'INFO'"},
        RejectCase{"log: {format: xml}", "log.format", "must be auto, text, json or journal",
                   "'xml'"}));

INSTANTIATE_TEST_SUITE_P(
    Durations, ConfigRejects,
    ::testing::Values(
        RejectCase{"reconcile: {interval: 30 seconds}", "reconcile.interval", kDurationWhat,
                   "'30 seconds'"},
        RejectCase{"reconcile: {interval: 60}", "reconcile.interval", kDurationWhat, "'60'"},
        RejectCase{"reconcile: {interval: 1m30s}", "reconcile.interval", kDurationWhat, "'1m30s'"},
        RejectCase{"reconcile: {interval: 1.5s}", "reconcile.interval", kDurationWhat, "'1.5s'"},
        RejectCase{"reconcile: {interval: -1s}", "reconcile.interval", kDurationWhat, "'-1s'"},
        RejectCase{"reconcile: {interval: 1d}", "reconcile.interval", kDurationWhat, "'1d'"},
        RejectCase{"reconcile: {interval: ' 1s'}", "reconcile.interval", kDurationWhat, "' 1s'"},
        RejectCase{"reconcile: {interval: ''}", "reconcile.interval", kDurationWhat, "''"},
        RejectCase{"reconcile: {interval: {}}", "reconcile.interval", kDurationWhat, "a map"},
        RejectCase{"reconcile: {interval: 99999999999999999999h}", "reconcile.interval",
                   kDurationWhat, "'99999999999999999999h'"},
        RejectCase{"cloudflare: {request_timeout: 30}", "cloudflare.request_timeout", kDurationWhat,
                   "'30'"},
        RejectCase{"reconcile: {retry: {initial_backoff: 1sec}}", "reconcile.retry.initial_backoff",
                   kDurationWhat, "'1sec'"},
        RejectCase{"reconcile: {retry: {max_backoff: 1 h}}", "reconcile.retry.max_backoff",
                   kDurationWhat, "'1 h'"}));

constexpr const char* kHttpWhat =
    "must use https:// (plain http:// is only allowed for a loopback host: 127.x.x.x, "
    "localhost or [::1]; the API token must not travel in clear text)";

INSTANTIATE_TEST_SUITE_P(
    ApiBase, ConfigRejects,
    ::testing::Values(
        RejectCase{"cloudflare: {api_base: 'http://api.cloudflare.com/client/v4'}",
                   "cloudflare.api_base", kHttpWhat, "'http://api.cloudflare.com/client/v4'"},
        RejectCase{"cloudflare: {api_base: 'http://10.0.0.1:8080'}", "cloudflare.api_base",
                   kHttpWhat, "'http://10.0.0.1:8080'"},
        // Looks like loopback, is not.
        RejectCase{"cloudflare: {api_base: 'http://127.0.0.1.nip.io'}", "cloudflare.api_base",
                   kHttpWhat, "'http://127.0.0.1.nip.io'"},
        RejectCase{"cloudflare: {api_base: 'http://localhost.example.com'}", "cloudflare.api_base",
                   kHttpWhat, "'http://localhost.example.com'"},
        RejectCase{"cloudflare: {api_base: 'http://[::2]:80'}", "cloudflare.api_base", kHttpWhat,
                   "'http://[::2]:80'"},
        RejectCase{"cloudflare: {api_base: 'http://[::ffff:127.0.0.1]'}", "cloudflare.api_base",
                   kHttpWhat, "'http://[::ffff:127.0.0.1]'"},
        RejectCase{"cloudflare: {api_base: 'http://127.0.0.1@evil.example'}", "cloudflare.api_base",
                   "must not contain user information (credentials never go into the URL)",
                   "'http://127.0.0.1@evil.example'"},
        RejectCase{"cloudflare: {api_base: 'https://user:pw@api.example'}", "cloudflare.api_base",
                   "must not contain user information (credentials never go into the URL)",
                   "'https://user:pw@api.example'"},
        RejectCase{"cloudflare: {api_base: 'ftp://api.example'}", "cloudflare.api_base",
                   "must be an http:// or https:// URL", "'ftp://api.example'"},
        RejectCase{"cloudflare: {api_base: api.cloudflare.com/client/v4}", "cloudflare.api_base",
                   "must be an http:// or https:// URL", "'api.cloudflare.com/client/v4'"},
        RejectCase{"cloudflare: {api_base: 'https://'}", "cloudflare.api_base",
                   "must be a URL with a valid host", "'https://'"},
        RejectCase{"cloudflare: {api_base: 'https:///client/v4'}", "cloudflare.api_base",
                   "must be a URL with a valid host", "'https:///client/v4'"},
        RejectCase{"cloudflare: {api_base: 'https://[2001:db8::1'}", "cloudflare.api_base",
                   "must be a URL with a valid host", "'https://[2001:db8::1'"},
        RejectCase{"cloudflare: {api_base: 'https://api example.com'}", "cloudflare.api_base",
                   "must be a URL without spaces or control characters",
                   "'https://api example.com'"},
        RejectCase{"cloudflare: {api_base: 'https://api.example/v4?x=1'}", "cloudflare.api_base",
                   "must be a URL without a query or fragment", "'https://api.example/v4?x=1'"},
        RejectCase{"cloudflare: {api_base: 'https://api.example:0'}", "cloudflare.api_base",
                   "must be a URL with a port 1..65535", "'https://api.example:0'"},
        RejectCase{"cloudflare: {api_base: 'https://api.example:65536'}", "cloudflare.api_base",
                   "must be a URL with a port 1..65535", "'https://api.example:65536'"},
        RejectCase{"cloudflare: {api_base: 'https://api.example:x'}", "cloudflare.api_base",
                   "must be a URL with a port 1..65535", "'https://api.example:x'"}));

INSTANTIATE_TEST_SUITE_P(
    Listen, ConfigRejects,
    ::testing::Values(
        RejectCase{"listen: 9464", "listen",
                   "must be host:port or [ipv6]:port, e.g. 127.0.0.1:9464 or [::1]:9464", "'9464'"},
        RejectCase{"listen: '::1:9464'", "listen",
                   "an IPv6 host must be written in brackets, e.g. [::1]:9464", "'::1:9464'"},
        RejectCase{"listen: '[::1]9464'", "listen",
                   "must be host:port or [ipv6]:port, e.g. 127.0.0.1:9464 or [::1]:9464",
                   "'[::1]9464'"},
        RejectCase{"listen: '[127.0.0.1]:9464'", "listen", "host must be an IPv6 address in []",
                   "'[127.0.0.1]:9464'"},
        RejectCase{"listen: example.com:9464", "listen",
                   "host must be an IP address or localhost, e.g. 127.0.0.1:9464",
                   "'example.com:9464'"},
        RejectCase{"listen: ':9464'", "listen",
                   "host must be an IP address or localhost, e.g. 127.0.0.1:9464", "':9464'"},
        RejectCase{"listen: '127.0.0.1:'", "listen", "port must be a number 0..65535",
                   "'127.0.0.1:'"},
        RejectCase{"listen: '127.0.0.1:-1'", "listen", "port must be a number 0..65535",
                   "'127.0.0.1:-1'"},
        RejectCase{"listen: '127.0.0.1:http'", "listen", "port must be a number 0..65535",
                   "'127.0.0.1:http'"},
        RejectCase{"listen: {host: x}", "listen", "must be host:port", "a map"}));

// ---------------------------------------------------------------------------------------------
// api_base normalization.

struct ApiBaseCase {
  const char* value;
  const char* normalized;
};

void PrintTo(const ApiBaseCase& c, std::ostream* os) {
  *os << c.value;
}

class ApiBaseAccepts : public ::testing::TestWithParam<ApiBaseCase> {};

TEST_P(ApiBaseAccepts, DropsTrailingSlashes) {
  const auto& c = GetParam();
  const std::string yaml = std::string("cloudflare: {api_base: '") + c.value + "'}";
  Config config;
  ASSERT_NO_THROW(config = parse_config(yaml, kFile)) << parse_error(yaml);
  EXPECT_EQ(config.cloudflare.api_base, c.normalized);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ApiBaseAccepts,
    ::testing::Values(
        ApiBaseCase{"https://api.cloudflare.com/client/v4", "https://api.cloudflare.com/client/v4"},
        ApiBaseCase{"https://api.cloudflare.com/client/v4/",
                    "https://api.cloudflare.com/client/v4"},
        ApiBaseCase{"https://api.cloudflare.com/client/v4///",
                    "https://api.cloudflare.com/client/v4"},
        ApiBaseCase{"https://api.example", "https://api.example"},
        ApiBaseCase{"https://api.example/", "https://api.example"},
        ApiBaseCase{"https://api.example:8443/x", "https://api.example:8443/x"},
        ApiBaseCase{"https://[2001:db8::1]:8443/v4", "https://[2001:db8::1]:8443/v4"},
        ApiBaseCase{"HTTPS://api.example", "HTTPS://api.example"},
        // Plain http only to loopback.
        ApiBaseCase{"http://127.0.0.1:8080/client/v4/", "http://127.0.0.1:8080/client/v4"},
        ApiBaseCase{"http://127.255.0.9", "http://127.255.0.9"},
        ApiBaseCase{"http://localhost:9000", "http://localhost:9000"},
        ApiBaseCase{"http://LocalHost:9000", "http://LocalHost:9000"},
        ApiBaseCase{"http://[::1]:8080/x", "http://[::1]:8080/x"}));

// ---------------------------------------------------------------------------------------------
// Paths

TEST(ParseConfig, RelativePathsAreResolvedAgainstTheConfigDirectory) {
  const Config c = parse_config(
      "cloudflare: {token_file: secrets/cf-token}\nreconcile: {desired_state: ./state/d.yaml}\n",
      "/etc/orc/config.yaml");
  ASSERT_TRUE(c.cloudflare.token_file.has_value());
  EXPECT_EQ(*c.cloudflare.token_file, fs::path("/etc/orc/secrets/cf-token"));
  EXPECT_EQ(c.reconcile.desired_state, fs::path("/etc/orc/state/d.yaml"));

  const Config up = parse_config("cloudflare: {token_file: ../token}", "/etc/orc/config.yaml");
  EXPECT_EQ(*up.cloudflare.token_file, fs::path("/etc/token"));
}

TEST(ParseConfig, AbsolutePathsAreKept) {
  const Config c = parse_config(
      "cloudflare: {token_file: /run/secrets/t}\nreconcile: {desired_state: /srv/d.yaml}\n",
      "/etc/orc/config.yaml");
  EXPECT_EQ(*c.cloudflare.token_file, fs::path("/run/secrets/t"));
  EXPECT_EQ(c.reconcile.desired_state, fs::path("/srv/d.yaml"));
}

TEST(ParseConfig, RelativeConfigPathIsMadeAbsolute) {
  const fs::path cwd = fs::current_path();
  const Config c = parse_config("cloudflare: {token_file: t}", "conf/config.yaml");
  EXPECT_TRUE(c.path.is_absolute());
  EXPECT_EQ(c.path, (cwd / "conf/config.yaml").lexically_normal());
  EXPECT_EQ(*c.cloudflare.token_file, (cwd / "conf/t").lexically_normal());
  EXPECT_EQ(c.reconcile.desired_state, (cwd / "conf/desired.yaml").lexically_normal());
}

// ---------------------------------------------------------------------------------------------
// Message format details

TEST(ParseConfig, MessageNamesFileKeyAndValue) {
  const std::string msg = parse_error("# comment\ncloudflare: {}\nreconcile:\n  batch_size: 101\n",
                                      "/etc/origin-reconciler/config.yaml");
  EXPECT_EQ(msg,
            "/etc/origin-reconciler/config.yaml:4: reconcile.batch_size: must be between 1 and 100 "
            "(got '101')");
}

TEST(ParseConfig, MessageUsesThePathAsGiven) {
  const std::string msg = parse_error("reconcile: {interval: 30 seconds}", "config.yaml");
  EXPECT_EQ(msg,
            "config.yaml:1: reconcile.interval: not a duration like 500ms, 30s, 5m or 1h "
            "(got '30 seconds')");
}

TEST(ParseConfig, ControlCharactersAndLongValuesAreEscapedInMessages) {
  const std::string msg = parse_error("log: {level: \"in\\x1bfo\"}");
  EXPECT_THAT(msg, HasSubstr("(got 'in\\x1bfo')"));
  EXPECT_THAT(msg, Not(HasSubstr("\x1b")));

  const std::string long_value(1000, 'x');
  const std::string long_msg = parse_error("log: {level: " + long_value + "}");
  EXPECT_THAT(long_msg, HasSubstr("(got '" + std::string(120, 'x') + "...')"));
  EXPECT_LT(long_msg.size(), 300u);
}

TEST(ParseConfig, FirstErrorInDocumentOrderIsReported) {
  const std::string msg =
      parse_error("reconcile:\n  concurrency: 0\n  batch_size: 0\nlog: {level: x}\n");
  EXPECT_THAT(msg, StartsWith(std::string(kFile) + ":2: reconcile.concurrency: "));
}

struct SyntaxCase {
  const char* yaml;
  int line;
};

void PrintTo(const SyntaxCase& c, std::ostream* os) {
  *os << c.yaml;
}

class ConfigSyntaxError : public ::testing::TestWithParam<SyntaxCase> {};

TEST_P(ConfigSyntaxError, NamesFileAndLine) {
  const auto& c = GetParam();
  const std::string msg = parse_error(c.yaml);
  EXPECT_THAT(msg, StartsWith(std::string(kFile) + ":" + std::to_string(c.line) + ": column "));
  EXPECT_THAT(msg, HasSubstr(": invalid YAML: "));
}

INSTANTIATE_TEST_SUITE_P(Table, ConfigSyntaxError,
                         ::testing::Values(SyntaxCase{"reconcile: {batch_size: 1", 1},
                                           SyntaxCase{"reconcile:\n  a: 1\n b: [\n", 3},
                                           SyntaxCase{"log:\n  level: info\n  - x\n", 3},
                                           SyntaxCase{"a: *undefined\n", 1},
                                           SyntaxCase{"log: {level: info}\n\t- x\n", 2}));

TEST(ParseConfig, RejectsSeveralDocuments) {
  EXPECT_EQ(parse_error("log: {level: info}\n---\nlog: {level: debug}\n"),
            std::string(kFile) + ": holds 2 YAML documents; expected one");
}

// yaml-cpp 0.7 reads a stray ',' where a document starts as an endless run of empty documents
// (found by fuzzing: the parser looped until memory ran out). It is a syntax error.
TEST(ParseConfig, StrayCommaIsASyntaxErrorNotAnEndlessLoop) {
  EXPECT_EQ(parse_error(","), std::string(kFile) + ":1: column 1: invalid YAML: unexpected ','");
  EXPECT_EQ(parse_error("log: {level: info}\n---\n ,\n"),
            std::string(kFile) + ":3: column 2: invalid YAML: unexpected ','");
}

// The YAML library's own messages may quote the input: escaped like every value we show.
TEST(ParseConfig, ControlCharactersInYamlErrorsAreEscaped) {
  EXPECT_EQ(parse_error("log: \"\\\x01\"\n"),
            std::string(kFile) + ":1: column 9: invalid YAML: unknown escape character: \\x01");
}

// ---------------------------------------------------------------------------------------------
// Files and credentials

using testing::TempDirTest;

using LoadConfig = TempDirTest;

TEST_F(LoadConfig, ReadsTheFileAndResolvesPathsNextToIt) {
  const fs::path file = write("etc/config.yaml",
                              "reconcile:\n  desired_state: desired/zones.yaml\n  dry_run: true\n");
  const Config c = load_config(file);
  EXPECT_EQ(c.path, file);
  EXPECT_TRUE(c.reconcile.dry_run);
  EXPECT_EQ(c.reconcile.desired_state, dir_ / "etc/desired/zones.yaml");
}

TEST_F(LoadConfig, MissingFileNamesFileAndReason) {
  const fs::path file = dir_ / "nope.yaml";
  try {
    load_config(file);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": cannot read: No such file or directory");
  }
}

TEST_F(LoadConfig, DirectoryIsAnError) {
  try {
    load_config(dir_);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir_.string() + ": cannot read: is a directory, not a regular file");
  }
}

TEST_F(LoadConfig, FifoIsAnErrorNotAHang) {
  const fs::path fifo = dir_ / "config.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    load_config(fifo);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              fifo.string() + ": cannot read: is a FIFO, not a regular file");
  }
}

TEST_F(LoadConfig, ErrorsInTheFileNameIt) {
  const fs::path file = write("config.yaml", "log:\n  format: xml\n");
  try {
    load_config(file);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              file.string() + ":2: log.format: must be auto, text, json or journal (got 'xml')");
  }
}

// A fake environment: a plain function reading a static map.
std::map<std::string, std::string>& fake_env() {
  static std::map<std::string, std::string> env;
  return env;
}

const char* fake_getenv(const char* name) {
  const auto it = fake_env().find(name);
  return it == fake_env().end() ? nullptr : it->second.c_str();
}

constexpr const char* kSecret = "s3cr3t-TOKEN-value";
constexpr const char* kEmail = "ops@example.com";
constexpr const char* kKey = "gl0bal-KEY-value";

class ResolveCredentials : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    fake_env().clear();
    config_.path = dir_ / "config.yaml";
  }
  void TearDown() override {
    fake_env().clear();
    TempDirTest::TearDown();
  }

  // The error message; fails the test if there is none or if it leaks a secret.
  std::string error() {
    try {
      const Credentials c = resolve_credentials(config_, fake_getenv);
      ADD_FAILURE() << "no error; source " << c.source;
      return "";
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      for (const char* secret : {kSecret, kKey, "inner", "SECRET"}) {
        EXPECT_THAT(msg, Not(HasSubstr(secret)));
      }
      return msg;
    }
  }

  Config config_;
};

TEST_F(ResolveCredentials, TokenFileComesFirstAndIsTrimmed) {
  config_.cloudflare.token_file = write("token", std::string("  \t") + kSecret + "\r\n\n");
  fake_env()["CLOUDFLARE_API_TOKEN"] = "env-token";
  fake_env()["CLOUDFLARE_EMAIL"] = kEmail;
  fake_env()["CLOUDFLARE_API_KEY"] = kKey;
  const Credentials c = resolve_credentials(config_, fake_getenv);
  EXPECT_EQ(c.kind, Credentials::Kind::kToken);
  EXPECT_EQ(c.token, kSecret);
  EXPECT_EQ(c.source, "token_file " + (dir_ / "token").string());
  EXPECT_THAT(c.source, Not(HasSubstr(kSecret)));
}

TEST_F(ResolveCredentials, TokenFileFromParsedConfig) {
  write("secrets/token", std::string(kSecret) + "\n");
  const fs::path config_file = write("config.yaml", "cloudflare:\n  token_file: secrets/token\n");
  const Config config = load_config(config_file);
  const Credentials c = resolve_credentials(config, fake_getenv);
  EXPECT_EQ(c.token, kSecret);
  EXPECT_EQ(c.source, "token_file " + (dir_ / "secrets/token").string());
}

TEST_F(ResolveCredentials, MissingTokenFileIsAnErrorEvenWithEnvSet) {
  config_.cloudflare.token_file = dir_ / "missing";
  fake_env()["CLOUDFLARE_API_TOKEN"] = kSecret;
  EXPECT_EQ(error(), config_.path.string() + ": cloudflare.token_file: cannot read " +
                         (dir_ / "missing").string() + ": No such file or directory");
}

TEST_F(ResolveCredentials, EmptyTokenFileIsAnError) {
  for (const char* content : {"", "\n", "  \t\r\n"}) {
    config_.cloudflare.token_file = write("token", content);
    EXPECT_EQ(error(), config_.path.string() +
                           ": cloudflare.token_file: " + (dir_ / "token").string() + " is empty");
  }
}

TEST_F(ResolveCredentials, TokenFileWithControlCharactersIsAnErrorThatDoesNotShowIt) {
  for (const std::string& content :
       {std::string("SECRET\ninner\n"), std::string("SECRET\rinner"),
        std::string("SECRET\0inner", 12), std::string("SECRET\x1binner"),
        std::string("SECRET\tinner"), std::string("SECRET\x7finner")}) {
    config_.cloudflare.token_file = write("token", content);
    const std::string msg = error();
    EXPECT_THAT(msg, HasSubstr("cloudflare.token_file"));
    EXPECT_THAT(msg, HasSubstr((dir_ / "token").string()));
    EXPECT_THAT(msg, HasSubstr("control characters"));
  }
}

TEST_F(ResolveCredentials, TokenFileThatIsADirectoryIsAnError) {
  config_.cloudflare.token_file = dir_;
  EXPECT_EQ(error(), config_.path.string() + ": cloudflare.token_file: cannot read " +
                         dir_.string() + ": is a directory, not a regular file");
}

// A FIFO would block the read until a writer comes: refused at once instead.
TEST_F(ResolveCredentials, TokenFileThatIsAFifoIsAnErrorNotAHang) {
  const fs::path fifo = dir_ / "token";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  config_.cloudflare.token_file = fifo;
  EXPECT_EQ(error(), config_.path.string() + ": cloudflare.token_file: cannot read " +
                         fifo.string() + ": is a FIFO, not a regular file");
}

TEST_F(ResolveCredentials, TokenFileReadableByOthersIsAWarning) {
  config_.cloudflare.token_file = write("token", kSecret);
  fs::permissions(*config_.cloudflare.token_file, fs::perms::owner_read | fs::perms::owner_write |
                                                      fs::perms::group_read |
                                                      fs::perms::others_read);
  const Credentials c = resolve_credentials(config_, fake_getenv);
  EXPECT_EQ(c.token, kSecret);
  ASSERT_EQ(c.warnings.size(), 1u);
  const std::string path = (dir_ / "token").string();
  EXPECT_EQ(c.warnings[0], config_.path.string() + ": cloudflare.token_file " + path +
                               ": the token is readable by its group and every other user (mode "
                               "0644); let the daemon's user alone read it: chmod go-rwx " +
                               path);
  EXPECT_THAT(c.warnings[0], Not(HasSubstr(kSecret)));

  fs::permissions(*config_.cloudflare.token_file, fs::perms::owner_read);
  EXPECT_TRUE(resolve_credentials(config_, fake_getenv).warnings.empty());
}

TEST(TokenFileExposure, OthersAlwaysGroupOnlyWhenTheDaemonDoesNotReadThroughIt) {
  const ProcessIdentity self{1000, {1000, 27}};
  auto check = [&](unsigned mode, unsigned owner, unsigned group) {
    return token_file_exposure({mode, owner, group}, self, "cloudflare.token_file /t", "/t");
  };
  EXPECT_EQ(check(0100600, 1000, 1000), "");
  EXPECT_EQ(check(0100400, 1000, 1000), "");
  // The daemon owns it: the group needs no access.
  EXPECT_EQ(check(0100640, 1000, 1000),
            "cloudflare.token_file /t: the token is readable by its group, which the daemon "
            "does not need (mode 0640); let the daemon's user alone read it: chmod go-rwx /t");
  // A Kubernetes Secret with fsGroup: root:27 0440, the daemon reads it through group 27.
  EXPECT_EQ(check(0100440, 0, 27), "");
  // ... but not through a group it is not in.
  EXPECT_THAT(check(0100440, 0, 5), HasSubstr("readable by its group"));
  EXPECT_THAT(check(0100604, 1000, 1000), HasSubstr("readable by every other user (mode 0604)"));
  EXPECT_THAT(check(0100444, 0, 27), HasSubstr("readable by every other user (mode 0444)"));
  // Write or execute bits alone expose nothing to read.
  EXPECT_EQ(check(0100622, 1000, 1000), "");
}

// Runs as root too: a path below a plain file cannot be opened by anyone.
TEST_F(ResolveCredentials, TokenFileBelowAPlainFileIsAnError) {
  config_.cloudflare.token_file = write("plain", kSecret) / "token";
  EXPECT_EQ(error(), config_.path.string() + ": cloudflare.token_file: cannot read " +
                         (dir_ / "plain/token").string() + ": Not a directory");
}

TEST_F(ResolveCredentials, UnreadableTokenFileIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  config_.cloudflare.token_file = write("token", kSecret);
  fs::permissions(*config_.cloudflare.token_file, fs::perms::none);
  EXPECT_EQ(error(), config_.path.string() + ": cloudflare.token_file: cannot read " +
                         (dir_ / "token").string() + ": Permission denied");
}

TEST_F(ResolveCredentials, EnvTokenComesBeforeGlobalKey) {
  fake_env()["CLOUDFLARE_API_TOKEN"] = kSecret;
  fake_env()["CLOUDFLARE_EMAIL"] = kEmail;
  fake_env()["CLOUDFLARE_API_KEY"] = kKey;
  const Credentials c = resolve_credentials(config_, fake_getenv);
  EXPECT_EQ(c.kind, Credentials::Kind::kToken);
  EXPECT_EQ(c.token, kSecret);
  EXPECT_EQ(c.source, "env CLOUDFLARE_API_TOKEN");
}

TEST_F(ResolveCredentials, EmptyEnvTokenIsIgnored) {
  fake_env()["CLOUDFLARE_API_TOKEN"] = "";
  fake_env()["CLOUDFLARE_EMAIL"] = kEmail;
  fake_env()["CLOUDFLARE_API_KEY"] = kKey;
  const Credentials c = resolve_credentials(config_, fake_getenv);
  EXPECT_EQ(c.kind, Credentials::Kind::kGlobalKey);
}

TEST_F(ResolveCredentials, EnvTokenWithControlCharactersIsAnError) {
  fake_env()["CLOUDFLARE_API_TOKEN"] = "SECRET\ninner";
  EXPECT_EQ(error(), config_.path.string() +
                         ": env CLOUDFLARE_API_TOKEN contains control characters (not shown)");
}

TEST_F(ResolveCredentials, GlobalKeyFromEnv) {
  fake_env()["CLOUDFLARE_EMAIL"] = kEmail;
  fake_env()["CLOUDFLARE_API_KEY"] = kKey;
  const Credentials c = resolve_credentials(config_, fake_getenv);
  EXPECT_EQ(c.kind, Credentials::Kind::kGlobalKey);
  EXPECT_EQ(c.email, kEmail);
  EXPECT_EQ(c.api_key, kKey);
  EXPECT_TRUE(c.token.empty());
  EXPECT_EQ(c.source, "env CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY");
}

TEST_F(ResolveCredentials, GlobalKeyWithControlCharactersIsAnError) {
  fake_env()["CLOUDFLARE_EMAIL"] = kEmail;
  fake_env()["CLOUDFLARE_API_KEY"] = "SECRET\r\ninner";
  EXPECT_EQ(error(), config_.path.string() +
                         ": env CLOUDFLARE_API_KEY contains control characters (not shown)");
}

TEST_F(ResolveCredentials, OnlyEmailSetNamesTheMissingKey) {
  fake_env()["CLOUDFLARE_EMAIL"] = kEmail;
  fake_env()["CLOUDFLARE_API_KEY"] = "";
  EXPECT_EQ(error(),
            config_.path.string() + ": CLOUDFLARE_EMAIL is set but CLOUDFLARE_API_KEY is missing");
}

TEST_F(ResolveCredentials, OnlyKeySetNamesTheMissingEmail) {
  fake_env()["CLOUDFLARE_API_KEY"] = kKey;
  const std::string msg = error();
  EXPECT_EQ(msg,
            config_.path.string() + ": CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is missing");
}

TEST_F(ResolveCredentials, HalfSetGlobalKeyIsAnErrorEvenWithSystemdCredential) {
  write("creds/cloudflare-api-token", kSecret);
  fake_env()["CREDENTIALS_DIRECTORY"] = (dir_ / "creds").string();
  fake_env()["CLOUDFLARE_EMAIL"] = kEmail;
  EXPECT_THAT(error(), HasSubstr("CLOUDFLARE_API_KEY is missing"));
}

TEST_F(ResolveCredentials, SystemdCredentialComesLast) {
  const fs::path file = write("creds/cloudflare-api-token", std::string(kSecret) + "\n");
  fake_env()["CREDENTIALS_DIRECTORY"] = (dir_ / "creds").string();
  Credentials c = resolve_credentials(config_, fake_getenv);
  EXPECT_EQ(c.kind, Credentials::Kind::kToken);
  EXPECT_EQ(c.token, kSecret);
  EXPECT_EQ(c.source, "systemd credential " + file.string());

  fake_env()["CLOUDFLARE_EMAIL"] = kEmail;
  fake_env()["CLOUDFLARE_API_KEY"] = kKey;
  c = resolve_credentials(config_, fake_getenv);
  EXPECT_EQ(c.kind, Credentials::Kind::kGlobalKey);
}

TEST_F(ResolveCredentials, EmptySystemdCredentialIsAnError) {
  const fs::path file = write("creds/cloudflare-api-token", "\n");
  fake_env()["CREDENTIALS_DIRECTORY"] = (dir_ / "creds").string();
  EXPECT_EQ(error(), config_.path.string() + ": systemd credential cloudflare-api-token: " +
                         file.string() + " is empty");
}

TEST_F(ResolveCredentials, SystemdCredentialWithControlCharactersIsAnError) {
  write("creds/cloudflare-api-token", "SECRET\ninner\n");
  fake_env()["CREDENTIALS_DIRECTORY"] = (dir_ / "creds").string();
  EXPECT_THAT(error(), HasSubstr("control characters"));
}

constexpr const char* kNoCredentials =
    "no Cloudflare credentials: set cloudflare.token_file, CLOUDFLARE_API_TOKEN, "
    "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY, or provide the systemd credential "
    "cloudflare-api-token ($CREDENTIALS_DIRECTORY)";

TEST_F(ResolveCredentials, CredentialsDirectoryWithoutTheFileFallsThrough) {
  fs::create_directories(dir_ / "creds");
  fake_env()["CREDENTIALS_DIRECTORY"] = (dir_ / "creds").string();
  EXPECT_EQ(error(), config_.path.string() + ": " + kNoCredentials);
}

TEST_F(ResolveCredentials, NothingSetIsAnError) {
  EXPECT_EQ(error(), config_.path.string() + ": " + kNoCredentials);
  fake_env()["CLOUDFLARE_API_TOKEN"] = "";
  fake_env()["CLOUDFLARE_EMAIL"] = "";
  fake_env()["CLOUDFLARE_API_KEY"] = "";
  fake_env()["CREDENTIALS_DIRECTORY"] = "";
  EXPECT_EQ(error(), config_.path.string() + ": " + kNoCredentials);
}

TEST_F(ResolveCredentials, SurroundingWhiteSpaceInEnvIsTrimmed) {
  fake_env()["CLOUDFLARE_API_TOKEN"] = std::string(" ") + kSecret + "\n";
  EXPECT_EQ(resolve_credentials(config_, fake_getenv).token, kSecret);
}

TEST(ParseConfig, BudgetHeadroomAcceptsItsWholeRange) {
  for (const auto& [text, want] : {std::pair{"cloudflare: {budget_headroom: 0}", 0.0},
                                   std::pair{"cloudflare: {budget_headroom: 0.9}", 0.9},
                                   std::pair{"cloudflare: {budget_headroom: 0.25}", 0.25}}) {
    EXPECT_DOUBLE_EQ(parse_config(text, kFile).cloudflare.budget_headroom, want) << text;
  }
}

// ---------------------------------------------------------------------------------------------
// leader_election

TEST(ParseConfig, LeaderElectionIsOffByDefaultWithClientGoDefaults) {
  const LeaderElectionConfig le = parse_config("", kFile).leader_election;
  EXPECT_FALSE(le.enabled);
  EXPECT_EQ(le.ns, "");
  EXPECT_EQ(le.lease_name, "origin-reconciler");
  EXPECT_EQ(le.identity, "");
  EXPECT_EQ(le.lease_duration, Millis{15000});
  EXPECT_EQ(le.renew_deadline, Millis{10000});
  EXPECT_EQ(le.retry_period, Millis{2000});
  EXPECT_EQ(le.api_server, "");
  EXPECT_EQ(le.token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
  EXPECT_EQ(le.ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
}

TEST(ParseConfig, LeaderElectionEveryKey) {
  const LeaderElectionConfig le = parse_config(R"(leader_election:
  enabled: true
  namespace: apps
  lease_name: edge.origin-reconciler
  identity: app-7d9f-x2k4q
  lease_duration: 3s
  renew_deadline: 2s
  retry_period: 500ms
  api_server: https://10.96.0.1:443/
  token_file: sa/token
  ca_file: /etc/k8s/ca.crt
)",
                                               kFile)
                                      .leader_election;
  EXPECT_TRUE(le.enabled);
  EXPECT_EQ(le.ns, "apps");
  EXPECT_EQ(le.lease_name, "edge.origin-reconciler");
  EXPECT_EQ(le.identity, "app-7d9f-x2k4q");
  EXPECT_EQ(le.lease_duration, Millis{3000});
  EXPECT_EQ(le.renew_deadline, Millis{2000});
  EXPECT_EQ(le.retry_period, Millis{500});
  EXPECT_EQ(le.api_server, "https://10.96.0.1:443");
  EXPECT_EQ(le.token_file, "/etc/origin-reconciler/sa/token");
  EXPECT_EQ(le.ca_file, "/etc/k8s/ca.crt");
}

TEST(ParseConfig, LeaderElectionValuesAreCheckedStrictly) {
  const std::map<std::string, std::string> cases = {
      {"  enabled: yes\n", "leader_election.enabled: must be true or false (got 'yes')"},
      {"  namespace: Apps\n",
       "leader_election.namespace: must be lower-case letters, digits and '-' (a DNS-1123 label) "
       "(got 'Apps')"},
      {"  lease_name: ''\n", "leader_election.lease_name: must be 1 to 253 characters (got '')"},
      {"  lease_name: a..b\n",
       "leader_election.lease_name: must be dot-separated labels, none of them empty (got "
       "'a..b')"},
      {"  identity: two words\n",
       "leader_election.identity: must be printable ASCII without spaces (got 'two words')"},
      {"  lease_duration: 2500ms\n",
       "leader_election.lease_duration: must be whole seconds (the Lease keeps "
       "leaseDurationSeconds) (got '2500ms')"},
      {"  lease_duration: 5s\n",
       "leader_election.lease_duration: must be more than leader_election.renew_deadline (10s) "
       "(got '5s')"},
      {"  renew_deadline: 15s\n",
       "leader_election.renew_deadline: must be less than leader_election.lease_duration (15s) "
       "(got '15s')"},
      {"  retry_period: 10s\n",
       "leader_election.retry_period: must be less than leader_election.renew_deadline (10s) "
       "(got '10s')"},
      {"  renew_deadline: 2s\n",
       "leader_election.renew_deadline: must be more than leader_election.retry_period (2s) "
       "(got '2s')"},
      {"  retry_period: 50ms\n",
       "leader_election.retry_period: must be between 100ms and 1h (got '50ms')"},
      {"  api_server: http://10.96.0.1\n",
       "leader_election.api_server: must use https:// (plain http:// is only allowed for a "
       "loopback host"},
      {"  api_server: https://user:pw@10.96.0.1\n",
       "leader_election.api_server: must not contain user information"},
      {"  ca_file: ''\n", "leader_election.ca_file: must not be empty (got '')"},
      {"  leader: true\n", "leader_election.leader: unknown key"},
  };
  for (const auto& [line, want] : cases) {
    EXPECT_THAT(parse_error("log: {level: info}\nleader_election:\n" + line), HasSubstr(want))
        << line;
    EXPECT_THAT(parse_error("log: {level: info}\nleader_election:\n" + line),
                StartsWith(std::string(kFile) + ":3: "))
        << line;
  }
}

// ---------------------------------------------------------------------------------------------
// events

TEST(ParseConfig, EventsFollowLeaderElectionUnlessSet) {
  EXPECT_FALSE(events_enabled(parse_config("", kFile)));
  EXPECT_EQ(parse_config("", kFile).events.enabled, std::nullopt);
  EXPECT_TRUE(events_enabled(parse_config("leader_election: {enabled: true}\n", kFile)));
  EXPECT_FALSE(events_enabled(
      parse_config("leader_election: {enabled: true}\nevents: {enabled: false}\n", kFile)));
  EXPECT_TRUE(events_enabled(parse_config("events:\n  enabled: true\n", kFile)));
  EXPECT_FALSE(events_enabled(parse_config("events: {enabled: false}\n", kFile)));
  EXPECT_FALSE(events_enabled(parse_config("events:\n", kFile))) << "an empty section";
}

TEST(ParseConfig, EventsValuesAreCheckedStrictly) {
  EXPECT_EQ(parse_error("log: {level: info}\nevents:\n  enabled: yes\n"),
            std::string(kFile) + ":3: events.enabled: must be true or false (got 'yes')");
  EXPECT_EQ(parse_error("events:\n  enabled: \"true\"\n"),
            std::string(kFile) +
                ":2: events.enabled: must be true or false, not a quoted string (got "
                "'true')");
  EXPECT_EQ(parse_error("events:\n  enable: true\n"),
            std::string(kFile) + ":2: events.enable: unknown key");
  EXPECT_EQ(parse_error("events: true\n"),
            std::string(kFile) + ":1: events: must be a map (got 'true')");
}

TEST(LeaderElectionNames, EachCheckIsAStatusWithTheReason) {
  EXPECT_TRUE(check_dns1123_label("apps-2").ok());
  EXPECT_TRUE(check_dns1123_subdomain("edge.origin-reconciler").ok());
  EXPECT_TRUE(check_lease_identity("app-7d9f-x2k4q").ok());
  const std::pair<Status, std::string> refused[] = {
      {check_dns1123_label(std::string(64, 'a')), "must be 1 to 63 characters"},
      {check_dns1123_label("Apps"),
       "must be lower-case letters, digits and '-' (a DNS-1123 label)"},
      {check_dns1123_label("-apps"), "must start and end with a letter or digit"},
      {check_dns1123_subdomain(""), "must be 1 to 253 characters"},
      {check_dns1123_subdomain("a..b"), "must be dot-separated labels, none of them empty"},
      {check_dns1123_subdomain("a_b"),
       "must be lower-case letters, digits, '-' and '.' (a DNS-1123 subdomain)"},
      {check_dns1123_subdomain("a.b-"), "must start and end each label with a letter or digit"},
      {check_lease_identity(""), "must be 1 to 253 characters"},
      {check_lease_identity("two words"), "must be printable ASCII without spaces"},
  };
  for (const auto& [status, want] : refused) {
    ASSERT_FALSE(status.ok()) << want;
    EXPECT_EQ(status.error().message, want);
  }
}

TEST(ParseConfig, LeaderElectionAllowsPlainHttpToLoopbackOnly) {
  EXPECT_EQ(parse_config("leader_election: {api_server: 'http://127.0.0.1:8080'}", kFile)
                .leader_election.api_server,
            "http://127.0.0.1:8080");
}

TEST(ParseConfig, MetricsZoneSeries) {
  EXPECT_EQ(parse_config("", kFile).metrics.zone_series, std::nullopt);  // by the zone count
  EXPECT_EQ(parse_config("metrics: {zone_series: all}", kFile).metrics.zone_series,
            ZoneSeriesMode::kAll);
  EXPECT_EQ(parse_config("metrics:\n  zone_series: failing\n", kFile).metrics.zone_series,
            ZoneSeriesMode::kFailing);
  EXPECT_EQ(parse_config("metrics: {zone_series: none}", kFile).metrics.zone_series,
            ZoneSeriesMode::kNone);
  EXPECT_EQ(parse_config("metrics:", kFile).metrics.zone_series, std::nullopt);
  EXPECT_EQ(
      parse_error("metrics:\n  zone_series: some\n"),
      std::string(kFile) + ":2: metrics.zone_series: must be all, failing or none (got 'some')");
  EXPECT_EQ(parse_error("metrics: {zone_series: [all]}"),
            std::string(kFile) +
                ":1: metrics.zone_series: must be all, failing or none (got a sequence)");
  EXPECT_THAT(parse_error("metrics: {zones: all}"), HasSubstr("metrics.zones: unknown key"));
  EXPECT_EQ(to_string(ZoneSeriesMode::kFailing), "failing");
}

TEST(ParseConfig, StateDirectoryFromTheFileElseFromSystemd) {
  fake_env().clear();
  EXPECT_EQ(state_directory(parse_config("", "/etc/orc/config.yaml"), fake_getenv), std::nullopt);
  fake_env()["STATE_DIRECTORY"] = "/var/lib/origin-reconciler:/var/lib/other";
  EXPECT_EQ(state_directory(parse_config("", "/etc/orc/config.yaml"), fake_getenv),
            fs::path("/var/lib/origin-reconciler"));
  const Config c = parse_config("state_directory: state", "/etc/orc/config.yaml");
  EXPECT_EQ(c.state_directory, fs::path("/etc/orc/state"));
  EXPECT_EQ(state_directory(c, fake_getenv), fs::path("/etc/orc/state"));
  fake_env()["STATE_DIRECTORY"] = "";
  EXPECT_EQ(state_directory(parse_config("", "/etc/orc/config.yaml"), fake_getenv), std::nullopt);
  fake_env().clear();
  EXPECT_EQ(parse_error("state_directory: ''"), std::string(kFile) +
                                                    ":1: state_directory: must not be empty (got "
                                                    "'')");
}

TEST(ParseConfig, RateZeroOnlyAgainstALoopbackStandIn) {
  const Config c = parse_config(
      "cloudflare: {requests_per_second: 0, api_base: 'http://127.0.0.1:8080/client/v4'}", kFile);
  EXPECT_EQ(c.cloudflare.requests_per_second, 0);
  EXPECT_EQ(parse_error("cloudflare:\n  requests_per_second: 0\n"),
            std::string(kFile) +
                ":2: cloudflare.requests_per_second: 0 (no client-side budget) is only allowed "
                "with an http:// api_base on loopback (got '0')");
  EXPECT_THAT(parse_error("cloudflare: {requests_per_second: 0.001}"),
              HasSubstr("must be between 0.01 and 1000"));
}

}  // namespace
}  // namespace orc
