// libFuzzer target: the desired-state parser (parse_desired_state) on arbitrary text.
// A DesiredStateError is the expected answer to bad input; any other exception, a crash or a
// sanitizer report is a finding. An accepted file must satisfy the parser's promises (canonical
// and unique IPs and zone ids, network-form CIDRs) and read back the same once written out;
// parsed as it streams, any file gives what its whole text gives. The streamed parse is
// libyaml's alone, the whole text's tries RapidJSON first for a text written as JSON: so a JSON
// text taken on RapidJSON must give the state libyaml gives, and one libyaml refuses must not
// be taken.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "config/desired_state_parser.h"
#include "fuzz_support.h"
#include "model/ip.h"

namespace {

using orc::fuzz::check;
using orc::fuzz::yaml_quoted;

constexpr std::string_view kFile = "desired.yaml";

bool is_zone_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (const char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void check_invariants(const orc::DesiredState& state) {
  std::set<std::string> zone_ids;
  for (const auto& zone : state.zones) {
    check(is_zone_id(zone.zone_id), "zone id not 32 lower-case hex characters: " + zone.zone_id);
    check(zone_ids.insert(zone.zone_id).second, "zone listed twice: " + zone.zone_id);
    std::set<orc::OriginKey> ips;
    for (const auto& origin : zone.origins) {
      const std::string text = orc::to_string(origin.ip);
      check(orc::parse_origin_key(text) == origin.ip, "origin does not read back: " + text);
      check(ips.insert(origin.ip).second, "origin listed twice: " + text);
      if (origin.vendor) {
        const std::string& v = *origin.vendor;
        check(v == "aws" || v == "azure" || v == "gcp" || v == "oci", "vendor accepted: " + v);
      }
      check(!origin.region || (!origin.region->empty() && origin.vendor),
            "region empty or without a vendor");
    }
    for (const auto& cidr : zone.manage_cidrs) {
      const std::string text = orc::to_string(cidr);
      check(orc::parse_cidr(text) == cidr, "CIDR does not read back: " + text);
      check(cidr.contains(cidr.network), "CIDR does not contain its network: " + text);
    }
  }
}

// The state as a desired-state file: origins without vendor in the short scalar form.
std::string write_state(const orc::DesiredState& state) {
  if (state.zones.empty()) return "zones: []\n";
  std::string out = "zones:\n";
  for (const auto& zone : state.zones) {
    out += "  - zone_id: " + yaml_quoted(zone.zone_id) + "\n";
    out += zone.origins.empty() ? "    origins: []\n" : "    origins:\n";
    for (const auto& origin : zone.origins) {
      if (!origin.vendor && !origin.region) {
        out += "      - " + yaml_quoted(orc::to_string(origin.ip)) + "\n";
        continue;
      }
      out += "      - ip: " + yaml_quoted(orc::to_string(origin.ip)) + "\n";
      if (origin.vendor) out += "        vendor: " + yaml_quoted(*origin.vendor) + "\n";
      if (origin.region) out += "        region: " + yaml_quoted(*origin.region) + "\n";
    }
    if (!zone.manage_cidrs.empty()) {
      out += "    manage_cidrs:\n";
      for (const auto& cidr : zone.manage_cidrs) out += "      - " + orc::to_string(cidr) + "\n";
    }
  }
  return out;
}

bool same(const orc::DesiredState& a, const orc::DesiredState& b) {
  if (a.zones.size() != b.zones.size()) return false;
  for (std::size_t i = 0; i < a.zones.size(); ++i) {
    const auto& x = a.zones[i];
    const auto& y = b.zones[i];
    if (x.zone_id != y.zone_id || x.manage_cidrs != y.manage_cidrs) return false;
    if (x.origins.size() != y.origins.size()) return false;
    for (std::size_t j = 0; j < x.origins.size(); ++j) {
      const auto& o = x.origins[j];
      const auto& p = y.origins[j];
      if (o.ip != p.ip || o.vendor != p.vendor || o.region != p.region) return false;
    }
  }
  return true;
}

// The outcome of a parse: the state, or the error's message.
template <class Parse>
std::pair<std::optional<orc::DesiredState>, std::string> outcome(const Parse& parse) {
  try {
    return {parse(), ""};
  } catch (const orc::DesiredStateError& e) {
    return {std::nullopt, e.what()};
  }
}

// A file parsed as it streams (in the pieces the parser asks for) gives what the whole text
// gives: the same state, or the same message.
void check_streamed(std::string_view text) {
  const orc::yaml::Source source = orc::yaml::text_source(text);
  const auto streamed = outcome([&] {
    return orc::parse_desired_stream(source, std::string(kFile), [&] { return std::string(text); });
  });
  const auto whole = outcome([&] { return orc::parse_desired_state(text, std::string(kFile)); });
  check(streamed.second == whole.second,
        "streamed: '" + streamed.second + "', whole: '" + whole.second + "'");
  check(streamed.first == whole.first, "the streamed parse read another state");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_streamed(text);
  const auto parse = [](std::string_view t) {
    return orc::parse_desired_state(t, std::string(kFile));
  };
  orc::fuzz::check_round_trip<orc::DesiredStateError>(text, kFile, parse, check_invariants,
                                                      write_state, same, "the state");
  return 0;
}
