#include "config/desired_state_parser.h"
#include "model/plan_file.h"

#include "desired_fixture.h"
#include "temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace orc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kFile = "/etc/orc/desired.yaml";
constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kZone2 = "0123456789abcdef0123456789abcdef";

// Parses `text` every way the daemon does: whole (parse_desired_state), and as a file streams
// (parse_desired_stream, read in the pieces the parser asks for); both must give the same
// state, or throw the same message. A JSON text read on RapidJSON must give that state too.
DesiredState parse_desired(std::string_view text, const fs::path& path) {
  std::string streamed_error;
  std::optional<DesiredState> streamed;
  try {
    streamed =
        parse_desired_stream(yaml::text_source(text), path, [&] { return std::string(text); });
  } catch (const DesiredStateError& e) {
    streamed_error = e.what();
  }
  // A text written as JSON may be read on RapidJSON: then as libyaml reads it.
  const std::optional<DesiredState> json = parse_desired_json(yaml::text_source(text), path);
  try {
    DesiredState whole = parse_desired_state(text, path);
    EXPECT_TRUE(streamed.has_value()) << "only the streamed parse failed: " << streamed_error;
    EXPECT_TRUE(streamed && *streamed == whole) << "the streamed parse read another state";
    EXPECT_TRUE(!json || *json == whole) << "the JSON parse read another state";
    return whole;
  } catch (const DesiredStateError& e) {
    EXPECT_EQ(streamed_error, e.what()) << "the streamed parse failed otherwise";
    throw;
  }
}

// The message of the DesiredStateError that parsing `yaml` throws ("" if it does not throw).
std::string parse_error(const std::string& yaml, const fs::path& path = kFile) {
  try {
    parse_desired(yaml, path);
  } catch (const DesiredStateError& e) {
    return e.what();
  }
  return "";
}

// One zone with the given origin lines (each already indented under "origins:").
std::string one_zone(const std::string& origins, const std::string& extra = "") {
  return std::string("zones:\n  - zone_id: ") + kZone + "\n    origins:\n" + origins + extra;
}

TEST(ParseDesiredState, TheDocumentedExample) {
  const char* text = R"(zones:
  - zone_id: 023e105f4ecef8ad9ca31a8372d0c353   # exactly 32 hex characters
    origins:
      - 192.0.2.1
      - ip: 2001:db8::1          # the map form may also carry vendor and region
        vendor: gcp
        region: us-central1
    manage_cidrs: [192.0.2.0/24, 2001:db8::/32]   # optional
)";
  const DesiredState state = parse_desired(text, kFile);
  ASSERT_EQ(state.zones.size(), 1u);
  const DesiredZone& z = state.zones[0];
  EXPECT_EQ(z.zone_id, kZone);
  ASSERT_EQ(z.origins.size(), 2u);
  EXPECT_EQ(to_string(z.origins[0].ip), "192.0.2.1");
  EXPECT_FALSE(z.origins[0].vendor.has_value());
  EXPECT_FALSE(z.origins[0].region.has_value());
  EXPECT_EQ(to_string(z.origins[1].ip), "2001:db8::1");
  EXPECT_EQ(z.origins[1].vendor, "gcp");
  EXPECT_EQ(z.origins[1].region, "us-central1");
  ASSERT_EQ(z.manage_cidrs.size(), 2u);
  EXPECT_EQ(to_string(z.manage_cidrs[0]), "192.0.2.0/24");
  EXPECT_EQ(to_string(z.manage_cidrs[1]), "2001:db8::/32");
}

TEST(ParseDesiredState, ZonesKeepFileOrderAndManageCidrsAreOptional) {
  const std::string text = std::string("zones:\n") + "  - zone_id: " + kZone2 +
                           "\n    origins: [198.51.100.7]\n" + "  - zone_id: " + kZone +
                           "\n    origins: [198.51.100.7]\n";
  const DesiredState state = parse_desired(text, kFile);
  ASSERT_EQ(state.zones.size(), 2u);
  EXPECT_EQ(state.zones[0].zone_id, kZone2);
  EXPECT_EQ(state.zones[1].zone_id, kZone);
  // The same IP in two different zones is fine.
  EXPECT_EQ(to_string(state.zones[0].origins[0].ip), "198.51.100.7");
  EXPECT_EQ(to_string(state.zones[1].origins[0].ip), "198.51.100.7");
  EXPECT_TRUE(state.zones[0].manage_cidrs.empty());
}

TEST(ParseDesiredState, AZoneMayNameItsPolicy) {
  const std::string text = std::string("zones:\n") + "  - zone_id: " + kZone2 +
                           "\n    policy: sync\n    origins: []\n" + "  - zone_id: " + kZone +
                           "\n    origins: []\n    policy: prune\n" +
                           "  - zone_id: " + "fedcba9876543210fedcba9876543210\n    origins: []\n";
  const DesiredState state = parse_desired(text, kFile);
  ASSERT_EQ(state.zones.size(), 3u);
  EXPECT_EQ(state.zones[0].policy, Policy::kSync);
  EXPECT_EQ(state.zones[1].policy, Policy::kPrune);
  EXPECT_EQ(state.zones[2].policy, std::nullopt) << "none given: the daemon's reconcile.policy";
}

