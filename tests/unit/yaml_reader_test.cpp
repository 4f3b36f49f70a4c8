#include "config/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace orc::yaml {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A small schema: {name: scalar, items: [scalar...], inner: {n: scalar}}. Every scalar read is
// recorded as "path=value@line".
class Recorder {
 public:
  Recorder() {
    auto record = [this](Reader& r, const Value& v) {
      if (!v.is_scalar()) r.fail_value(v, "must be a scalar");
      if (v.text == "bad") r.fail(v.mark, r.path(), "is bad");
      seen.push_back(r.path() + "=" + std::string(v.text) + "@" + std::to_string(v.mark.line + 1));
    };
    top.key("name", record).key("items", items).key("inner", inner);
    inner.key("n", record).on_end([this](Reader& r) {
      if (!inner.seen("n")) r.fail(inner.mark(), r.path(), "missing n");
    });
  }
  // Reads `text` whole, and as a stream (which must hand out the same values and give the
  // same message).
  std::string read(const std::string& text) {
    const Source source = text_source(text);
    const std::vector<std::string> before = seen;
    seen.clear();
    const Status streamed = Reader("f.yaml").read(source, top, [&] { return text; });
    const std::vector<std::string> streamed_seen = std::exchange(seen, before);
    const Status s = Reader("f.yaml").read(text, top);
    const std::string message = s.ok() ? std::string() : s.error().message;
    EXPECT_EQ(streamed.ok() ? std::string() : streamed.error().message, message) << text;
    EXPECT_EQ(streamed_seen,
              std::vector<std::string>(seen.begin() + static_cast<std::ptrdiff_t>(before.size()),
                                       seen.end()))
        << text;
    return message;
  }

  std::vector<std::string> seen;
  Scalar item{[this](Reader& r, const Value& v) {
    if (!v.is_scalar()) r.fail_value(v, "must be a scalar");
    seen.push_back(r.path() + "=" + std::string(v.text) + "@" + std::to_string(v.mark.line + 1));
  }};
  Seq items{"must be a sequence", item};
  Map inner{"must be a map", "(inner has n)"};
  Map top;
};

// A source that throws (a read that cannot go on) ends the reading with its exception, which
// does not cross the C parser.
TEST(YamlReader, AnExceptionFromTheSourceReachesTheCaller) {
  Recorder r;
  const std::string text = "name: a\nitems: [x, y]\n";
  int calls = 0;
  const Source source = [&](char* buf, std::size_t size) -> std::size_t {
    if (++calls > 1) throw std::runtime_error("the disk went away");
    const std::size_t n = std::min(size, text.size());  // the text, then the failure
    std::copy_n(text.data(), n, buf);
    return n;
  };
  try {
    (void)Reader("f.yaml").read(source, r.top, [&] { return text; });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "the disk went away");
  }
}

TEST(YamlReader, HandsOutEveryValueWithItsPathAndLine) {
  Recorder r;
  EXPECT_EQ(r.read("name: a\nitems: [x, y]\ninner:\n  n: 5\n"), "");
  EXPECT_THAT(r.seen, ElementsAre("name=a@1", "items[0]=x@2", "items[1]=y@2", "inner.n=5@4"));
}

TEST(YamlReader, StrictKeys) {
  Recorder r;
  EXPECT_EQ(r.read("name: a\nnmae: b\n"), "f.yaml:2: nmae: unknown key");
  EXPECT_EQ(r.read("inner: {n: 1, m: 2}\n"), "f.yaml:1: inner.m: unknown key (inner has n)");
  EXPECT_EQ(r.read("name: a\nname: b\n"), "f.yaml:2: name: appears twice");
  EXPECT_EQ(r.read("? [a]\n: b\n"), "f.yaml:1: top level: keys must be strings (got a sequence)");
  EXPECT_EQ(r.read("inner: {}\n"), "f.yaml:1: inner: missing n");
  EXPECT_EQ(r.read("inner: 5\n"), "f.yaml:1: inner: must be a map (got '5')");
}

// A section written with nothing after it is an empty map; a null sequence item has no line.
TEST(YamlReader, NullsTakeTheirKeysLine) {
  Recorder r;
  EXPECT_EQ(r.read(""), "");
  EXPECT_EQ(r.read("~\n"), "");
  EXPECT_EQ(r.read("\n\nname:\n"), "f.yaml:3: name: must be a scalar (got nothing)");
  EXPECT_EQ(r.read("items:\n  - a\n  -\n"), "f.yaml: items[1]: must be a scalar (got nothing)");
  EXPECT_EQ(r.read("inner:\n"), "f.yaml:1: inner: must be a map (got nothing)");
}

