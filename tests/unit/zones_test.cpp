// Adopting an account and growing past one file: --export's formatting, zones by name, --zone,
// and a directory of desired-state files.
#include <gtest/gtest.h>

#include <map>

#include "config/desired_state_parser.h"
#include "model/export.h"
#include "reconcile/zone_directory.h"
#include "service/desired_file.h"
#include "service/desired_watch.h"
#include "temp_dir.h"
#include "thrown_message.h"

namespace orc {
namespace {

constexpr const char* kA = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kB = "1111111111111111111111111111111a";

const ExportSource kSource{"origin-reconciler 0.1.0", "https://api.example/client/v4", "origin-v2",
                           "2026-12-07"};

TEST(FormatExport, SortedCanonicalAndReadBackAsTheSameState) {
  ExportedZone b{kB, std::nullopt, {{"10.0.0.2", "gcp", "us-central1"}}};
  ExportedZone a{kA,
                 std::nullopt,
                 {{"2001:db8::1", "azure", "westeurope"},
                  {"10.0.0.10", "aws", "us-east-1"},
                  {"10.0.0.9", "oci", "us-ashburn-1"}}};
  const ExportText out = format_export(kSource, {b, a});
  EXPECT_EQ(out.text,
            "# Desired state exported by origin-reconciler 0.1.0 on 2026-12-07\n"
            "# from https://api.example/client/v4 (origin-v2): 2 zones, 4 origins, each with the "
            "vendor and region it has now.\n"
            "# Reconciling against this file changes nothing. Remove an origin to have its\n"
            "# mapping pruned; edit a vendor or region to have it corrected under policy: sync.\n"
            "zones:\n"
            "  - zone_id: 023e105f4ecef8ad9ca31a8372d0c353\n"
            "    origins:\n"
            "      - {ip: \"10.0.0.9\", vendor: \"oci\", region: \"us-ashburn-1\"}\n"
            "      - {ip: \"10.0.0.10\", vendor: \"aws\", region: \"us-east-1\"}\n"
            "      - {ip: \"2001:db8::1\", vendor: \"azure\", region: \"westeurope\"}\n"
            "  - zone_id: 1111111111111111111111111111111a\n"
            "    origins:\n"
            "      - {ip: \"10.0.0.2\", vendor: \"gcp\", region: \"us-central1\"}\n");
  EXPECT_TRUE(out.warnings.empty());
  // The order of the listing does not matter: the same state, the same bytes.
  std::reverse(a.mappings.begin(), a.mappings.end());
  EXPECT_EQ(format_export(kSource, {a, b}).text, out.text);

  const DesiredState back = parse_desired_state(out.text, "export.yaml");
  ASSERT_EQ(back.zones.size(), 2u);
  EXPECT_EQ(back.zones[0].origins.size(), 3u);
  EXPECT_EQ(to_string(back.zones[0].origins[2].ip), "2001:db8::1");
  EXPECT_EQ(back.zones[0].origins[2].vendor, "azure");
  EXPECT_EQ(back.zones[0].origins[2].region, "westeurope");
}

TEST(FormatExport, OddRecordsAreWrittenSoThatNothingChangesAndAreReported) {
  ExportedZone z{kA,
                 std::string("example.com"),
                 {{"::ffff:10.0.0.1", "aws", "us-east-1"},
                  {"10.0.0.1", "gcp", "us-central1"},
                  {"not-an-ip", "aws", "us-east-1"},
                  {"10.0.0.3", "ibm", "dallas"},
                  {"10.0.0.4", "aws", ""},
                  {"10.0.0.5", "aws", "quote\"and\\back"}}};
  const ExportText out = format_export(kSource, {z});
  const std::string body = out.text.substr(out.text.find("zones:"));
  EXPECT_EQ(body,
            "zones:\n"
            "  - zone: \"example.com\"\n"
            "    origins:\n"
            "      - {ip: \"10.0.0.1\", vendor: \"gcp\", region: \"us-central1\"}\n"
            "      - {ip: \"10.0.0.3\"}\n"
            "      - {ip: \"10.0.0.4\"}\n"
            "      - {ip: \"10.0.0.5\", vendor: \"aws\", region: \"quote\\\"and\\\\back\"}\n");
  ASSERT_EQ(out.warnings.size(), 3u);
  EXPECT_NE(out.warnings[0].find("1 live mappings have an IP that is not an address"),
            std::string::npos);
  EXPECT_NE(out.warnings[1].find("10.0.0.1 has 2 live records"), std::string::npos);
  EXPECT_NE(out.warnings[2].find("2 mappings name a vendor other than"), std::string::npos);
  // Still a valid desired state, with the odd region read back as it was.
  const DesiredState back = parse_desired_state(out.text, "export.yaml");
  ASSERT_EQ(back.zones.size(), 1u);
  EXPECT_EQ(back.zones[0].zone_name, "example.com");
  EXPECT_EQ(back.zones[0].origins[3].region, "quote\"and\\back");
}

TEST(FormatExport, NoZonesIsAnEmptyDesiredState) {
  const ExportText out = format_export(kSource, {});
  EXPECT_TRUE(parse_desired_state(out.text, "export.yaml").zones.empty());
  ExportedZone empty{kA, std::nullopt, {}};
  EXPECT_NE(format_export(kSource, {empty}).text.find("    origins: []\n"), std::string::npos);
}

TEST(ZoneNames, ParsedLowerCasedAndCheckedAgainstZoneIds) {
  const DesiredState s = parse_desired_state(
      "zones:\n"
      "  - zone: Example.COM.\n"
      "    origins: [192.0.2.1]\n"
      "  - zone_id: 023E105F4ECEF8AD9CA31A8372D0C353\n"
      "    origins: []\n",
      "d.yaml");
  ASSERT_EQ(s.zones.size(), 2u);
  EXPECT_EQ(s.zones[0].zone_name, "example.com");
  EXPECT_EQ(s.zones[0].zone_id, "");
  EXPECT_EQ(s.zones[0].name_at, "d.yaml:2");
  EXPECT_EQ(zone_label(s.zones[0]), "example.com");
  EXPECT_EQ(zone_label(s.zones[1]), kA);

  const std::map<std::string, std::string> bad = {
      {"zones:\n  - zone: example.com\n    zone_id: " + std::string(kA) + "\n    origins: []\n",
       "d.yaml:2: zones[0].zone: a zone is named by zone_id or by zone, not both (zone_id " +
           std::string(kA) + ")"},
      {"zones:\n  - zone: not a name\n    origins: []\n",
       "d.yaml:2: zones[0].zone: must be a zone name like example.com (got 'not a name')"},
      {"zones:\n  - zone: localhost\n    origins: []\n",
       "d.yaml:2: zones[0].zone: must be a zone name like example.com (got 'localhost')"},
      {"zones:\n  - zone: a.example\n    origins: []\n  - zone: A.example\n    origins: []\n",
       "d.yaml:4: zones[1].zone: 'A.example' is listed twice (first at zones[0])"},
  };
  for (const auto& [text, message] : bad) {
    EXPECT_EQ(
        testing::thrown_message<DesiredStateError>([&] { parse_desired_state(text, "d.yaml"); }),
        message)
        << text;
  }
}

TEST(ZoneNames, IsZoneName) {
  for (const char* ok : {"example.com", "a.b.c.example", "xn--bcher-kva.example", "1.example"}) {
    EXPECT_TRUE(is_zone_name(ok)) << ok;
  }
  for (const char* no : {"", "example", "-a.example", "a-.example", "a..example", "a_b.example",
                         "A.example", "example.com."}) {
    EXPECT_FALSE(is_zone_name(no)) << no;
  }
  EXPECT_FALSE(is_zone_name(std::string(64, 'a') + ".example"));
}

class FakeDirectory final : public ZoneDirectory {
 public:
  Result<std::vector<ZoneRef>> zones_named(const std::string& name) override {
    asked.push_back(name);
    if (refuse) return *refuse;
    std::vector<ZoneRef> out;
    for (const auto& ref : zones) {
      if (ref.name == name) out.push_back(ref);
    }
    return out;
  }
  std::vector<ZoneRef> zones;
  std::optional<ApiError> refuse;
  std::vector<std::string> asked;
};

DesiredZone named(const std::string& name, int line) {
  DesiredZone z;
  z.zone_name = name;
  z.name_at = "d.yaml:" + std::to_string(line);
  return z;
}

DesiredZone by_id(const std::string& id) {
  DesiredZone z;
  z.zone_id = id;
  return z;
}

TEST(ResolveZoneNames, NamesGetTheirIdsAndAreAskedForOnce) {
  FakeDirectory dir;
  dir.zones = {{kA, "example.com"}, {kB, "example.net"}};
  ZoneNameCache cache;
  DesiredState s{{named("example.com", 2), by_id("2222222222222222222222222222222c")}};
  ASSERT_TRUE(resolve_zone_names(s, dir, cache).ok());
  EXPECT_EQ(s.zones[0].zone_id, kA);
  EXPECT_EQ(dir.asked, std::vector<std::string>{"example.com"});
  // A reload: known names are not asked for again, new ones are.
  DesiredState again{{named("example.com", 2), named("example.net", 5)}};
  ASSERT_TRUE(resolve_zone_names(again, dir, cache).ok());
  EXPECT_EQ(again.zones[1].zone_id, kB);
  EXPECT_EQ(dir.asked, (std::vector<std::string>{"example.com", "example.net"}));
}

TEST(ResolveZoneNames, EveryFailureNamesTheFileLineAndNameAndChangesNothing) {
  FakeDirectory dir;
  dir.zones = {{kA, "twice.example"}, {kB, "twice.example"}, {kA, "example.com"}};
  ZoneNameCache cache;
  auto error_of = [&](DesiredState s) {
    const DesiredState before = s;
    const Status st = resolve_zone_names(s, dir, cache);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(s.zones[0].zone_id, before.zones[0].zone_id);
    return st.ok() ? std::string() : st.error().message;
  };
  EXPECT_EQ(error_of({{named("nowhere.example", 3)}}),
            "d.yaml:3: zone 'nowhere.example': no zone of that name can be read with this API "
            "token");
  EXPECT_EQ(error_of({{named("twice.example", 4)}}),
            "d.yaml:4: zone 'twice.example': the name belongs to 2 zones (" + std::string(kA) +
                ", " + kB + "); write the zone_id of the one to manage instead");
  EXPECT_EQ(error_of({{by_id(kA), named("example.com", 7)}}),
            "d.yaml:7: zone 'example.com': is zone " + std::string(kA) +
                ", which zones[0] lists as well");
  ApiError denied;
  denied.kind = ApiError::Kind::kPermanent;
  denied.http_status = 403;
  denied.codes = {9109};
  denied.message = "[9109] Unauthorized to access requested resource";
  dir.refuse = denied;
  EXPECT_EQ(error_of({{named("other.example", 9)}}),
            "d.yaml:9: zone 'other.example': the API token may not read zones (HTTP 403: [9109] "
            "Unauthorized to access requested resource); grant it Zone:Read, or write the "
            "zone's zone_id instead");
}

TEST(SelectZones, ByIdInAnyCaseOrByName) {
  DesiredZone n = named("example.com", 2);
  n.zone_id = kB;
  DesiredState s{{by_id(kA), n, by_id("2222222222222222222222222222222c")}};
  ASSERT_TRUE(select_zones(s, {"EXAMPLE.com", "2222222222222222222222222222222C"}, "d.yaml").ok());
  ASSERT_EQ(s.zones.size(), 2u);
  EXPECT_EQ(s.zones[0].zone_id, kB);
  DesiredState t{{by_id(kA)}};
  const Status st = select_zones(t, {"x.example", kA, "y"}, "d.yaml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "--zone 'x.example', 'y': no such zone in d.yaml (give a zone_id or zone name it "
            "lists)");
  EXPECT_EQ(t.zones.size(), 1u);
}

TEST(ZoneIdsNamed, IdsAndNamesMixedGiveIdsInTheOrderGivenEachOnce) {
  DesiredZone n = named("example.com", 2);
  n.zone_id = kB;
  const DesiredState s{{by_id(kA), n, by_id("2222222222222222222222222222222c")}};
  const auto ids =
      zone_ids_named(s, {"Example.COM", "2222222222222222222222222222222C", std::string(kB)},
                     "--force-zone", "d.yaml");
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_EQ(*ids, (std::vector<std::string>{kB, "2222222222222222222222222222222c"}))
      << "example.com and its id are one zone";
  const auto none = zone_ids_named(s, {}, "--force-zone", "d.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ZoneIdsNamed, AnUnknownZoneIsAnErrorNamingIt) {
  DesiredZone n = named("example.com", 2);
  n.zone_id = kB;
  const DesiredState s{{by_id(kA), n}};
  // A zone written by id is not known by its name: the desired state does not say it.
  const auto st =
      zone_ids_named(s, {"example.com", "other.example", kA, "3333333333333333333333333333333d"},
                     "--force-zone", "d.yaml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "--force-zone 'other.example', '3333333333333333333333333333333d': no such zone in "
            "d.yaml (give a zone_id or zone name it lists)");
}

TEST(DesiredFiles, NamesAndTheSameZoneInTwoFiles) {
  for (const char* yes : {"team-a.yaml", "x.yaml"}) EXPECT_TRUE(is_desired_file_name(yes)) << yes;
  for (const char* no : {".team.yaml", "team.yaml~", "team.yml", "..data", ".yaml", "team.yaml.swp",
                         "#team.yaml#"}) {
    EXPECT_FALSE(is_desired_file_name(no)) << no;
  }
  const std::string a = "zones:\n  - zone_id: " + std::string(kA) + "\n    origins: []\n";
  const std::string b = "zones:\n  - zone_id: " + std::string(kB) + "\n    origins: []\n";
  const DesiredState both = parse_desired_files({{"d/a.yaml", a}, {"d/b.yaml", b}});
  ASSERT_EQ(both.zones.size(), 2u);
  EXPECT_EQ(both.zones[1].zone_id, kB);
  EXPECT_EQ(testing::thrown_message<DesiredStateError>([&] {
              parse_desired_files({{"d/a.yaml", a}, {"d/b.yaml", b + a.substr(7)}});
            }),
            "d/b.yaml: zones[1]: zone " + std::string(kA) +
                " is also in d/a.yaml (zones[0]); a zone belongs to one file");
  // Each file's own errors name that file.
  EXPECT_EQ(testing::thrown_message<DesiredStateError>([&] {
              parse_desired_files({{"d/a.yaml", a}, {"d/c.yaml", "zones: 5\n"}});
            }),
            "d/c.yaml:1: zones: must be a sequence (got '5')");
}

class DesiredDirectoryTest : public testing::TempDirTest {};

TEST_F(DesiredDirectoryTest, ReadAsOneStateWhoseStampFollowsEveryFile) {
  write("d/team-a.yaml", "zones:\n  - zone_id: " + std::string(kA) + "\n    origins: []\n");
  write("d/team-b.yaml", "zones:\n  - zone_id: " + std::string(kB) + "\n    origins: []\n");
  write("d/.hidden.yaml", "not: [yaml");
  write("d/team-a.yaml~", "not: [yaml");
  DesiredStateDirectory source(dir_ / "d");
  const auto read = source.read();
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->parts.size(), 2u);
  EXPECT_EQ(read->parts[0].path.filename(), "team-a.yaml");
  const DesiredState s = parse_desired_contents(*read, dir_ / "d");
  ASSERT_EQ(s.zones.size(), 2u);
  EXPECT_EQ(s.zones[0].zone_id, kA);
  const auto stamp = source.stat();
  ASSERT_TRUE(stamp.ok());
  EXPECT_EQ(*stamp, read->stamp);

  // A file added, changed or removed changes the stamp; a file left out does not.
  write("d/notes.txt", "x");
  EXPECT_EQ(*source.stat(), *stamp);
  write("d/team-c.yaml", "zones: []\n");
  const auto added = source.stat();
  EXPECT_NE(*added, *stamp);
  std::filesystem::remove(dir_ / "d/team-c.yaml");
  write("d/team-b.yaml", "zones: []\n");
  EXPECT_NE(*source.stat(), *added);
  EXPECT_NE(version_of(*source.read()), version_of(*read));

  // read_desired_file takes the directory, and desired_access picks the right reader.
  const DesiredFile file = read_desired_file(dir_ / "d");
  EXPECT_EQ(file.state.zones.size(), 1u);
  EXPECT_TRUE(file.sha256.starts_with("sha256:"));
  EXPECT_NE(dynamic_cast<DesiredStateDirectory*>(desired_access(dir_ / "d").get()), nullptr);
  EXPECT_NE(dynamic_cast<DesiredStateFile*>(desired_access(dir_ / "d/team-a.yaml").get()), nullptr);
}

TEST_F(DesiredDirectoryTest, AFileThatCannotBeReadNamesIt) {
  write("d/team-a.yaml", "zones: []\n");
  std::filesystem::create_directories(dir_ / "d/sub.yaml");
  DesiredStateDirectory source(dir_ / "d");
  const auto read = source.read();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message, "sub.yaml: is a directory, not a regular file");
  DesiredStateDirectory missing(dir_ / "nope");
  EXPECT_FALSE(missing.stat().ok());
  std::filesystem::create_directories(dir_ / "empty");
  write("empty/.hidden.yaml", "zones: []\n");
  DesiredStateDirectory empty(dir_ / "empty");
  EXPECT_EQ(empty.read().error().message,
            "holds no desired-state files (names ending in .yaml, not starting with a dot); "
            "write one with 'zones: []' to manage no zones");
  EXPECT_FALSE(empty.stat().ok());
}

}  // namespace
}  // namespace orc
