#include "kube/lease.h"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "base/json_bounds.h"
#include "base/redact.h"

namespace orc {

using nlohmann::json;

std::string format_micro_time(WallTime t) {
  using namespace std::chrono;
  const auto micros = duration_cast<microseconds>(t.time_since_epoch()).count();
  long long seconds = micros / 1'000'000;
  long long fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const time_t tt = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
  return buf;
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

}  // namespace

std::optional<WallTime> parse_micro_time(std::string_view s) {
  // 2006-01-02T15:04:05.000000Z07:00 (Go's RFC3339Micro, as metav1.MicroTime reads it)
  int year, month, day, hour, minute, second, micros;
  if (s.size() < 27) return std::nullopt;
  if (!digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || s[10] != 'T' || !digits(s, 11, 2, hour) || s[13] != ':' ||
      !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second) || s[19] != '.' ||
      !digits(s, 20, 6, micros)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  if (day > kDays[month - 1] + (month == 2 && is_leap(year) ? 1 : 0)) return std::nullopt;
  // The clock's nanoseconds overflow past 2262; no Lease time outside this range is real.
  if (year < 1970 || year > 2200) return std::nullopt;
  const std::string_view zone = s.substr(26);
  int offset_minutes = 0;
  if (zone == "Z") {
    offset_minutes = 0;
  } else {
    int oh, om;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !digits(zone, 1, 2, oh) ||
        zone[3] != ':' || !digits(zone, 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (zone[0] == '-' ? -1 : 1) * (oh * 60 + om);
  }
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t t = timegm(&tm);
  using namespace std::chrono;
  return WallTime(duration_cast<WallTime::duration>(seconds(t) - minutes(offset_minutes) +
                                                    microseconds(micros)));
}

namespace {

// A spec field: absent or null is `fallback`; a wrong type is an error.
StatusOr<std::string> read_string(const json& spec, const char* key, std::string fallback) {
  const auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return fallback;
  if (!it->is_string()) return Error{std::string("spec.") + key + " is not a string"};
  return it->get<std::string>();
}

StatusOr<long long> read_integer(const json& spec, const char* key, long long fallback) {
  const auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) return Error{std::string("spec.") + key + " is not a whole number"};
  return it->get<long long>();
}

// A MicroTime, kept as its text ("" when absent).
StatusOr<std::string> read_time(const json& spec, const char* key) {
  auto text = read_string(spec, key, "");
  if (!text.ok()) return text;
  if (!text->empty() && !parse_micro_time(*text)) {
    return Error{std::string("spec.") + key + " is not a MicroTime ('" + redact(*text, 64) + "')"};
  }
  return text;
}

// The record in a Lease's spec object.
StatusOr<LeaseRecord> read_record(const json& spec) {
  LeaseRecord r;
  auto holder = read_string(spec, "holderIdentity", r.holder_identity);
  if (!holder.ok()) return std::move(holder).error();
  r.holder_identity = std::move(*holder);
  const auto duration = read_integer(spec, "leaseDurationSeconds", r.lease_duration_seconds);
  if (!duration.ok()) return duration.error();
  // The API declares it int32; a server that does not enforce that must not make expiry
  // arithmetic (nanoseconds) wrap into "expired long ago".
  r.lease_duration_seconds = std::clamp<long long>(*duration, INT32_MIN, INT32_MAX);
  auto acquired = read_time(spec, "acquireTime");
  if (!acquired.ok()) return std::move(acquired).error();
  r.acquire_time = std::move(*acquired);
  auto renewed = read_time(spec, "renewTime");
  if (!renewed.ok()) return std::move(renewed).error();
  r.renew_time = std::move(*renewed);
  const auto transitions = read_integer(spec, "leaseTransitions", r.lease_transitions);
  if (!transitions.ok()) return transitions.error();
  r.lease_transitions = *transitions;
  return r;
}

}  // namespace

StatusOr<Lease> parse_lease(std::string_view body) {
  if (const Status bounded = check_json_bounds(body, kLeaseAnswerBounds); !bounded.ok()) {
    return Error{"the answer is " + bounded.error().message};
  }
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Error{"the answer is not a JSON object"};
  const auto kind = doc.find("kind");
  if (kind == doc.end() || !kind->is_string() || *kind != "Lease") {
    return Error{"the answer is not a Lease"};
  }
  Lease lease;
  const auto meta = doc.find("metadata");
  if (meta == doc.end() || !meta->is_object()) return Error{"the Lease has no metadata"};
  const auto rv = meta->find("resourceVersion");
  if (rv == meta->end() || !rv->is_string() || rv->get<std::string>().empty()) {
    return Error{"the Lease has no metadata.resourceVersion"};
  }
  lease.resource_version = rv->get<std::string>();
  const auto spec = doc.find("spec");
  if (spec != doc.end() && !spec->is_null()) {
    if (!spec->is_object()) return Error{"the Lease's spec is not an object"};
    auto record = read_record(*spec);
    if (!record.ok()) return std::move(record).error();
    lease.record = std::move(*record);
  }
  lease.object = std::move(doc);
  return lease;
}

json lease_spec(const LeaseRecord& r) {
  json spec = json::object();
  spec["holderIdentity"] = r.holder_identity;
  spec["leaseDurationSeconds"] = r.lease_duration_seconds;
  if (!r.acquire_time.empty()) spec["acquireTime"] = r.acquire_time;
  if (!r.renew_time.empty()) spec["renewTime"] = r.renew_time;
  spec["leaseTransitions"] = r.lease_transitions;
  return spec;
}

std::string new_lease_body(const std::string& ns, const std::string& name,
                           const LeaseRecord& record) {
  json doc = {{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", lease_spec(record)}};
  return doc.dump();
}

std::string updated_lease_body(const Lease& current, const LeaseRecord& record) {
  json doc = current.object;
  doc["apiVersion"] = "coordination.k8s.io/v1";
  doc["kind"] = "Lease";
  doc["metadata"]["resourceVersion"] = current.resource_version;
  doc["spec"] = lease_spec(record);
  return doc.dump();
}

std::string status_message(std::string_view body) {
  json doc(json::value_t::discarded);
  if (check_json_bounds(body, kLeaseAnswerBounds).ok()) doc = json::parse(body, nullptr, false);
  const auto is_status = [&] {
    const auto kind = doc.find("kind");
    return kind != doc.end() && kind->is_string() && *kind == "Status";
  };
  if (!doc.is_discarded() && doc.is_object() && is_status()) {
    const std::string reason =
        doc.contains("reason") && doc["reason"].is_string() ? doc["reason"].get<std::string>() : "";
    const std::string message = doc.contains("message") && doc["message"].is_string()
                                    ? doc["message"].get<std::string>()
                                    : "";
    return redact(reason.empty() ? message : reason + ": " + message, 300);
  }
  return redact(body, 200);
}

}  // namespace orc