TEST(ParseDesiredState, AZoneMayHaveItsOwnGuardThresholds) {
  const std::string text = std::string("zones:\n") + "  - zone_id: " + kZone2 +
                           "\n    max_delete_fraction: 0.8\n    max_update_fraction: 0\n" +
                           "    origins: []\n  - zone_id: " + kZone + "\n    origins: []\n";
  const DesiredState state = parse_desired(text, kFile);
  ASSERT_EQ(state.zones.size(), 2u);
  EXPECT_EQ(state.zones[0].max_delete_fraction, 0.8);
  EXPECT_EQ(state.zones[0].max_update_fraction, 0.0);
  EXPECT_EQ(state.zones[1].max_delete_fraction, std::nullopt) << "none: the configuration's";
  EXPECT_EQ(state.zones[1].max_update_fraction, std::nullopt);
}

TEST(ParseDesiredState, AZoneMayBeSuspendedWithAReasonAndAnEnd) {
  const std::string text = std::string("zones:\n") + "  - zone_id: " + kZone2 +
                           "\n    suspend: {reason: \"incident 4711\", until: "
                           "\"2026-12-24T00:00:00Z\"}\n    origins: []\n  - zone_id: " +
                           kZone + "\n    suspend:\n      reason: migration\n    origins: []\n" +
                           "  - zone_id: fedcba9876543210fedcba9876543210\n    origins: []\n";
  const DesiredState state = parse_desired(text, kFile);
  ASSERT_EQ(state.zones.size(), 3u);
  ASSERT_TRUE(state.zones[0].suspend);
  EXPECT_EQ(state.zones[0].suspend->reason, "incident 4711");
  EXPECT_EQ(state.zones[0].suspend->until, parse_utc("2026-12-24T00:00:00Z"));
  ASSERT_TRUE(state.zones[1].suspend);
  EXPECT_EQ(state.zones[1].suspend->reason, "migration");
  EXPECT_EQ(state.zones[1].suspend->until, std::nullopt) << "until removed";
  EXPECT_EQ(state.zones[2].suspend, std::nullopt);
}

TEST(ParseDesiredState, SuspendUntilTakesRfc3339OffsetsAndFractions) {
  const std::string text = std::string("zones:\n") + "  - zone_id: " + kZone2 +
                           "\n    suspend: {reason: a, until: 2026-12-24T01:00:00+01:00}" +
                           "\n    origins: []\n  - zone_id: " + kZone +
                           "\n    suspend: {reason: b, until: \"2026-12-23T18:30:00.250-05:30\"}"
                           "\n    origins: []\n";
  const DesiredState state = parse_desired(text, kFile);
  ASSERT_EQ(state.zones.size(), 2u);
  EXPECT_EQ(state.zones[0].suspend->until, parse_utc("2026-12-24T00:00:00Z"));
  EXPECT_EQ(state.zones[1].suspend->until,
            *parse_utc("2026-12-24T00:00:00Z") + std::chrono::milliseconds(250));
}

TEST(ParseDesiredState, EmptyZoneListManagesNothing) {
  EXPECT_TRUE(parse_desired("zones: []\n", kFile).zones.empty());
  EXPECT_TRUE(parse_desired("# nothing managed for now\nzones: []\n", kFile).zones.empty());
}

TEST(ParseDesiredState, EmptyOriginListWantsNoMappings) {
  const DesiredState state = parse_desired(one_zone("      []\n"), kFile);
  ASSERT_EQ(state.zones.size(), 1u);
  EXPECT_TRUE(state.zones[0].origins.empty());
}

TEST(ParseDesiredState, OriginsAreCanonicalized) {
  const DesiredState state = parse_desired(one_zone("      - 2001:DB8:0:0::1\n"
                                                    "      - ip: 2001:0DB8::0:2\n"
                                                    "      - '192.0.2.9'\n"
                                                    "      - ip: \"::FFFF:192.0.2.1\"\n"
                                                    "      - 0:0:0:0:0:ffff:c000:202\n"
                                                    "      - ::ffff:0:192.0.2.3\n"),
                                           kFile);
  const auto& o = state.zones[0].origins;
  ASSERT_EQ(o.size(), 6u);
  EXPECT_EQ(to_string(o[0].ip), "2001:db8::1");
  EXPECT_EQ(to_string(o[1].ip), "2001:db8::2");
  EXPECT_EQ(to_string(o[2].ip), "192.0.2.9");
  // IPv4-mapped IPv6 is the IPv4 origin, however it is written.
  EXPECT_EQ(to_string(o[3].ip), "192.0.2.1");
  EXPECT_EQ(to_string(o[4].ip), "192.0.2.2");
  EXPECT_EQ(to_string(o[5].ip), "::ffff:0:c000:203");  // IPv4-translated is not mapped
}

TEST(ParseDesiredState, UpperCaseZoneIdIsLowerCased) {
  const DesiredState state = parse_desired(
      "zones:\n  - zone_id: 023E105F4ECEF8AD9CA31A8372D0C353\n"
      "    origins: []\n",
      kFile);
  ASSERT_EQ(state.zones.size(), 1u);
  EXPECT_EQ(state.zones[0].zone_id, kZone);
}

TEST(ParseDesiredState, AllDigitZoneIdStaysText) {
  const DesiredState state = parse_desired(
      "zones:\n  - zone_id: 00000000000000000000000000000001\n"
      "    origins: []\n",
      kFile);
  EXPECT_EQ(state.zones[0].zone_id, "00000000000000000000000000000001");
}