// The first error in document order is reported; a syntax error anywhere comes before it, and
// so does a second document.
TEST(YamlReader, SyntaxErrorsAndDocumentsComeFirst) {
  Recorder r;
  EXPECT_EQ(r.read("name: bad\nitems: [bad, bad]\n"), "f.yaml:1: name: is bad");
  EXPECT_THAT(r.read("name: bad\nitems: [a\n"), StartsWith("f.yaml:3: column "));
  EXPECT_THAT(r.read("name: bad\nitems: [a\n"), HasSubstr(": invalid YAML: "));
  EXPECT_EQ(r.read("name: bad\n---\nname: a\n"), "f.yaml: holds 2 YAML documents; expected one");
  EXPECT_EQ(r.read(","), "f.yaml:1: column 1: invalid YAML: unexpected ','");
}

// An alias reads as the value it names, at that value's lines, under the alias's path.
TEST(YamlReader, AliasesReplayTheAnchoredValue) {
  Recorder r;
  EXPECT_EQ(r.read("name: &n a\nitems: &i [x, *n]\ninner:\n  n: *n\n"), "");
  EXPECT_THAT(r.seen, ElementsAre("name=a@1", "items[0]=x@2", "items[1]=a@1", "inner.n=a@1"));
  Recorder again;
  EXPECT_EQ(again.read("inner: &m {n: 1}\nitems: [a]\n"), "");
  EXPECT_EQ(again.read("name: &k name\n*k : b\n"), "f.yaml:1: name: appears twice");
  EXPECT_EQ(again.read("items: &s [a, *s]\n"),
            "f.yaml:1: items: an alias inside the value it refers to");
  EXPECT_EQ(again.read("items: [*nowhere]\n").substr(0, 9), "f.yaml:1:");
}

// libyaml's own messages, with the line and column of the problem and, for a structure left
// open, the line where it began; control characters outside an escape are not YAML.
TEST(YamlReader, SyntaxErrorsNameWhereAndWhat) {
  Recorder r;
  EXPECT_EQ(r.read("name: a\nitems: [x, y\ninner: {n: 1}\n"),
            "f.yaml:3: column 6: invalid YAML: did not find expected ',' or ']' (while parsing a "
            "flow sequence from line 2)");
  EXPECT_EQ(r.read("inner: {n: 1"),
            "f.yaml:1: column 13: invalid YAML: did not find expected ',' or '}' (while parsing a "
            "flow mapping from line 1)");
  EXPECT_EQ(r.read("name: a\nitems: [*nowhere]\n"),
            "f.yaml:2: column 9: invalid YAML: the referenced anchor is not defined");
  EXPECT_EQ(r.read("name: a\x01"
                   "b\n"),
            "f.yaml:1: column 8: invalid YAML: control characters are not allowed: \\x01");
}

TEST(YamlReader, ControlCharactersAreEscapedInPathsAndValues) {
  Recorder r;
  EXPECT_EQ(r.read("\"na\\x01me\": a\n"), "f.yaml:1: na\\x01me: unknown key");
  EXPECT_EQ(r.read("inner: {n: [\"\\x1b\"]}\n"),
            "f.yaml:1: inner.n: must be a scalar (got a sequence)");
}

TEST(YamlReader, KeptValuesOutliveTheirEvent) {
  Kept kept;
  Map top;
  top.key("a", [&](Reader&, const Value& v) { kept = Kept(v); });
  ASSERT_TRUE(Reader("f.yaml").read("a: 'quoted text'\n", top).ok());
  const Value v = kept.value();
  EXPECT_EQ(v.text, "quoted text");
  EXPECT_TRUE(v.quoted);
  EXPECT_EQ(v.describe(), "'quoted text'");
  EXPECT_EQ(v.mark.line, 0);
}

// --- read_json ------------------------------------------------------------------------------

// Takes any document and logs every value as handed out: its path, kind, text, quotes and
// position (line, column and offset), and where each map and sequence ends.
class Log final : public Handler {
 public:
  void begin(Reader& r, const Value& v) override {
    const char* kinds[] = {"null", "scalar", "sequence", "map"};
    lines.push_back(r.path() + " " + kinds[static_cast<int>(v.kind)] + " '" + std::string(v.text) +
                    "'" + (v.quoted ? " quoted" : "") + " @" + position(v.mark));
  }
  Handler& entry(Reader& r, const Value& key) override {
    lines.push_back(r.path() + " key '" + std::string(key.text) + "' @" + position(key.mark));
    return *this;
  }
  Handler& item(Reader&, std::size_t) override { return *this; }
  void end(Reader& r) override { lines.push_back(r.path() + " end"); }

  std::vector<std::string> lines;

 private:
  static std::string position(const YAML::Mark& m) {
    if (m.is_null()) return "none";
    return std::to_string(m.line) + ":" + std::to_string(m.column) + ":" + std::to_string(m.pos);
  }
};

// `text` at most `piece` bytes a call: fewer than asked, which read_json takes too (its tokens
// then cross the pieces' ends everywhere).
Source small_pieces_of(const std::string& text, std::size_t piece) {
  return [&text, at = std::size_t{0}, piece](char* buf, std::size_t size) mutable {
    const std::size_t n = std::min({size, piece, text.size() - at});
    std::copy_n(text.data() + at, n, buf);
    at += n;
    return n;
  };
}

