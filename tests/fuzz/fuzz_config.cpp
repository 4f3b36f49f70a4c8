// libFuzzer target: the configuration parser (parse_config) on arbitrary text.
// A ConfigError is the expected answer to bad input; any other exception, a crash or a
// sanitizer report is a finding. An accepted configuration must be within the documented
// ranges and read back the same once written out (the fields known here; keys added later
// keep their defaults on the second read).
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/duration.h"
#include "config/config.h"
#include "fuzz_support.h"

namespace {

using orc::Millis;
using orc::fuzz::check;
using orc::fuzz::yaml_quoted;

constexpr std::string_view kFile = "/etc/origin-reconciler/config.yaml";

std::string number(double d) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);  // shortest exact form
  check(ec == std::errc(), "to_chars failed");
  return std::string(buf, end);
}

void check_ranges(const orc::Config& c) {
  const auto& cf = c.cloudflare;
  const auto& r = c.reconcile;
  std::string scheme = cf.api_base.substr(0, 8);
  for (char& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  check(scheme.starts_with("https://") || scheme.starts_with("http://"),
        "api_base accepted: " + cf.api_base);
  check(!cf.api_base.ends_with("/"), "api_base keeps a trailing slash: " + cf.api_base);
  check(!cf.token_file || cf.token_file->is_absolute(), "token_file not absolute");
  check(cf.request_timeout >= Millis{1000} && cf.request_timeout <= Millis{600000},
        "request_timeout out of range");
  check(cf.requests_per_second > 0 && cf.requests_per_second <= 1000,
        "requests_per_second out of range");
  check(cf.page_size >= 1 && cf.page_size <= 100, "page_size out of range");
  check(r.desired_state.is_absolute(), "desired_state not absolute");
  check(r.interval >= Millis{1000} && r.interval <= Millis{86400000}, "interval out of range");
  check(r.batch_size >= 1 && r.batch_size <= 100, "batch_size out of range");
  check(r.concurrency >= 1 && r.concurrency <= 64, "concurrency out of range");
  check(r.max_delete_fraction >= 0 && r.max_delete_fraction <= 1,
        "max_delete_fraction out of range");
  check(r.retry.max_attempts >= 1 && r.retry.max_attempts <= 20, "max_attempts out of range");
  check(r.retry.initial_backoff >= Millis{1} && r.retry.initial_backoff <= r.retry.max_backoff &&
            r.retry.max_backoff <= Millis{3600000},
        "backoff out of range");
  const auto& le = c.leader_election;
  check(le.lease_duration.count() % 1000 == 0 && le.lease_duration >= Millis{1000} &&
            le.lease_duration <= Millis{3600000},
        "lease_duration out of range");
  check(le.retry_period >= Millis{100} && le.retry_period < le.renew_deadline &&
            le.renew_deadline < le.lease_duration,
        "leader election durations out of order");
  check(orc::check_dns1123_subdomain(le.lease_name).ok(), "lease_name accepted: " + le.lease_name);
  check(le.ns.empty() || orc::check_dns1123_label(le.ns).ok(), "namespace accepted: " + le.ns);
  check(le.identity.empty() || orc::check_lease_identity(le.identity).ok(),
        "identity accepted: " + le.identity);
  check(le.token_file.is_absolute() && le.ca_file.is_absolute(), "lease files not absolute");
  // The level is an enum, so any value the parser gives is one of the five; it must have a name.
  check(!orc::enum_name(orc::kLogLevelNames, c.log.level).empty(), "log level without a name");
}

std::string write_config(const orc::Config& c) {
  const auto& cf = c.cloudflare;
  const auto& r = c.reconcile;
  std::string out = "cloudflare:\n";
  out += "  api_base: " + yaml_quoted(cf.api_base) + "\n";
  out += "  api_flavor: " + std::string(orc::to_string(cf.api_flavor)) + "\n";
  if (cf.token_file) out += "  token_file: " + yaml_quoted(cf.token_file->string()) + "\n";
  out += "  request_timeout: " + orc::format_duration(cf.request_timeout) + "\n";
  out += "  requests_per_second: " + number(cf.requests_per_second) + "\n";
  out += "  page_size: " + std::to_string(cf.page_size) + "\n";
  out += "reconcile:\n";
  out += "  desired_state: " + yaml_quoted(r.desired_state.string()) + "\n";
  out += "  interval: " + orc::format_duration(r.interval) + "\n";
  out += "  batch_size: " + std::to_string(r.batch_size) + "\n";
  out += "  concurrency: " + std::to_string(r.concurrency) + "\n";
  out += "  dry_run: " + std::string(r.dry_run ? "true" : "false") + "\n";
  out += "  max_delete_fraction: " + number(r.max_delete_fraction) + "\n";
  out += "  retry: {max_attempts: " + std::to_string(r.retry.max_attempts) +
         ", initial_backoff: " + orc::format_duration(r.retry.initial_backoff) +
         ", max_backoff: " + orc::format_duration(r.retry.max_backoff) + "}\n";
  const std::string& host = c.listen.host;
  const std::string listen = host.find(':') == std::string::npos ? host : "[" + host + "]";
  out += "listen: " + yaml_quoted(listen + ":" + std::to_string(c.listen.port)) + "\n";
  out += "log: {level: " + std::string(orc::enum_name(orc::kLogLevelNames, c.log.level)) +
         ", format: " + std::string(orc::enum_name(orc::kLogFormatNames, c.log.format)) + "}\n";
  const auto& le = c.leader_election;
  out += "leader_election:\n";
  out += "  enabled: " + std::string(le.enabled ? "true" : "false") + "\n";
  out += "  namespace: " + yaml_quoted(le.ns) + "\n";
  out += "  lease_name: " + yaml_quoted(le.lease_name) + "\n";
  out += "  identity: " + yaml_quoted(le.identity) + "\n";
  out += "  lease_duration: " + orc::format_duration(le.lease_duration) + "\n";
  out += "  renew_deadline: " + orc::format_duration(le.renew_deadline) + "\n";
  out += "  retry_period: " + orc::format_duration(le.retry_period) + "\n";
  out += "  api_server: " + yaml_quoted(le.api_server) + "\n";
  out += "  token_file: " + yaml_quoted(le.token_file.string()) + "\n";
  out += "  ca_file: " + yaml_quoted(le.ca_file.string()) + "\n";
  if (c.events.enabled) {
    out += "events: {enabled: " + std::string(*c.events.enabled ? "true" : "false") + "}\n";
  }
  return out;
}

bool same_election(const orc::LeaderElectionConfig& a, const orc::LeaderElectionConfig& b) {
  return a.enabled == b.enabled && a.ns == b.ns && a.lease_name == b.lease_name &&
         a.identity == b.identity && a.lease_duration == b.lease_duration &&
         a.renew_deadline == b.renew_deadline && a.retry_period == b.retry_period &&
         a.api_server == b.api_server && a.token_file == b.token_file && a.ca_file == b.ca_file;
}

bool same(const orc::Config& a, const orc::Config& b) {
  const auto& x = a.cloudflare;
  const auto& y = b.cloudflare;
  const auto& p = a.reconcile;
  const auto& q = b.reconcile;
  return a.path == b.path && x.api_base == y.api_base && x.api_flavor == y.api_flavor &&
         x.token_file == y.token_file && x.request_timeout == y.request_timeout &&
         x.requests_per_second == y.requests_per_second && x.page_size == y.page_size &&
         p.desired_state == q.desired_state && p.interval == q.interval &&
         p.batch_size == q.batch_size && p.concurrency == q.concurrency && p.dry_run == q.dry_run &&
         p.max_delete_fraction == q.max_delete_fraction &&
         p.retry.max_attempts == q.retry.max_attempts &&
         p.retry.initial_backoff == q.retry.initial_backoff &&
         p.retry.max_backoff == q.retry.max_backoff && a.listen.host == b.listen.host &&
         a.listen.port == b.listen.port && a.log.level == b.log.level &&
         a.log.format == b.log.format && same_election(a.leader_election, b.leader_election) &&
         a.events.enabled == b.events.enabled;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parse = [](std::string_view t) { return orc::parse_config(t, std::string(kFile)); };
  orc::fuzz::check_round_trip<orc::ConfigError>(text, kFile, parse, check_ranges, write_config,
                                                same, "the configuration");
  return 0;
}