TEST(ParseDesiredState, EveryVendorAndVendorWithoutRegion) {
  const DesiredState state =
      parse_desired(one_zone("      - {ip: 192.0.2.1, vendor: aws, region: us-east-1}\n"
                             "      - {ip: 192.0.2.2, vendor: azure, region: westeurope}\n"
                             "      - {ip: 192.0.2.3, vendor: gcp}\n"
                             "      - {ip: 192.0.2.4, vendor: oci, region: eu-frankfurt-1}\n"
                             "      - {ip: 192.0.2.5}\n"),
                    kFile);
  const auto& o = state.zones[0].origins;
  ASSERT_EQ(o.size(), 5u);
  EXPECT_EQ(o[0].vendor, "aws");
  EXPECT_EQ(o[0].region, "us-east-1");
  EXPECT_EQ(o[1].vendor, "azure");
  EXPECT_EQ(o[2].vendor, "gcp");
  EXPECT_FALSE(o[2].region.has_value());
  EXPECT_EQ(o[3].vendor, "oci");
  EXPECT_EQ(o[3].region, "eu-frankfurt-1");
  EXPECT_FALSE(o[4].vendor.has_value());
  EXPECT_FALSE(o[4].region.has_value());
}

TEST(ParseDesiredState, ManageCidrsAreCanonical) {
  const DesiredState state = parse_desired(one_zone("      []\n",
                                                    "    manage_cidrs:\n      - 2001:DB8::/32\n"
                                                    "      - 0.0.0.0/0\n      - 192.0.2.7/32\n"),
                                           kFile);
  const auto& c = state.zones[0].manage_cidrs;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(to_string(c[0]), "2001:db8::/32");
  EXPECT_EQ(to_string(c[1]), "0.0.0.0/0");
  EXPECT_EQ(to_string(c[2]), "192.0.2.7/32");
  EXPECT_TRUE(c[0].contains(*parse_ip("2001:db8:1::5")));
}

TEST(ParseDesiredState, MappedCidrsAreIpv4Ranges) {
  const DesiredState state =
      parse_desired(one_zone("      []\n",
                             "    manage_cidrs:\n      - ::ffff:192.0.2.0/120\n"
                             "      - ::FFFF:0:0/96\n      - ::/0\n"),
                    kFile);
  const auto& c = state.zones[0].manage_cidrs;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(to_string(c[0]), "192.0.2.0/24");
  EXPECT_EQ(to_string(c[1]), "0.0.0.0/0");
  EXPECT_EQ(to_string(c[2]), "::/0");  // still IPv6 only
  EXPECT_TRUE(c[0].contains(*parse_ip("192.0.2.9")));
  EXPECT_TRUE(c[0].contains(*parse_ip("::ffff:192.0.2.9")));
  EXPECT_FALSE(c[2].contains(*parse_ip("::ffff:192.0.2.9")));
}

// ---------------------------------------------------------------------------------------------
// Errors: the whole message is checked.

struct ErrorCase {
  const char* name;
  std::string yaml;
  std::string message;  // after the file name
};

void PrintTo(const ErrorCase& c, std::ostream* os) {
  *os << c.name;
}

class DesiredStateRejects : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DesiredStateRejects, WithExactMessage) {
  const auto& c = GetParam();
  EXPECT_EQ(parse_error(c.yaml), kFile + c.message) << c.yaml;
}

const std::string Z = kZone;

