// The plan document: canonical form and checksum, strict reading, age, first difference.
#include "model/plan_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/source_text.h"

namespace orc {
namespace {

// A refusal as text: "" when there is none.
std::string why_not(const Status& s) {
  return s.ok() ? "" : s.error().message;
}

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kZoneB = "1111111111111111111111111111111a";

ChangeSet sample_changes() {
  ChangeSet c;
  c.deletes = {"10.0.0.2", "10.0.0.1"};  // listing order; the canonical form sorts
  c.creates = {{"192.0.2.10", "gcp", "us-central1"}};
  c.updates = {{{"10.0.0.5", "aws", "us-east-1"}, {"10.0.0.5", "aws", "eu-west-1"}}};
  return c;
}

WallTime at(const char* utc) {
  return *parse_utc(utc);
}

PlanIdentity identity() {
  return {"origin-reconciler 0.1.0",
          "origin-v2",
          "/etc/origin-reconciler/config.yaml",
          "/etc/origin-reconciler/desired.yaml",
          "sha256:" + std::string(64, 'a'),
          false};
}

PlanDocument sample_plan() {
  std::vector<PlanZone> zones;
  zones.push_back(
      make_plan_zone(kZone, PlanZoneStatus::kPlanned, "", {12, 10, 1, 0}, sample_changes()));
  zones.back().policy = Policy::kSync;
  zones.back().unsupported = {{"192.0.2.77", "aws", "mars-north-1"}};
  zones.push_back(
      make_plan_zone(kZoneB, PlanZoneStatus::kFailed, "listing mappings: HTTP 503", {}, {}));
  return make_plan_document(at("2026-12-02T01:00:00Z"), identity(), std::move(zones));
}

TEST(PlanCanonical, SortedCompactKeysInOrder) {
  EXPECT_EQ(canonical_zone(kZone, sample_changes()),
            R"({"creates":[{"ip":"192.0.2.10","region":"us-central1","vendor":"gcp"}],)"
            R"("deletes":["10.0.0.1","10.0.0.2"],)"
            R"("updates":[{"from":{"ip":"10.0.0.5","region":"us-east-1","vendor":"aws"},)"
            R"("to":{"ip":"10.0.0.5","region":"eu-west-1","vendor":"aws"}}],)"
            R"("zone_id":"023e105f4ecef8ad9ca31a8372d0c353"})");
}

TEST(PlanCanonical, NonAsciiIsEscaped) {
  ChangeSet c;
  c.creates = {{"192.0.2.1", "aws", "r\xc3\xa9gion"}};
  EXPECT_THAT(canonical_zone(kZone, c), HasSubstr(R"("region":"r\u00e9gion")"));
}

TEST(PlanCanonical, IsTheCompactDumpOfTheZonesTreeForAnyBytes) {
  // Written a value at a time; the definition is nlohmann's dump of the tree (keys sorted,
  // ASCII only, bytes that are not UTF-8 replaced).
  const std::vector<std::string> odd = {"q\"b\\s/\x01\x1f\x7f",
                                        "\xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80",
                                        "\xff\xfe",
                                        "cut\xe2\x82",
                                        "",
                                        "10.0.0.1"};
  ChangeSet c;
  for (const std::string& s : odd) {
    c.creates.push_back({s + "c", s, s});
    c.updates.push_back({{s + "u", "aws", s}, {s + "u", s, "r"}});
    c.deletes.push_back(s + "d");
  }
  auto mapping = [](const Mapping& m) {
    return json{{"ip", m.ip}, {"vendor", m.vendor}, {"region", m.region}};
  };
  const ChangeSet sorted = canonical_order(c);
  json tree{{"zone_id", kZone},
            {"creates", json::array()},
            {"updates", json::array()},
            {"deletes", sorted.deletes}};
  for (const auto& m : sorted.creates) tree["creates"].push_back(mapping(m));
  for (const auto& u : sorted.updates) {
    tree["updates"].push_back({{"from", mapping(u.from)}, {"to", mapping(u.to)}});
  }
  EXPECT_EQ(canonical_zone(kZone, c), tree.dump(-1, ' ', true, json::error_handler_t::replace));

  const PlanDocument plan = sample_plan();
  json list = json::array();
  for (const auto& z : plan.zones) {
    list.push_back({{"zone_id", z.zone_id},
                    {"checksum", z.status == PlanZoneStatus::kFailed ? json() : json(z.checksum)}});
  }
  EXPECT_EQ(plan_checksum(plan.zones), "sha256:" + sha256_hex(list.dump(-1, ' ', true)));
}

// Pinned: SHA-256 of the canonical text above, computed independently (Python's hashlib), as
// are the checksums in the reader's cases below.
TEST(PlanChecksum, IsSha256OfTheCanonicalForm) {
  EXPECT_EQ(zone_checksum(kZone, sample_changes()),
            "sha256:d16eb54e4b97d5dccdd367f3a71bec290c88c04f4824dfa17d97452c5b6c4e66");
  EXPECT_EQ(zone_checksum(kZone, {}),
            "sha256:9e371ca94789ac99bfda372f24d1ce5ef213e1d6ae81b5b9728ac6755f1f3110");
}

TEST(PlanChecksum, ListingOrderDoesNotMatterButEveryFieldDoes) {
  const std::string base = zone_checksum(kZone, sample_changes());
  ChangeSet reordered = sample_changes();
  std::swap(reordered.deletes[0], reordered.deletes[1]);
  EXPECT_EQ(zone_checksum(kZone, reordered), base);

  EXPECT_NE(zone_checksum(kZoneB, sample_changes()), base);
  ChangeSet c = sample_changes();
  c.updates[0].from.region = "us-west-2";  // the live mapping moved: not the reviewed update
  EXPECT_NE(zone_checksum(kZone, c), base);
  c = sample_changes();
  c.creates[0].vendor = "aws";
  EXPECT_NE(zone_checksum(kZone, c), base);
  c = sample_changes();
  c.deletes[0] = "10.0.0.3";
  EXPECT_NE(zone_checksum(kZone, c), base);
  c = sample_changes();
  c.deletes[0] = "::ffff:10.0.0.2";  // another spelling addresses another record
  EXPECT_NE(zone_checksum(kZone, c), base);
}

TEST(PlanDocumentText, RoundTrips) {
  const PlanDocument plan = sample_plan();
  const std::string text = to_json_text(plan);
  EXPECT_EQ(parse_plan_document(text, "plan.json"), plan);
  const json doc = json::parse(text);
  EXPECT_EQ(doc["format"], "origin-reconciler-plan");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["created_at"], "2026-12-02T01:00:00Z");
  EXPECT_EQ(doc["summary"]["deletes"], 2);
  EXPECT_EQ(doc["summary"]["failed"], 1);
  EXPECT_EQ(doc["zones"][0]["counts"]["live"], 12);
  EXPECT_EQ(doc["zones"][0]["deletes"], json({"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(doc["zones"][0]["updates"][0]["to"]["region"], "eu-west-1");
  EXPECT_TRUE(doc["zones"][1]["checksum"].is_null());
  EXPECT_EQ(doc["zones"][0]["policy"], "sync");
  EXPECT_EQ(doc["zones"][0]["unsupported"][0]["region"], "mars-north-1");
  EXPECT_FALSE(doc["zones"][1].contains("policy"));
  EXPECT_EQ(doc["checksum"], plan_checksum(plan.zones));
}

TEST(PlanDocumentText, AZoneNameIsCarriedButNotChecksummed) {
  PlanDocument plan = sample_plan();
  const std::string checksum = plan.zones[0].checksum;
  plan.zones[0].zone_name = "example.com";
  plan.zones[1].zone_name = "example.net";
  const std::string text = to_json_text(plan);
  EXPECT_EQ(parse_plan_document(text, "plan.json"), plan);
  const json doc = json::parse(text);
  EXPECT_EQ(doc["zones"][0]["zone_name"], "example.com");
  EXPECT_EQ(doc["zones"][1]["zone_name"], "example.net");
  EXPECT_EQ(zone_checksum(plan.zones[0].zone_id, plan.zones[0].changes), checksum);
  EXPECT_FALSE(json::parse(to_json_text(sample_plan()))["zones"][0].contains("zone_name"));
  json bad = doc;
  bad["zones"][0]["zone_name"] = "not a name";
  try {
    parse_plan_document(bad.dump(), "plan.json");
    FAIL() << "accepted";
  } catch (const PlanFileError& e) {
    EXPECT_EQ(std::string(e.what()),
              "plan.json: zones[0].zone_name: must be a zone name like example.com (got 'not a "
              "name')");
  }
}

TEST(PlanChecksum, PlanChecksumCoversEveryZone) {
  PlanDocument plan = sample_plan();
  const std::string base = plan.checksum;
  plan.zones[0] = make_plan_zone(kZone, PlanZoneStatus::kPlanned, "", {}, {});
  EXPECT_NE(plan_checksum(plan.zones), base);
  std::swap(plan.zones[0], plan.zones[1]);
  EXPECT_NE(plan_checksum(plan.zones), plan_checksum(sample_plan().zones));
}

// --- strict reading: each case edits the sample document and names the error it expects ---

struct ReaderCase {
  const char* name;
  std::function<void(json&)> edit;
  const char* error;
};

void PrintTo(const ReaderCase& c, std::ostream* os) {
  *os << c.name;
}

class PlanReader : public ::testing::TestWithParam<ReaderCase> {};

TEST_P(PlanReader, NamesFileKeyAndValue) {
  json doc = json::parse(to_json_text(sample_plan()));
  GetParam().edit(doc);
  try {
    parse_plan_document(doc.dump(), "plan.json");
    FAIL() << "accepted";
  } catch (const PlanFileError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanReader,
    ::testing::Values(
        ReaderCase{"other_format", [](json& d) { d["format"] = "terraform"; },
                   "plan.json: format: must be 'origin-reconciler-plan' (got 'terraform')"},
        ReaderCase{"other_version", [](json& d) { d["version"] = 2; },
                   "plan.json: version: this origin-reconciler reads version 1 (got '2')"},
        ReaderCase{"unknown_top_key", [](json& d) { d["approved_by"] = "me"; },
                   "plan.json: approved_by: unknown key"},
        ReaderCase{"missing_top_key", [](json& d) { d.erase("created_at"); },
                   "plan.json: created_at: missing"},
        ReaderCase{"bad_time", [](json& d) { d["created_at"] = "2026-12-02 01:00"; },
                   "plan.json: created_at: must be a UTC time like 2026-12-02T01:30:00Z (got "
                   "'2026-12-02 01:00')"},
        ReaderCase{"bad_flavor", [](json& d) { d["api_flavor"] = "v3"; },
                   "plan.json: api_flavor: must be origin-v2 or cache-v1 (got 'v3')"},
        ReaderCase{"force_type", [](json& d) { d["force"] = "yes"; },
                   "plan.json: force: must be true or false (got 'yes')"},
        ReaderCase{"zone_unknown_key", [](json& d) { d["zones"][0]["note"] = 1; },
                   "plan.json: zones[0].note: unknown key"},
        ReaderCase{"unknown_key_with_a_newline", [](json& d) { d["zones"][0]["no\nte"] = 1; },
                   "plan.json: zones[0].no\\x0ate: unknown key"},
        ReaderCase{"zone_id", [](json& d) { d["zones"][0]["zone_id"] = "ABC"; },
                   "plan.json: zones[0].zone_id: must be 32 lower-case hex characters (got "
                   "'ABC')"},
        ReaderCase{"status", [](json& d) { d["zones"][0]["status"] = "done"; },
                   "plan.json: zones[0].status: must be planned, blocked or failed (got 'done')"},
        ReaderCase{"policy", [](json& d) { d["zones"][0]["policy"] = "upsert-only"; },
                   "plan.json: zones[0].policy: must be prune or sync (got 'upsert-only')"},
        ReaderCase{"unsupported_shape",
                   [](json& d) { d["zones"][0]["unsupported"][0].erase("region"); },
                   "plan.json: zones[0].unsupported[0].region: missing"},
        ReaderCase{"delete_type", [](json& d) { d["zones"][0]["deletes"][1] = 5; },
                   "plan.json: zones[0].deletes[1]: must be a string (got '5')"},
        ReaderCase{"vendor", [](json& d) { d["zones"][0]["creates"][0]["vendor"] = "ibm"; },
                   "plan.json: zones[0].creates[0].vendor: must be one of aws, azure, gcp, oci "
                   "(got 'ibm')"},
        ReaderCase{"update_shape", [](json& d) { d["zones"][0]["updates"][0].erase("to"); },
                   "plan.json: zones[0].updates[0].to: missing"},
        ReaderCase{"count_mismatch", [](json& d) { d["zones"][0]["counts"]["deletes"] = 3; },
                   "plan.json: zones[0].counts.deletes: does not match the 2 deletes listed (got "
                   "'3')"},
        ReaderCase{"negative_count", [](json& d) { d["zones"][0]["counts"]["live"] = -1; },
                   "plan.json: zones[0].counts.live: must be a whole number, 0 or more (got "
                   "'-1')"},
        ReaderCase{"edited_changes", [](json& d) { d["zones"][0]["deletes"][1] = "10.0.0.9"; },
                   "plan.json: zones[0].checksum: does not match the zone's changes (computed "
                   "sha256:fc60c1ae4ea1890ada8c9f98f09d2243e6509df047d41033532e9e310f1d3787): the "
                   "file was edited (got "
                   "'sha256:d16eb54e4b97d5dccdd367f3a71bec290c88c04f4824dfa17d97452c5b6c4e66')"},
        ReaderCase{"checksum_form", [](json& d) { d["zones"][0]["checksum"] = "md5:00"; },
                   "plan.json: zones[0].checksum: must be 'sha256:' and 64 lower-case hex "
                   "digits (got 'md5:00')"},
        ReaderCase{"failed_with_checksum",
                   [](json& d) { d["zones"][1]["checksum"] = "sha256:" + std::string(64, '0'); },
                   "plan.json: zones[1].checksum: must be null for a failed zone (got "
                   "'sha256:0000000000000000000000000000000000000000000000000000000000000000')"},
        ReaderCase{"failed_without_reason", [](json& d) { d["zones"][1].erase("reason"); },
                   "plan.json: zones[1].reason: missing"},
        ReaderCase{"duplicate_zone", [](json& d) { d["zones"][1] = d["zones"][0]; },
                   "plan.json: zones[1].zone_id: appears twice (got "
                   "'023e105f4ecef8ad9ca31a8372d0c353')"},
        ReaderCase{"summary", [](json& d) { d["summary"]["deletes"] = 1; },
                   "plan.json: summary.deletes: does not match the zones (they hold 2) (got '1')"},
        ReaderCase{"plan_checksum",
                   [](json& d) { d["checksum"] = "sha256:" + std::string(64, 'f'); },
                   "plan.json: checksum: does not match the zones (computed "
                   "sha256:6faf3be41e5eb86450b36ca452d91d0d76ab85d486d97957499e42b31a8d91f5): the "
                   "file was edited (got "
                   "'sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff')"},
        ReaderCase{"not_an_object", [](json& d) { d = json::array(); },
                   "plan.json: (document): must be a JSON object (got '[]')"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PlanReaderText, ANumberTooLargeIsNotAPlanNotACrash) {
  try {
    parse_plan_document("{\"version\": 1e99999}", "plan.json");
    FAIL() << "accepted";
  } catch (const PlanFileError& e) {
    EXPECT_NE(std::string(e.what()).find("plan.json: not a plan document: "), std::string::npos)
        << e.what();
  }
}

TEST(PlanReaderText, NotJsonSaysWhere) {
  try {
    parse_plan_document("{\"format\": ", "plan.json");
    FAIL() << "accepted";
  } catch (const PlanFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("plan.json: not a plan document: parse error at line 1"));
  }
}

// --- the streaming reader: the same checks and messages as a reader of the whole tree ---

// The message reading `text` gives, or "" when it reads.
std::string error_of(const std::string& text) {
  try {
    parse_plan_document(text, "plan.json");
  } catch (const PlanFileError& e) {
    return e.what();
  }
  return "";
}

// A value as a message quotes it: the start of its canonical text.
std::string quoted(const json& v) {
  return shown(v.dump(-1, ' ', true, json::error_handler_t::replace), 80);
}

TEST(PlanReaderText, AValueInTheWrongPlaceIsQuotedAsItsWholeTextWouldBe) {
  // The reader keeps of such a value only what a message can quote: a long array, a large
  // object whose keys come out of order, long keys, deep nesting, and every length around the
  // point where the quote is cut.
  std::vector<json> values;
  json many = json::array();
  for (int i = 0; i < 10'000; ++i) many.push_back(i);
  values.push_back(many);
  json keys = json::object();
  for (int i = 9'999; i >= 0; --i) keys["k" + std::to_string(i * 7'919 % 10'007)] = {i, "v"};
  values.push_back(keys);
  values.push_back({{std::string(300, 'b'), 1}, {std::string(300, 'a'), {1, 2}}});
  values.push_back({{"\xc3\xa9" + std::string(200, 'z'), 1}, {"\xc3\xa9", "\xe2\x98\x83"}});
  json deep = "x";
  for (int i = 0; i < 50; ++i) deep = i % 2 ? json{{"b", 1}, {"a", deep}} : json{deep, 1};
  values.push_back(deep);
  for (std::size_t n = 70; n < 90; ++n) {
    values.push_back({std::string(n, 'x')});
    values.push_back({{"k", std::string(n - 5, 'x')}});
    values.push_back({{"a", std::string(n - 40, 'x')}, {"b", std::string(30, 'y')}, {"c", 1}});
    values.push_back({1, std::string(n - 10, 'x'), 2});
  }
  for (const json& value : values) {
    json doc = json::parse(to_json_text(sample_plan()));
    doc["zones"][0]["deletes"][1] = value;
    EXPECT_EQ(error_of(doc.dump()),
              "plan.json: zones[0].deletes[1]: must be a string (got '" + quoted(value) + "')");
    doc = json::parse(to_json_text(sample_plan()));
    doc["version"] = value;
    EXPECT_EQ(
        error_of(doc.dump()),
        "plan.json: version: this origin-reconciler reads version 1 (got '" + quoted(value) + "')");
  }
}

// The sample document's text with zones written first, then the other keys.
std::string zones_first(const json& doc) {
  json rest = doc;
  rest.erase("zones");
  return R"({"zones":)" + doc["zones"].dump() + "," + rest.dump().substr(1);
}

TEST(PlanReaderText, ProblemsAreReportedInTheOrderOfTheChecksNotOfTheText) {
  json doc = json::parse(to_json_text(sample_plan()));
  doc["zones"][0]["deletes"][1] = 5;
  doc["format"] = "terraform";
  // The zone's problem comes first in the text; the format is checked first.
  EXPECT_EQ(error_of(zones_first(doc)),
            "plan.json: format: must be 'origin-reconciler-plan' (got 'terraform')");
  // A syntax error anywhere comes before everything else.
  std::string cut = zones_first(doc);
  cut.pop_back();
  EXPECT_THAT(error_of(cut), HasSubstr("plan.json: not a plan document: parse error at line 1"));
  doc["format"] = "origin-reconciler-plan";
  // In a zone: its id before its lists, whatever the order of the keys.
  doc["zones"][0]["zone_id"] = "ABC";
  EXPECT_EQ(error_of(zones_first(doc)),
            "plan.json: zones[0].zone_id: must be 32 lower-case hex characters (got 'ABC')");
  doc["zones"][0]["zone_id"] = kZone;
  // Zones before the summary, and the first zone with a problem.
  doc["summary"]["deletes"] = 7;
  doc["zones"][1]["reason"] = 3;
  EXPECT_EQ(error_of(zones_first(doc)),
            "plan.json: zones[0].deletes[1]: must be a string (got '5')");
  EXPECT_EQ(error_of(doc.dump()), "plan.json: zones[0].deletes[1]: must be a string (got '5')");
  doc["zones"][0]["deletes"][1] = "10.0.0.2";
  EXPECT_EQ(error_of(doc.dump()), "plan.json: zones[1].reason: must be a string (got '3')");
  doc["zones"][1]["reason"] = "listing mappings: HTTP 503";
  EXPECT_EQ(error_of(zones_first(doc)),
            "plan.json: summary.deletes: does not match the zones (they hold 2) (got '7')");
}

TEST(PlanReaderText, AKeyGivenTwiceTakesItsLastValueAsATreeDoes) {
  const std::string text = json::parse(to_json_text(sample_plan())).dump();
  const std::string real = R"("deletes":["10.0.0.1","10.0.0.2"])";
  ASSERT_NE(text.find(real), std::string::npos);
  std::string before = text;
  before.replace(before.find(real), real.size(), R"("deletes":["10.0.0.9"],)" + real);
  EXPECT_EQ(parse_plan_document(before, "plan.json"), sample_plan());
  std::string after = text;
  after.replace(after.find(real), real.size(), real + R"(,"deletes":["10.0.0.9"])");
  EXPECT_THAT(error_of(after), HasSubstr("plan.json: zones[0].counts.deletes: does not match the 1 "
                                         "deletes listed (got '2')"));
  std::string zones_twice = text;
  zones_twice.insert(1, R"("zones":[{"zone_id":5}],)");
  EXPECT_EQ(parse_plan_document(zones_twice, "plan.json"), sample_plan());
}

TEST(PlanReaderText, AStreamReadsAsTheTextDoes) {
  const PlanDocument plan = sample_plan();
  std::istringstream in(to_json_text(plan));
  EXPECT_EQ(parse_plan_document(in, "plan.json"), plan);
  std::istringstream cut(to_json_text(plan).substr(0, 100));
  try {
    parse_plan_document(cut, "plan.json");
    FAIL() << "accepted";
  } catch (const PlanFileError& e) {
    EXPECT_EQ(std::string(e.what()), error_of(to_json_text(plan).substr(0, 100)));
  }
}

// --- age ---

TEST(PlanAge, FreshUpToMaxAgeThenRefused) {
  const PlanDocument plan = sample_plan();  // 01:00:00
  const Millis hour = std::chrono::hours(1);
  EXPECT_EQ(why_not(check_plan_age(plan, "plan.json", at("2026-12-02T01:00:00Z"), hour)), "");
  EXPECT_EQ(why_not(check_plan_age(plan, "plan.json", at("2026-12-02T02:00:00Z"), hour)), "");
  EXPECT_EQ(why_not(check_plan_age(plan, "plan.json", at("2026-12-02T02:00:01Z"), hour)),
            "plan.json: created_at: the plan is 3601s old, older than --plan-max-age 1h (got "
            "'2026-12-02T01:00:00Z'); make a new plan with --dry-run --plan-out");
}

TEST(PlanAge, FromTheFutureBeyondTheSkewIsRefused) {
  const PlanDocument plan = sample_plan();
  const Millis hour = std::chrono::hours(1);
  EXPECT_EQ(why_not(check_plan_age(plan, "plan.json", at("2026-12-02T00:59:00Z"), hour)), "");
  EXPECT_EQ(why_not(check_plan_age(plan, "plan.json", at("2026-12-02T00:58:59Z"), hour)),
            "plan.json: created_at: lies in the future, the clock here says "
            "2026-12-02T00:58:59Z (got '2026-12-02T01:00:00Z')");
}

TEST(PlanTime, FormatAndParse) {
  EXPECT_EQ(format_utc(WallTime{}), "1970-01-01T00:00:00Z");
  const WallTime t = at("2028-02-29T23:59:59Z");
  EXPECT_EQ(format_utc(t), "2028-02-29T23:59:59Z");
  EXPECT_EQ(format_utc(t + std::chrono::milliseconds(999)), "2028-02-29T23:59:59Z");
  for (const char* bad : {"2027-02-29T00:00:00Z", "2026-12-02T24:00:00Z", "2026-12-02T01:00:00",
                          "2026-12-02T01:00:00+00:00", "2026-12-02t01:00:00Z",
                          "2026-1-02T01:00:00Z", "2026-12-02T01:00:60Z"}) {
    EXPECT_EQ(parse_utc(bad), std::nullopt) << bad;
  }
}

// Dates the clock cannot hold (it wraps past 2262 and before 1678) are refused, not wrapped.
TEST(PlanTime, YearsOutsideTheClocksRangeAreRefused) {
  for (const char* bad : {"2262-04-12T00:00:00Z", "1677-09-21T00:00:00Z", "9999-12-31T23:59:59Z",
                          "0000-01-01T00:00:00Z", "2201-01-01T00:00:00Z", "1969-12-31T23:59:59Z"}) {
    EXPECT_EQ(parse_utc(bad), std::nullopt) << bad;
  }
  EXPECT_TRUE(parse_utc("2200-12-31T23:59:59Z"));
  EXPECT_TRUE(parse_utc("1970-01-01T00:00:00Z"));
}

// --- first difference and review ---

TEST(FirstDifference, NoneForTheSameChangesInAnyOrder) {
  ChangeSet now = sample_changes();
  std::reverse(now.deletes.begin(), now.deletes.end());
  EXPECT_EQ(first_difference(sample_changes(), now), std::nullopt);
}

TEST(FirstDifference, NamesTheFirstOneCreatesThenUpdatesThenDeletes) {
  ChangeSet now = sample_changes();
  now.deletes.push_back("10.0.0.0");
  EXPECT_EQ(first_difference(sample_changes(), now),
            "deletes: 10.0.0.0 is in the plan now but not in the plan file");
  now.updates[0].from.region = "us-west-2";
  EXPECT_EQ(first_difference(sample_changes(), now),
            "updates: the plan file has 10.0.0.5 aws/us-east-1 -> aws/eu-west-1, the plan now "
            "10.0.0.5 aws/us-west-2 -> aws/eu-west-1");
  now.creates.clear();
  EXPECT_EQ(first_difference(sample_changes(), now),
            "creates: 192.0.2.10 gcp/us-central1 is in the plan file but not in the plan now");
}

TEST(FirstDifference, DeletesInFileOnly) {
  ChangeSet now = sample_changes();
  now.deletes = {"10.0.0.2"};
  EXPECT_EQ(first_difference(sample_changes(), now),
            "deletes: 10.0.0.1 is in the plan file but not in the plan now");
}

TEST(ReviewZone, ApprovesTheReviewedChangesOrAPartOfThem) {
  const PlanDocument plan = sample_plan();
  EXPECT_EQ(why_not(review_zone(plan, kZone, sample_changes())), "");
  // What a partial application leaves: a part of the reviewed plan, applied.
  ChangeSet now = sample_changes();
  now.deletes.pop_back();
  EXPECT_EQ(why_not(review_zone(plan, kZone, now)), "");
  // A change the file does not hold: refused, naming it.
  now.deletes.push_back("10.0.0.7");
  EXPECT_EQ(why_not(review_zone(plan, kZone, now)),
            "the plan now differs from the plan file: deletes: 10.0.0.7 is in the plan now but "
            "not in the plan file");
  EXPECT_EQ(why_not(review_zone(plan, "2222222222222222222222222222222b", {})),
            "the zone is not in the plan file");
  EXPECT_EQ(why_not(review_zone(plan, kZoneB, {})),
            "the plan file holds no plan for the zone: it could not be listed when the plan was "
            "made (listing mappings: HTTP 503)");
}

TEST(ReviewZone, CountsWhatIsLeftOfTheReviewedPlan) {
  const PlanDocument plan = sample_plan();
  const ChangeSet all = sample_changes();
  const std::size_t total = all.creates.size() + all.updates.size() + all.deletes.size();
  ASSERT_GE(total, 3u);
  ZoneReview r = review_zone_changes(plan, kZone, all);
  EXPECT_TRUE(r.verdict.ok());
  EXPECT_EQ(r.reviewed, total);
  EXPECT_EQ(r.left, total);
  EXPECT_EQ(r.progress(), "") << "the plan as reviewed: nothing to say";

  ChangeSet part = all;
  part.creates.clear();
  r = review_zone_changes(plan, kZone, part);
  EXPECT_TRUE(r.verdict.ok());
  EXPECT_EQ(r.left, total - all.creates.size());
  EXPECT_EQ(r.progress(), "resumed: " + std::to_string(r.left) + " of the " +
                              std::to_string(total) +
                              " reviewed changes left, the others are in place");

  r = review_zone_changes(plan, kZone, {});
  EXPECT_TRUE(r.verdict.ok());
  EXPECT_EQ(r.progress(), "already applied: the " + std::to_string(total) +
                              " changes of the reviewed plan are in place");

  // An update whose live side moved since the review is not a part of it.
  ChangeSet moved = part;
  ASSERT_FALSE(moved.updates.empty());
  moved.updates[0].from.region = "somewhere-else-1";
  r = review_zone_changes(plan, kZone, moved);
  ASSERT_FALSE(r.verdict.ok());
  EXPECT_THAT(r.verdict.error().message, ::testing::HasSubstr("updates: the plan file has "));
  EXPECT_EQ(r.progress(), "");
}

}  // namespace
}  // namespace orc
