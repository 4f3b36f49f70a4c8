// The strict-YAML reader shared by the configuration and desired-state parsers. It runs on
// libyaml's event parser (the C parser behind PyYAML's fast loader; with yaml-cpp's scanner,
// --check-config of a 43 MB desired state took 3.9 s of CPU, with libyaml 1.8 s): values
// are handed to the parser's handlers as they are read, so no document tree is ever built,
// whatever the size of the file. Positions are YAML::Mark (yaml-cpp's header-only position
// type, 0-based line and column). Messages name the file, the line, the key path and the value:
//   "desired.yaml:6: zones[2].origins[5]: '10.0.0.300' is not an IPv4 or IPv6 address".
//
// A parser declares what it expects as a tree of handlers, built once and reused for every
// value at their position:
//
//   yaml::Map retry;  // a section: may be left out or empty
//   retry.key("max_attempts", [&](yaml::Reader& r, const yaml::Value& v) {
//     policy.max_attempts = ...;  // r.fail_value(v, "must be ...") on a bad value
//   });
//   yaml::Map reconcile;
//   reconcile.key("retry", retry);  // a nested map (or yaml::Seq, or any Handler)
//   yaml::Map top;
//   top.key("reconcile", reconcile);
//   Status s = yaml::Reader("config.yaml").read(text, top);
//
// Strict: a map's unknown and repeated keys are errors, keys must be strings, and a file
// holds at most one document. The first error in document order is the one reported; errors
// in the YAML syntax itself, anywhere in the file, come first (as a tree builder would report
// them). Anchors and aliases work: an anchored value's events are kept (only those) and
// replayed where an alias names it, with the anchored value's own lines.
//
// A text written as JSON (which is YAML) can be read by read_json instead, on RapidJSON's SAX
// reader: the same values with the same positions, several times faster than libyaml's scanner
// on a large file. It reads only what YAML reads the same way and leaves the rest (and every
// message) to read().
#pragma once

#include <yaml-cpp/mark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace orc::yaml {

class Reader;

// The next bytes of a document read a piece at a time: fills `buf` with `size` bytes and
// returns how many, fewer only at the end (0 there), as a loop of read(2) does. So the parser
// sees the text in the pieces it sees a whole text in (its buffer's size, 16 KiB): errors
// come in the same order, an invalid byte ahead before a syntax error behind it.
using Source = std::function<std::size_t(char* buf, std::size_t size)>;

// A text held whole as a Source, from its start (each call makes a new one). `text` must
// outlive it.
Source text_source(std::string_view text);

// One value as the reader hands it out: a scalar, a null, or the start of a map or a
// sequence. Valid during the call it is passed to; keep a Kept to use it later.
struct Value {
  enum class Kind : std::uint8_t { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  // Where the value starts. A null has no position of its own: a null map value carries its
  // key's, a null sequence item or document none.
  YAML::Mark mark = YAML::Mark::null_mark();
  std::string_view text;  // kScalar: the value after YAML's unescaping
  bool quoted = false;    // kScalar written in quotes: a string, never a number or a boolean

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_map() const { return kind == Kind::kMap; }
  // "'text'" (escaped, cut after 120 characters), "a map", "a sequence" or "nothing".
  std::string describe() const;
};

// A copy of a Value that outlives the call (for checks made when a map ends).
class Kept {
 public:
  Kept() = default;
  explicit Kept(const Value& v) : value_(v), text_(v.text) { value_.text = {}; }
  Value value() const {
    Value v = value_;
    v.text = text_;
    return v;
  }

 private:
  Value value_;
  std::string text_;
};

// What a parser expects at one position of the document.
class Handler {
 public:
  virtual ~Handler() = default;
  // The value at this position. For a map or a sequence, its entries or items follow, then
  // end(). Rejects a value it cannot take with Reader::fail / fail_value.
  virtual void begin(Reader& r, const Value& v) = 0;
  // In a map begun here: the handler of the value under `key` (always a scalar).
  virtual Handler& entry(Reader& r, const Value& key);
  // In a sequence begun here: the handler of the item at `index`.
  virtual Handler& item(Reader& r, std::size_t index);
  // After the last entry or item of a map or sequence begun here.
  virtual void end(Reader& r);
};

// Reads one document. Handlers report errors through fail*, which stop the reading of values
// (the rest of the file is still checked for YAML syntax errors, which take precedence).
class Reader {
 public:
  // `file` names the document in messages.
  explicit Reader(std::string file);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Hands every value of `text` to `root` and the handlers below it. An empty file is one null
  // value. The error, when there is one, is the whole message:
  //   "file:3: column 5: invalid YAML: ..." (syntax), "file: holds 2 YAML documents; expected
  //   one", or the first "file:line: path: what" a handler raised.
  Status read(std::string_view text, Handler& root);
  // As read(text, root), the text taken from `source` a piece at a time as the parser needs
  // it, so that it is never held whole. Only a syntax error's message quotes the text: then
  // `whole_text` is called for it (the caller reads the file again).
  Status read(const Source& source, Handler& root, const std::function<std::string()>& whole_text);