std::string case_name(const ::testing::TestParamInfo<ErrorCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(
    TopLevel, DesiredStateRejects,
    ::testing::Values(
        ErrorCase{"EmptyFile", "",
                  ": no zones key (the file is empty; write 'zones: []' to manage no zones)"},
        ErrorCase{"OnlyComments", "# truncated\n",
                  ": no zones key (the file is empty; write 'zones: []' to manage no zones)"},
        ErrorCase{"ExplicitNull", "~\n",
                  ": no zones key (the file is empty; write 'zones: []' to manage no zones)"},
        ErrorCase{"EmptyMap", "{}\n", ":1: top level: no zones key"},
        ErrorCase{"Misspelled", "zone: []\n", ":1: zone: unknown key (the only key is zones)"},
        ErrorCase{"ExtraKey", "zones: []\nversion: 2\n",
                  ":2: version: unknown key (the only key is zones)"},
        ErrorCase{"TopLevelSequence", "- zone_id: x\n",
                  ":1: top level: must be a map with the key zones (got a sequence)"},
        ErrorCase{"TopLevelScalar", "zones\n",
                  ":1: top level: must be a map with the key zones (got 'zones')"},
        ErrorCase{"ZonesNull", "zones:\n", ":1: zones: must be a sequence (got nothing)"},
        ErrorCase{"ZonesNullWithCommentAfter", "zones:\n# - zone_id: x\n\n",
                  ":1: zones: must be a sequence (got nothing)"},
        ErrorCase{"ZonesMap", "zones: {a: 1}\n", ":1: zones: must be a sequence (got a map)"},
        ErrorCase{"ZonesTwice", "zones: []\nzones: []\n", ":2: zones: appears twice"},
        ErrorCase{"TwoDocuments", "zones: []\n---\nzones: []\n",
                  ": holds 2 YAML documents; expected one"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Zones, DesiredStateRejects,
    ::testing::Values(
        ErrorCase{"ZoneScalar", "zones:\n  - 5\n",
                  ":2: zones[0]: must be a map with zone_id and origins (got '5')"},
        ErrorCase{"ZoneNull", "zones:\n  -\n",
                  ": zones[0]: must be a map with zone_id and origins (got nothing)"},
        ErrorCase{"MissingZoneId", "zones:\n  - origins: []\n", ":2: zones[0]: missing zone_id"},
        ErrorCase{"MissingOrigins", "zones:\n  - zone_id: " + Z + "\n",
                  ":2: zones[0]: missing origins (write 'origins: []' for a zone that should "
                  "have no mappings)"},
        ErrorCase{"ShortZoneId", "zones:\n  - zone_id: abc\n    origins: []\n",
                  ":2: zones[0].zone_id: 'abc' is not a zone id (32 hexadecimal characters)"},
        ErrorCase{
            "LongZoneId", "zones:\n  - zone_id: " + Z + "0\n    origins: []\n",
            ":2: zones[0].zone_id: '" + Z + "0' is not a zone id (32 hexadecimal characters)"},
        ErrorCase{"NonHexZoneId",
                  "zones:\n  - zone_id: 023e105f4ecef8ad9ca31a8372d0c35g\n    origins: []\n",
                  ":2: zones[0].zone_id: '023e105f4ecef8ad9ca31a8372d0c35g' is not a zone id "
                  "(32 hexadecimal characters)"},
        ErrorCase{"ZoneIdWithSpace",
                  "zones:\n  - zone_id: ' 023e105f4ecef8ad9ca31a8372d0c353'\n    origins: []\n",
                  ":2: zones[0].zone_id: ' 023e105f4ecef8ad9ca31a8372d0c353' is not a zone id "
                  "(32 hexadecimal characters)"},
        ErrorCase{"ZoneIdMap", "zones:\n  - zone_id: {a: b}\n    origins: []\n",
                  ":2: zones[0].zone_id: must be a zone id (32 hexadecimal characters) "
                  "(got a map)"},
        ErrorCase{"ZoneIdNull", "zones:\n  - zone_id:\n    origins: []\n",
                  ":2: zones[0].zone_id: must be a zone id (32 hexadecimal characters) "
                  "(got nothing)"},
        ErrorCase{"UnknownZoneKey",
                  "zones:\n  - zone_id: " + Z + "\n    origins: []\n    manage_cidr: []\n",
                  ":4: zones[0].manage_cidr: unknown key (a zone has zone_id or zone, origins, "
                  "manage_cidrs, policy, max_delete_fraction, max_update_fraction and "
                  "suspend)"},
        ErrorCase{"SuspendWithoutReason",
                  "zones:\n  - zone_id: " + Z +
                      "\n    origins: []\n    suspend: {until: "
                      "2026-12-24T00:00:00Z}\n",
                  ":4: zones[0].suspend: needs a reason (suspend: {reason: \"...\", until: "
                  "\"2026-12-24T00:00:00Z\"})"},
        ErrorCase{"SuspendUntilNotATime",
                  "zones:\n  - zone_id: " + Z +
                      "\n    origins: []\n    suspend: {reason: x, "
                      "until: tomorrow}\n",
                  ":4: zones[0].suspend.until: must be an RFC 3339 time like "
                  "2026-12-24T00:00:00Z or 2026-12-24T01:00:00+01:00: the date must be "
                  "YYYY-MM-DD (got 'tomorrow')"},
        ErrorCase{"SuspendUntilOffsetWithoutColon",
                  "zones:\n  - zone_id: " + Z +
                      "\n    origins: []\n    suspend: {reason: x, "
                      "until: \"2026-12-24T01:00:00+0100\"}\n",
                  ":4: zones[0].suspend.until: must be an RFC 3339 time like "
                  "2026-12-24T00:00:00Z or 2026-12-24T01:00:00+01:00: the offset must be +HH:MM "
                  "or -HH:MM, as in +01:00 or -05:30 (got '2026-12-24T01:00:00+0100')"},
        ErrorCase{"SuspendUntilNoTimeZone",
                  "zones:\n  - zone_id: " + Z +
                      "\n    origins: []\n    suspend: {reason: x, "
                      "until: 2026-12-24T00:00:00}\n",
                  ":4: zones[0].suspend.until: must be an RFC 3339 time like "
                  "2026-12-24T00:00:00Z or 2026-12-24T01:00:00+01:00: the time zone is missing: "
                  "end with Z (UTC) or an offset like +01:00 (got '2026-12-24T00:00:00')"},
        ErrorCase{"SuspendUntilAMap",
                  "zones:\n  - zone_id: " + Z +
                      "\n    origins: []\n    suspend: {reason: x, "
                      "until: {at: noon}}\n",
                  ":4: zones[0].suspend.until: must be an RFC 3339 time like "
                  "2026-12-24T00:00:00Z or 2026-12-24T01:00:00+01:00 (got a map)"},
        ErrorCase{"ZoneFractionAboveOne",
                  "zones:\n  - zone_id: " + Z + "\n    origins: []\n    max_delete_fraction: 1.5\n",
                  ":4: zones[0].max_delete_fraction: must be a number between 0 and 1 (got '1.5')"},
        ErrorCase{
            "ZoneFractionNotANumber",
            "zones:\n  - zone_id: " + Z + "\n    origins: []\n    max_update_fraction: half\n",
            ":4: zones[0].max_update_fraction: must be a number between 0 and 1 (got "
            "'half')"},
        ErrorCase{"UnknownPolicy",
                  "zones:\n  - zone_id: " + Z + "\n    origins: []\n    policy: upsert-only\n",
                  ":4: zones[0].policy: must be prune or sync (got 'upsert-only')"},
        ErrorCase{"PolicyNotAScalar",
                  "zones:\n  - zone_id: " + Z + "\n    origins: []\n    policy: [sync]\n",
                  ":4: zones[0].policy: must be prune or sync (got a sequence)"},
        ErrorCase{"ZoneKeyTwice",
                  "zones:\n  - zone_id: " + Z + "\n    origins: []\n    origins: []\n",
                  ":4: zones[0].origins: appears twice"},
        ErrorCase{"SameZoneTwice",
                  "zones:\n  - zone_id: " + Z + "\n    origins: []\n  - zone_id: " + Z +
                      "\n    origins: []\n",
                  ":4: zones[1].zone_id: '" + Z + "' is listed twice (first at zones[0])"},
        ErrorCase{"SameZoneDifferentCase",
                  "zones:\n  - zone_id: " + Z +
                      "\n    origins: []\n  - zone_id: " + std::string(kZone2) +
                      "\n    origins: []\n  - zone_id: 023E105F4ECEF8AD9CA31A8372D0C353\n"
                      "    origins: []\n",
                  ":6: zones[2].zone_id: '023E105F4ECEF8AD9CA31A8372D0C353' is the same zone as '" +
                      Z + "' at zones[0]"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Origins, DesiredStateRejects,
    ::testing::Values(
        ErrorCase{"OriginsScalar", "zones:\n  - zone_id: " + Z + "\n    origins: 192.0.2.1\n",
                  ":3: zones[0].origins: must be a sequence (got '192.0.2.1')"},
        ErrorCase{"OriginsNull", "zones:\n  - zone_id: " + Z + "\n    origins:\n",
                  ":3: zones[0].origins: must be a sequence (got nothing)"},
        ErrorCase{"InvalidIpv4", one_zone("      - 192.0.2.1\n      - 10.0.0.300\n"),
                  ":5: zones[0].origins[1]: '10.0.0.300' is not an IPv4 or IPv6 address"},
        ErrorCase{"InvalidIpv6", one_zone("      - 2001:db8:::1\n"),
                  ":4: zones[0].origins[0]: '2001:db8:::1' is not an IPv4 or IPv6 address"},
        ErrorCase{"IpWithPrefix", one_zone("      - 192.0.2.1/32\n"),
                  ":4: zones[0].origins[0]: '192.0.2.1/32' is not an IPv4 or IPv6 address"},
        ErrorCase{"Hostname", one_zone("      - origin.example.com\n"),
                  ":4: zones[0].origins[0]: 'origin.example.com' is not an IPv4 or IPv6 address"},
        ErrorCase{"EmptyString", one_zone("      - ''\n"),
                  ":4: zones[0].origins[0]: '' is not an IPv4 or IPv6 address"},
        ErrorCase{"OriginNull", one_zone("      - 192.0.2.1\n      -\n"),
                  ": zones[0].origins[1]: must be an IP address or a map with ip, vendor and "
                  "region (got nothing)"},
        ErrorCase{"OriginSequence", one_zone("      - [192.0.2.1]\n"),
                  ":4: zones[0].origins[0]: must be an IP address or a map with ip, vendor and "
                  "region (got a sequence)"},
        ErrorCase{"MapInvalidIp", one_zone("      - ip: 192.0.2\n        vendor: aws\n"),
                  ":4: zones[0].origins[0].ip: '192.0.2' is not an IPv4 or IPv6 address"},
        ErrorCase{"MapIpSequence", one_zone("      - ip: [192.0.2.1]\n"),
                  ":4: zones[0].origins[0].ip: must be an IPv4 or IPv6 address (got a sequence)"},
        ErrorCase{"MapMissingIp", one_zone("      - vendor: aws\n        region: us-east-1\n"),
                  ":4: zones[0].origins[0]: missing ip"},
        ErrorCase{"MapUnknownKey", one_zone("      - ip: 192.0.2.1\n        port: 443\n"),
                  ":5: zones[0].origins[0].port: unknown key (an origin has ip, vendor and "
                  "region)"},
        ErrorCase{"MapKeyTwice", one_zone("      - ip: 192.0.2.1\n        ip: 192.0.2.2\n"),
                  ":5: zones[0].origins[0].ip: appears twice"},
        ErrorCase{"UnknownVendor", one_zone("      - {ip: 192.0.2.1, vendor: ibm}\n"),
                  ":4: zones[0].origins[0].vendor: must be aws, azure, gcp or oci (got 'ibm')"},
        ErrorCase{"UpperCaseVendor", one_zone("      - {ip: 192.0.2.1, vendor: GCP}\n"),
                  ":4: zones[0].origins[0].vendor: must be aws, azure, gcp or oci (got 'GCP')"},
        ErrorCase{"NullVendor", one_zone("      - {ip: 192.0.2.1, vendor: }\n"),
                  ":4: zones[0].origins[0].vendor: must be aws, azure, gcp or oci (got nothing)"},
        ErrorCase{"RegionWithoutVendor", one_zone("      - ip: 192.0.2.1\n        region: eu\n"),
                  ":5: zones[0].origins[0].region: needs a vendor as well (got 'eu')"},
        ErrorCase{"EmptyRegion", one_zone("      - {ip: 192.0.2.1, vendor: aws, region: ''}\n"),
                  ":4: zones[0].origins[0].region: must be a non-empty string (got '')"},
        ErrorCase{"RegionMap", one_zone("      - {ip: 192.0.2.1, vendor: aws, region: {a: 1}}\n"),
                  ":4: zones[0].origins[0].region: must be a non-empty string (got a map)"},
        ErrorCase{"SameOriginTwice",
                  one_zone("      - 192.0.2.1\n      - 192.0.2.2\n      - 192.0.2.1\n"),
                  ":6: zones[0].origins[2]: '192.0.2.1' is listed twice (first at "
                  "zones[0].origins[0], line 4)"},
        ErrorCase{"SameOriginAfterCanonicalization",
                  one_zone("      - 2001:db8::1\n      - 2001:DB8:0:0::1\n"),
                  ":5: zones[0].origins[1]: '2001:DB8:0:0::1' is the same address as "
                  "'2001:db8::1' at zones[0].origins[0], line 4 (both are 2001:db8::1)"},
        ErrorCase{"SameOriginScalarAndMap",
                  one_zone("      - 2001:DB8::1\n      - ip: 2001:db8:0::1\n        vendor: gcp\n"),
                  ":5: zones[0].origins[1]: '2001:db8:0::1' is the same address as "
                  "'2001:DB8::1' at zones[0].origins[0], line 4 (both are 2001:db8::1)"},
        // IPv4-mapped IPv6 and the IPv4 address it maps are one origin, in either order and
        // however the mapped form is written.
        ErrorCase{"SameOriginIpv4ThenMapped",
                  one_zone("      - 10.0.0.1\n      - 192.0.2.5\n      - ::ffff:10.0.0.1\n"),
                  ":6: zones[0].origins[2]: '::ffff:10.0.0.1' is the same address as "
                  "'10.0.0.1' at zones[0].origins[0], line 4 (both are 10.0.0.1)"},
        ErrorCase{"SameOriginMappedThenIpv4",
                  one_zone("      - ip: '0:0:0:0:0:FFFF:0A00:0001'\n        vendor: aws\n"
                           "      - 10.0.0.1\n"),
                  ":6: zones[0].origins[1]: '10.0.0.1' is the same address as "
                  "'0:0:0:0:0:FFFF:0A00:0001' at zones[0].origins[0], line 4 (both are "
                  "10.0.0.1)"},
        ErrorCase{"SameOriginTwoMappedSpellings",
                  one_zone("      - ::ffff:a00:1\n      - ::FFFF:10.0.0.1\n"),
                  ":5: zones[0].origins[1]: '::FFFF:10.0.0.1' is the same address as "
                  "'::ffff:a00:1' at zones[0].origins[0], line 4 (both are 10.0.0.1)"},
        // The header's own example: the first error, precisely located.
        ErrorCase{"DeepInTheFile",
                  "zones:\n"
                  "  - {zone_id: 00000000000000000000000000000000, origins: []}\n"
                  "  - {zone_id: 00000000000000000000000000000001, origins: []}\n"
                  "  - zone_id: 00000000000000000000000000000002\n"
                  "    origins: [10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5,\n"
                  "              10.0.0.300, 10.0.0.301]\n",
                  ":6: zones[2].origins[5]: '10.0.0.300' is not an IPv4 or IPv6 address"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    ManageCidrs, DesiredStateRejects,
    ::testing::Values(
        ErrorCase{"HostBitsV4", one_zone("      []\n", "    manage_cidrs: [192.0.2.1/24]\n"),
                  ":5: zones[0].manage_cidrs[0]: '192.0.2.1/24' has host bits set; write the "
                  "network form '192.0.2.0/24'"},
        ErrorCase{"HostBitsV6",
                  one_zone("      []\n",
                           "    manage_cidrs:\n      - 2001:db8::/32\n"
                           "      - 2001:DB8::1/32\n"),
                  ":7: zones[0].manage_cidrs[1]: '2001:DB8::1/32' has host bits set; write the "
                  "network form '2001:db8::/32'"},
        ErrorCase{"PrefixTooLong", one_zone("      []\n", "    manage_cidrs: [192.0.2.0/33]\n"),
                  ":5: zones[0].manage_cidrs[0]: '192.0.2.0/33' is not a CIDR range like "
                  "192.0.2.0/24 or 2001:db8::/32"},
        ErrorCase{"NoPrefix", one_zone("      []\n", "    manage_cidrs: [192.0.2.0]\n"),
                  ":5: zones[0].manage_cidrs[0]: '192.0.2.0' is not a CIDR range like "
                  "192.0.2.0/24 or 2001:db8::/32"},
        ErrorCase{"BadAddress", one_zone("      []\n", "    manage_cidrs: [192.0.2.256/24]\n"),
                  ":5: zones[0].manage_cidrs[0]: '192.0.2.256/24' is not a CIDR range like "
                  "192.0.2.0/24 or 2001:db8::/32"},
        ErrorCase{"Empty", one_zone("      []\n", "    manage_cidrs: []\n"),
                  ":5: zones[0].manage_cidrs: must not be empty (leave manage_cidrs out to "
                  "manage every address of the zone)"},
        ErrorCase{"NotASequence", one_zone("      []\n", "    manage_cidrs: 192.0.2.0/24\n"),
                  ":5: zones[0].manage_cidrs: must be a sequence of CIDR ranges "
                  "(got '192.0.2.0/24')"},
        ErrorCase{"Null", one_zone("      []\n", "    manage_cidrs:\n"),
                  ":5: zones[0].manage_cidrs: must be a sequence of CIDR ranges (got nothing)"},
        ErrorCase{"ItemMap", one_zone("      []\n", "    manage_cidrs: [{cidr: 192.0.2.0/24}]\n"),
                  ":5: zones[0].manage_cidrs[0]: must be a CIDR range (got a map)"}),
    case_name);

TEST(ParseDesiredState, SyntaxErrorNamesFileAndLine) {
  const std::string msg = parse_error("zones:\n  - zone_id: [abc\n    origins: []\n");
  EXPECT_THAT(msg, StartsWith(std::string(kFile) + ":"));
  EXPECT_THAT(msg, HasSubstr(": invalid YAML: "));
  EXPECT_THAT(parse_error("zones: [\n"), StartsWith(std::string(kFile) + ":2: column "));
}

// yaml-cpp 0.7 reads a stray ',' where a document starts as an endless run of empty documents
// (found by fuzzing: the parser grew its tree until memory ran out). It is a syntax error.
TEST(ParseDesiredState, StrayCommaIsASyntaxErrorNotAnEndlessLoop) {
  EXPECT_EQ(parse_error(","), std::string(kFile) + ":1: column 1: invalid YAML: unexpected ','");
  EXPECT_EQ(parse_error("zones: []\n---\n ,\n"),
            std::string(kFile) + ":3: column 2: invalid YAML: unexpected ','");
}

// Past the parser's 16 KiB buffer a streamed file is read in pieces that cut values apart:
// the state, a syntax error far down and an invalid byte after it read as in the whole text
// (parse_desired compares both ways).
TEST(ParseDesiredState, AFileLargerThanTheParsersBufferReadsTheSameStreamed) {
  std::string origins;
  for (int i = 0; i < 3000; ++i) {
    origins += "      - 10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".7\n";
  }
  const DesiredState state = parse_desired(one_zone(origins), kFile);
  ASSERT_EQ(state.zones.size(), 1u);
  EXPECT_EQ(state.zones[0].origins.size(), 3000u);
  EXPECT_EQ(to_string(state.zones[0].origins[2999].ip), "10.11.183.7");
  EXPECT_EQ(parse_error(one_zone(origins + "      - [\n")),
            std::string(kFile) +
                ":3005: column 1: invalid YAML: did not find expected node "
                "content (while parsing a flow node from line 3005)");
  EXPECT_THAT(parse_error(one_zone(origins + "      - [\n" + origins + "      - \xff\n")),
              HasSubstr("invalid YAML"));
}

// The YAML library's own messages may quote the input: escaped like every value we show.
TEST(ParseDesiredState, ControlCharactersInYamlErrorsAreEscaped) {
  EXPECT_EQ(parse_error("zones: \"\\\x01\"\n"),
            std::string(kFile) + ":1: column 11: invalid YAML: unknown escape character: \\x01");
}

TEST(ParseDesiredState, ControlCharactersInValuesAreEscaped) {
  EXPECT_EQ(parse_error(one_zone("      - \"192.0.2.1\\n\"\n")),
            std::string(kFile) +
                ":4: zones[0].origins[0]: '192.0.2.1\\x0a' is not an IPv4 or IPv6 address");
}

// ---------------------------------------------------------------------------------------------
// Size: 35 zones x 3,500 origins, as in production (its speed is measured by bench/, not here).

std::string big_file(int zones, int origins_per_zone) {
  return fixtures::big_desired_state(zones, origins_per_zone);
}

TEST(ParseDesiredState, LargeFileParsesCompletely) {
  const DesiredState state = parse_desired(big_file(35, 3500), kFile);
  ASSERT_EQ(state.zones.size(), 35u);
  for (const auto& z : state.zones) ASSERT_EQ(z.origins.size(), 3500u);
  EXPECT_EQ(state.zones[34].zone_id, "00000000000000000000000000000023");
  EXPECT_EQ(to_string(state.zones[0].origins[3499].ip), "2001:db8::dab");
  EXPECT_EQ(to_string(state.zones[0].origins[3498].ip), "10.0.13.170");
  EXPECT_EQ(state.zones[0].origins[3499].vendor, "aws");
}

TEST(ParseDesiredState, LargeFileDuplicateAtTheEndIsFound) {
  std::string text = big_file(1, 3500);
  text += "      - 10.0.0.0\n";
  EXPECT_THAT(parse_error(text),
              HasSubstr("zones[0].origins[3500]: '10.0.0.0' is listed twice (first at "
                        "zones[0].origins[0], line "));
}

// ---------------------------------------------------------------------------------------------
// Written as JSON

// The documented example as JSON, one key per line: read on RapidJSON, the state libyaml reads,
// its zone name at its line.
TEST(ParseDesiredJson, ReadsWhatYamlReads) {
  const std::string text = std::string(R"({
  "zones": [
    {"zone_id": ")") + kZone +
                           R"(", "origins": ["192.0.2.1", "2001:DB8::1",
      {"ip": "::ffff:192.0.2.9", "vendor": "gcp", "region": "us-central1"}],
     "manage_cidrs": ["192.0.2.0/24"], "max_delete_fraction": 0.5,
     "suspend": {"reason": "migration", "until": "2026-12-24T00:00:00Z"}},
    {
      "zone": "Example.COM.",
      "origins": [], "policy": "sync"
    }
  ]
}
)";
  const std::optional<DesiredState> json = parse_desired_json(yaml::text_source(text), kFile);
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(*json, parse_desired_stream(yaml::text_source(text), kFile, [&] { return text; }));
  ASSERT_EQ(json->zones.size(), 2u);
  ASSERT_EQ(json->zones[0].origins.size(), 3u);
  EXPECT_EQ(to_string(json->zones[0].origins[1].ip), "2001:db8::1");
  EXPECT_EQ(to_string(json->zones[0].origins[2].ip), "192.0.2.9");
  EXPECT_EQ(json->zones[0].origins[2].region, "us-central1");
  EXPECT_EQ(json->zones[1].zone_name, "example.com");
  EXPECT_EQ(json->zones[1].name_at, std::string(kFile) + ":8");
}

// A JSON text in error is read again by libyaml: its messages, lines and precedence are YAML's.
TEST(ParseDesiredJson, ErrorsAreYamlsMessages) {
  const std::string zone = std::string(R"({"zone_id": ")") + kZone + R"(", "origins": [)";
  const std::string bad_ip = "{\"zones\": [\n" + zone + "\n\"192.0.2.300\"]}]}";
  EXPECT_EQ(
      parse_error(bad_ip),
      std::string(kFile) + ":3: zones[0].origins[0]: '192.0.2.300' is not an IPv4 or IPv6 address");
  const std::string twice = "{\"zones\": [\n" + zone + "\"192.0.2.1\",\n\"192.0.2.1\"]}]}";
  EXPECT_EQ(parse_error(twice),
            std::string(kFile) +
                ":3: zones[0].origins[1]: '192.0.2.1' is listed twice (first at "
                "zones[0].origins[0], line 2)");
  EXPECT_EQ(parse_error("{\"zones\": [], \"zones\": []}"),
            std::string(kFile) + ":1: zones: appears twice");
  // Not closed: JSON and YAML both refuse it, with YAML's message.
  EXPECT_THAT(parse_error("{\"zones\": [\n" + zone + "\"192.0.2.1\"]}]"),
              StartsWith(std::string(kFile) + ":2: column 75: invalid YAML: did not find "
                                              "expected ',' or '}'"));
}

// ---------------------------------------------------------------------------------------------
// Files

using LoadDesiredState = testing::TempDirTest;

TEST_F(LoadDesiredState, ReadsTheFile) {
  const fs::path file = dir_ / "desired.yaml";
  std::ofstream(file) << one_zone("      - 192.0.2.1\n");
  const DesiredState state = load_desired_state(file).state;
  ASSERT_EQ(state.zones.size(), 1u);
  EXPECT_EQ(to_string(state.zones[0].origins[0].ip), "192.0.2.1");
}

// A file written as JSON and a YAML one load as their texts parse, each with the digest of the
// file's bytes (the YAML file is opened twice: once for a look at its start).
TEST_F(LoadDesiredState, ReadsJsonAndYamlAlike) {
  const std::string json = std::string("{\"zones\": [{\"zone_id\": \"") + kZone +
                           "\", \"origins\": [\"192.0.2.1\"]}]}\n";
  const std::string yaml = one_zone("      - 192.0.2.1\n");
  for (const std::string& text : {json, yaml}) {
    const fs::path file = dir_ / "desired.yaml";
    std::ofstream(file) << text;
    const LoadedDesiredState loaded = load_desired_state(file);
    EXPECT_EQ(loaded.state, parse_desired_state(text, file)) << text;
    Sha256 digest;
    digest.update(text);
    EXPECT_EQ(loaded.sha256, digest.finish()) << text;
  }
}

TEST_F(LoadDesiredState, ErrorsNameTheFile) {
  const fs::path file = dir_ / "desired.yaml";
  std::ofstream(file) << one_zone("      - 192.0.2.300\n");
  try {
    load_desired_state(file);
    FAIL() << "no error";
  } catch (const DesiredStateError& e) {
    EXPECT_EQ(std::string(e.what()),
              file.string() +
                  ":4: zones[0].origins[0]: '192.0.2.300' is not an IPv4 or IPv6 "
                  "address");
  }
}

TEST_F(LoadDesiredState, EmptyFileIsAnError) {
  const fs::path file = dir_ / "desired.yaml";
  std::ofstream{file};
  try {
    load_desired_state(file);
    FAIL() << "no error";
  } catch (const DesiredStateError& e) {
    EXPECT_THAT(e.what(), StartsWith(file.string() + ": no zones key"));
  }
}

TEST_F(LoadDesiredState, MissingFileNamesFileAndReason) {
  const fs::path file = dir_ / "missing.yaml";
  try {
    load_desired_state(file);
    FAIL() << "no error";
  } catch (const DesiredStateError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": cannot read: No such file or directory");
  }
}

}  // namespace
}  // namespace orc
