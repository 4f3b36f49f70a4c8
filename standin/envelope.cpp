#include "envelope.h"

#include <ctime>

namespace standin {
namespace {

std::string format_utc(orc::WallTime t, const char* fmt) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof(buf), fmt, &tm);
  return std::string(buf, n);
}

json item_json(const ItemResult& item, ApiFlavor flavor, bool failed) {
  json j = {{ip_key(flavor), item.ip}};
  if (failed) {
    j["error"] = item.error;
  } else {
    j["vendor"] = item.vendor;
    j["region"] = item.region;
  }
  return j;
}

json items_json(const std::vector<ItemResult>& items, ApiFlavor flavor, bool failed) {
  json arr = json::array();
  for (const auto& item : items) arr.push_back(item_json(item, flavor, failed));
  return arr;
}

}  // namespace

std::string rfc3339(orc::WallTime t) {
  return format_utc(t, "%Y-%m-%dT%H:%M:%SZ");
}

std::string rfc3339_millis(orc::WallTime t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03dZ", static_cast<int>(ms < 0 ? ms + 1000 : ms));
  return format_utc(floor<seconds>(t), "%Y-%m-%dT%H:%M:%S") + frac;
}

std::string to_text(const json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

json success_envelope(json result) {
  return {{"success", true},
          {"errors", json::array()},
          {"messages", json::array()},
          {"result", std::move(result)}};
}

json error_envelope(const ApiError& error) {
  return {{"success", false},
          {"errors", json::array({{{"code", error.code}, {"message", error.message}}})},
          {"messages", json::array()},
          {"result", nullptr}};
}

json setting(std::optional<orc::WallTime> modified_on, json value) {
  return {{"id", "origin_public_cloud_region"},
          {"editable", true},
          {"modified_on", modified_on ? json(rfc3339(*modified_on)) : json(nullptr)},
          {"value", std::move(value)}};
}

std::string_view ip_key(ApiFlavor flavor) {
  return flavor == ApiFlavor::kCacheV1 ? "origin-ip" : "origin_ip";
}

json mapping_json(const Mapping& m, ApiFlavor flavor) {
  return {{ip_key(flavor), m.ip},
          {"vendor", m.vendor},
          {"region", m.region},
          {"modified_on", rfc3339(m.modified_on)}};
}

json outcome_json(const BatchOutcome& outcome, ApiFlavor flavor) {
  return {{"succeeded", items_json(outcome.succeeded, flavor, false)},
          {"failed", items_json(outcome.failed, flavor, true)}};
}

json supported_regions() {
  auto region = [](const char* name, std::initializer_list<const char*> colos) {
    return json{{"name", name}, {"upper_tier_colos", colos}};
  };
  return {{"obtained_codes", true},
          {"vendors",
           {{"aws",
             {region("us-east-1", {"IAD"}), region("us-east-2", {"CMH"}),
              region("us-west-2", {"PDX"}), region("eu-west-1", {"DUB"}),
              region("eu-central-1", {"FRA"}), region("ap-southeast-1", {"SIN"})}},
            {"azure",
             {region("eastus", {"IAD"}), region("westus2", {"SEA"}), region("westeurope", {"AMS"}),
              region("northeurope", {"DUB"})}},
            {"gcp",
             {region("us-central1", {"ORD"}), region("us-east1", {"ATL"}),
              region("europe-west1", {"BRU"}), region("asia-east1", {"TPE"})}},
            {"oci",
             {region("us-ashburn-1", {"IAD"}), region("us-phoenix-1", {"PHX"}),
              region("eu-frankfurt-1", {"FRA"}), region("uk-london-1", {"LHR"})}}}}};
}

}  // namespace standin