  // Hands every value of a text written as JSON to `root` as read() would: the same values in
  // the same order, at the same lines. True when the whole text was read so and every handler
  // took its value. False, at any point of the text, when it is not a JSON object that YAML
  // reads the same way (it does not start with '{', RapidJSON refuses it, it holds an escape, a
  // byte outside printable ASCII, a key whose ':' is on another line or more than 1,024
  // characters after the key's start) or a handler failed: the handlers may have been given
  // part of the text, so read it again with read() on fresh handlers, for YAML's reading and
  // its messages.
  bool read_json(const Source& source, Handler& root);

  // The path of the value being read: "reconcile.retry.max_attempts", "zones[2].origins[5]";
  // "" at the top. While a map or sequence ends, its own path.
  std::string path() const;

  // Stops with "file:line: path: what" ("top level" for the path "").
  [[noreturn]] void fail(const YAML::Mark& at, const std::string& path, const std::string& what);
  // Stops with "file:line: path: what (got 'value')" at the value (the path of the value being
  // read, or the one given).
  [[noreturn]] void fail_value(const Value& v, const std::string& what);
  [[noreturn]] void fail_value(const Value& v, const std::string& path, const std::string& what);
  // Stops with "file: what": for what concerns the file as a whole.
  [[noreturn]] void fail_file(const std::string& what);

  // A handler that takes any value and everything in it.
  Handler& skip();

 private:
  class EventParser;
  class Events;
  class JsonEvents;
  struct State;
  Status read_all(EventParser& parser, Handler& root);
  std::string file_;
  std::unique_ptr<State> state_;
};

// The hooks of a map or sequence: called when one begins (reset per-value state) and when it
// ends (check what is missing).
template <class Self>
class Hooks : public Handler {
 public:
  Self& on_begin(std::function<void(Reader&, const Value&)> f) {
    begin_hook_ = std::move(f);
    return static_cast<Self&>(*this);
  }
  Self& on_end(std::function<void(Reader&)> f) {
    end_hook_ = std::move(f);
    return static_cast<Self&>(*this);
  }
  void end(Reader& r) override {
    if (end_hook_) end_hook_(r);
  }

 protected:
  void begun(Reader& r, const Value& v) {
    if (begin_hook_) begin_hook_(r, v);
  }

 private:
  std::function<void(Reader&, const Value&)> begin_hook_;
  std::function<void(Reader&)> end_hook_;
};

// A map with declared keys: an unknown key is an error naming it ("unknown key" and the hint),
// and so is a key written twice. Each key's value goes to its handler or function.
class Map : public Hooks<Map> {
 public:
  // Called with the value under a key, whatever it is (reject what does not fit).
  using Read = std::function<void(Reader& r, const Value& v)>;

  // A section: a null value (the key written with nothing after it) is an empty map, every key
  // left at its default; any other non-map is "must be a map".
  Map();
  // A map that must be there: any non-map, a null included, is `must_be`; an unknown key is
  // "unknown key" followed by `unknown_hint` (e.g. "(the only key is zones)") when not empty.
  Map(std::string must_be, std::string unknown_hint);
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;

  Map& key(std::string name, Handler& handler);  // a nested map, a Seq or any Handler
  Map& key(std::string name, Read read);         // anything: its function decides
  // Called instead of the "must be a map" error for a value that is not a map.
  Map& otherwise(Read read);

  // Whether the map being read (or the last one) had `name`.
  bool seen(std::string_view name) const;
  // Where the map being read (or the last one) begins.
  const YAML::Mark& mark() const { return mark_; }

  void begin(Reader& r, const Value& v) override;
  Handler& entry(Reader& r, const Value& key) override;

 private:
  struct Field {
    std::string name;
    Handler* handler = nullptr;
    bool seen = false;
  };
  bool null_is_empty_;
  std::string must_be_;
  std::string unknown_hint_;
  std::vector<Field> fields_;
  std::vector<std::unique_ptr<Handler>> owned_;  // the handlers made for Read functions
  Read otherwise_;
  YAML::Mark mark_ = YAML::Mark::null_mark();
};

// A sequence whose items all go to one handler.
class Seq : public Hooks<Seq> {
 public:
  // `must_be`: the message for a value that is not a sequence (a null included).
  Seq(std::string must_be, Handler& item);
  Seq(const Seq&) = delete;
  Seq& operator=(const Seq&) = delete;

  // Items of the sequence being read (or the last one) so far, and where it begins.
  std::size_t size() const { return size_; }
  const YAML::Mark& mark() const { return mark_; }

  void begin(Reader& r, const Value& v) override;
  Handler& item(Reader& r, std::size_t index) override;

 private:
  std::string must_be_;
  Handler& item_;
  std::size_t size_ = 0;
  YAML::Mark mark_ = YAML::Mark::null_mark();
};

// A handler made of one function: scalars (and whatever else it does not reject).
class Scalar : public Handler {
 public:
  explicit Scalar(Map::Read read) : read_(std::move(read)) {}
  void begin(Reader& r, const Value& v) override { read_(r, v); }

 private:
  Map::Read read_;
};

}  // namespace orc::yaml

namespace orc {

// "file:line" for a YAML position (1-based line), or just "file" when there is none.
std::string where(const std::string& file, const YAML::Mark& mark);

}  // namespace orc