// read_json takes `text` and hands out what read() hands out, at the same positions.
void expect_read_as_yaml_reads(const std::string& text) {
  Log yaml;
  ASSERT_TRUE(Reader("f.yaml").read(text, yaml).ok()) << text;
  Log json;
  EXPECT_TRUE(Reader("f.yaml").read_json(text_source(text), json)) << text;
  EXPECT_EQ(json.lines, yaml.lines) << text;
}

TEST(YamlReaderJson, HandsOutWhatYamlReadsAtTheSamePositions) {
  for (const std::string& text : {
           std::string(R"({"name": "a", "items": ["x", 1, -2.5e3, true, false, null], )"
                       R"("inner": {"n": "v"}})"),
           std::string(R"({"a":{"b":[1,{"c":null}]},"d":[],"e":{},"f":"","":""})"),
           std::string("{\n  \"zones\": [\n    {\n      \"zone_id\": \"x\",\n      \"origins\": "
                       "[\n        \"10.0.0.1\",\n        {\"ip\": \"::1\"}\n      ]\n    }\n  "
                       "]\n}\n"),
           std::string("{\r\n  \"a\": \"b\",\r\n  \"c\": [\r\n    1\r\n  ]\r\n}\r\n"),
           std::string("{\r\"a\": 1,\r\"b\": [2]\r}"),
           std::string("{\t\"a\":\t[\t1\t]\t}\n"),
           std::string("\n\n  {\"a\": 1}\n\n"),
           std::string("{\"a\":\n  \"on the next line, after the colon\"}"),
           std::string("{\"a\": 1, \"a\": 2}"),
           std::string(R"({"a:b": "c: d", "url": "http://x:80/", "": ":"})"),
           "{\"" + std::string(1019, 'k') + "\": 1}",
       }) {
    expect_read_as_yaml_reads(text);
  }
}

// A text larger than the stream's piece, given a few bytes at a time, reads as YAML reads it.
TEST(YamlReaderJson, ReadsATextInAnyPieces) {
  std::string text = "{\"items\": [";
  for (int i = 0; i < 20000; ++i) text += (i ? ", \"" : "\"") + std::to_string(i) + "\"";
  text += "],\n\"last\": {\"k\": true}}\n";
  Log yaml;
  ASSERT_TRUE(Reader("f.yaml").read(text, yaml).ok());
  Log json;
  EXPECT_TRUE(Reader("f.yaml").read_json(small_pieces_of(text, 7), json));
  EXPECT_EQ(json.lines, yaml.lines);
}

// What YAML would read otherwise, or refuse, and what is not JSON, is left to read().
TEST(YamlReaderJson, LeavesToYamlWhatItWouldReadOtherwise) {
  for (const std::string& text : {
           std::string("{\"a\"\n: 1}"),                // ':' on the next line
           "{\"" + std::string(1100, 'k') + "\": 1}",  // too far for a key
           std::string(R"({"a": "\u0041"})"),          // an escape
           std::string(R"({"a": "\ud83d\ude00"})"),    // a surrogate pair: libyaml refuses it
           std::string("{\"a\": \"caf\xc3\xa9\"}"),    // beyond ASCII
           std::string("{\"a\": \"x\x7f\"}"),          // DEL
           std::string("{\"a\": 1}\n", 9) + std::string(1, '\0'),  // a NUL after it
           std::string("{a: 1}"),
           std::string("a: 1\n"),
           std::string("[1, 2]"),
           std::string(""),
           std::string("{\"a\": 1} {\"b\": 2}"),
           std::string("{\"a\": 1}\n---\n"),
           std::string("{\"a\": 1,}"),
           std::string("{\"a\": 'x'}"),
           std::string("{\"a\": 01}"),
           std::string("{\"a\": 1} # a comment"),
           std::string("\xef\xbb\xbf{\"a\": 1}"),
       }) {
    Log json;
    EXPECT_FALSE(Reader("f.yaml").read_json(text_source(text), json)) << text;
  }
}

// A handler's failure ends the reading too: read() gives the message.
TEST(YamlReaderJson, LeavesAFailureToYaml) {
  Recorder r;
  for (const std::string text : {R"({"name": "bad"})", R"({"nmae": "a"})", R"({"inner": {}})"}) {
    EXPECT_FALSE(Reader("f.yaml").read_json(text_source(text), r.top)) << text;
  }
  const std::string good = R"({"name": "a", "items": ["x"], "inner": {"n": "5"}})";
  r.seen.clear();
  EXPECT_TRUE(Reader("f.yaml").read_json(text_source(good), r.top));
  EXPECT_THAT(r.seen, ElementsAre("name=a@1", "items[0]=x@1", "inner.n=5@1"));
}

}  // namespace
}  // namespace orc::yaml
