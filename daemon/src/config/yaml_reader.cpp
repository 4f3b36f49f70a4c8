#include "config/yaml_reader.h"

#include <rapidjson/reader.h>
#include <yaml.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/source_text.h"

namespace orc::yaml {

namespace {

// A handler's error: the whole message. Caught by the reader, never seen outside it.
struct Failure {
  std::string message;
};

// A YAML syntax error: the message after "invalid YAML: " and where it is.
struct SyntaxError {
  YAML::Mark mark;
  std::string message;
};

class SkipAll final : public Handler {
 public:
  void begin(Reader&, const Value&) override {}
  Handler& entry(Reader&, const Value&) override { return *this; }
  Handler& item(Reader&, std::size_t) override { return *this; }
};

// One parser event, as kept for an anchored value.
struct Event {
  enum class Type : std::uint8_t { kNull, kScalar, kSequenceStart, kMapStart, kEnd, kAlias };
  Type type = Type::kNull;
  bool quoted = false;
  YAML::Mark mark;
  std::string text;  // kScalar: the value; kAlias: the anchor's name
};

// The events of an anchored value, kept while it is read and complete after its end.
struct Recording {
  std::vector<Event> events;
  int depth = 0;
  bool complete = false;
};

YAML::Mark mark_at(std::size_t line, std::size_t column, std::size_t index) {
  YAML::Mark m;
  m.pos = static_cast<int>(index);
  m.line = static_cast<int>(line);
  m.column = static_cast<int>(column);
  return m;
}

YAML::Mark mark_of(const yaml_mark_t& m) {
  return mark_at(m.line, m.column, m.index);
}

// The line and column of a byte offset, counted in the text itself.
YAML::Mark mark_of_offset(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  const std::string_view before = text.substr(0, offset);
  const auto line = static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start =
      before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1;
  return mark_at(line, offset - line_start, offset);
}

// YAML's plain null: an empty value, ~, null, Null or NULL, neither quoted nor tagged.
bool is_null_scalar(const yaml_event_t& e) {
  if (e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE || e.data.scalar.tag != nullptr) {
    return false;
  }
  const std::string_view v(reinterpret_cast<const char*>(e.data.scalar.value),
                           e.data.scalar.length);
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

// A quoted or block scalar, or one tagged "!" (YAML's non-specific tag): a string, never a
// number or a boolean.
bool is_quoted_scalar(const yaml_event_t& e) {
  const char* tag = reinterpret_cast<const char*>(e.data.scalar.tag);
  if (tag != nullptr) return std::string_view(tag) == "!";
  return e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
}

std::string_view anchor_of(const yaml_char_t* anchor) {
  return anchor == nullptr ? std::string_view() : reinterpret_cast<const char*>(anchor);
}

// libyaml's description of the error, where it is: its problem, then what it was parsing and
// from which line ("did not find expected key (while parsing a block mapping from line 1)").
// A stray ',' and an escaped control character read as they always have.
SyntaxError syntax_error(const yaml_parser_t& p, std::string_view text) {
  SyntaxError out;
  const std::string problem = p.problem != nullptr ? p.problem : "unreadable input";
  if (p.error == YAML_READER_ERROR) {
    // The reader gives a byte offset, not a line.
    out.mark = mark_of_offset(text, p.problem_offset);
    const std::size_t at = std::min(p.problem_offset, text.size());
    if (at > 0 && at < text.size() && text[at - 1] == '\\') {
      ++out.mark.column;  // the column after it, as the message always said
      out.message = "unknown escape character: " + shown(text.substr(at, 1));
    } else {
      out.message = problem;
      if (at < text.size()) out.message += ": " + shown(text.substr(at, 1));
    }
    return out;
  }
  out.mark = mark_of(p.problem_mark);
  // At the end of a text without a final newline libyaml counts one more line: the error is
  // on the last line, after its last character.
  if (p.problem_mark.index >= text.size() && !text.empty() && text.back() != '\n') {
    out.mark = mark_of_offset(text, text.size());
  }
  const std::size_t at = p.problem_mark.index;
  if (at < text.size() && text[at] == ',' && problem == "did not find expected node content") {
    out.message = "unexpected ','";
    return out;
  }
  out.message = problem;
  if (p.context != nullptr) {
    out.message += std::string(" (") + p.context + " from line " +
                   std::to_string(p.context_mark.line + 1) + ")";
  }
  return out;
}

}  // namespace

// libyaml's parser and its current event, released whatever happens.
class Reader::EventParser {
 public:
  explicit EventParser(std::string_view text) : text_(text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  // The text read from `source` as libyaml asks for it (a few kilobytes at a time); for a
  // syntax error's message, `whole_text` gives the text.
  EventParser(const Source& source, const std::function<std::string()>& whole_text)
      : source_(&source), whole_text_(&whole_text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input(&parser_, &Reader::EventParser::read_source, this);
  }
  ~EventParser() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // The next event; throws SyntaxError.
  const yaml_event_t& next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = false;
    if (yaml_parser_parse(&parser_, &event_) == 0) {
      if (source_failure_) std::rethrow_exception(source_failure_);
      if (whole_text_ != nullptr) {
        fetched_ = (*whole_text_)();
        text_ = fetched_;
      }
      throw syntax_error(parser_, text_);
    }
    has_event_ = true;
    return event_;
  }

 private:
  // libyaml's read handler. An exception must not cross libyaml's C frames: it is kept, the
  // parse fails as an input error, and next() throws it again.
  static int read_source(void* self, unsigned char* buffer, std::size_t size,
                         std::size_t* size_read) {
    auto* parser = static_cast<Reader::EventParser*>(self);
    try {
      *size_read = (*parser->source_)(reinterpret_cast<char*>(buffer), size);
      return 1;
    } catch (...) {
      parser->source_failure_ = std::current_exception();
      *size_read = 0;
      return 0;
    }
  }

  std::string_view text_;
  const Source* source_ = nullptr;
  const std::function<std::string()>* whole_text_ = nullptr;
  std::string fetched_;                // the text read for a message
  std::exception_ptr source_failure_;  // what the source threw
  yaml_parser_t parser_;
  yaml_event_t event_;
  bool has_event_ = false;
};

Source text_source(std::string_view text) {
  return [text, at = std::size_t{0}](char* buf, std::size_t size) mutable {
    const std::size_t n = std::min(size, text.size() - at);
    std::copy_n(text.data() + at, n, buf);
    at += n;
    return n;
  };
}

std::string Value::describe() const {
  switch (kind) {
    case Kind::kScalar: {
      // Built by appending: GCC 12 warns falsely (-Wrestrict) about "'" + std::string&&.
      std::string out(1, '\'');
      out += shown(text);
      out += '\'';
      return out;
    }
    case Kind::kMap:
      return "a map";
    case Kind::kSequence:
      return "a sequence";
    case Kind::kNull:
      break;
  }
  return "nothing";
}

Handler& Handler::entry(Reader& r, const Value&) {
  return r.skip();
}
Handler& Handler::item(Reader& r, std::size_t) {
  return r.skip();
}
void Handler::end(Reader&) {}

// --- The reader ------------------------------------------------------------------------------

struct Reader::State {
  struct Frame {
    Handler* handler = nullptr;
    bool is_map = false;
    bool inside = false;               // an entry's value or an item is being read
    Handler* value_handler = nullptr;  // map: the current entry's value handler
    std::string key;                   // map: the current key
    YAML::Mark key_mark;               // map: the current key's (at first the map's own)
    std::size_t index = 0;             // sequence: the current item
  };

  Handler* root = nullptr;
  std::vector<Frame> stack;
  int documents = 0;
  bool failed = false;
  std::string error;
  SkipAll skip;
  // Anchors of the current document, by name; a name anchored again names the later value.
  std::unordered_map<std::string, Recording> anchors;
  std::vector<std::string> recording;       // anchored values not yet complete
  std::unordered_set<std::string> defined;  // every anchor of the document so far
};

// Takes libyaml's events, keeps the anchored ones, and hands values to the handlers.
class Reader::Events {
 public:
  explicit Events(Reader& reader) : r_(reader), s_(*reader.state_) {}

  // A value or the end of a map or sequence, read from a JSON text (which has no anchors).
  void json_value(const Value& v) {
    if (active()) guarded([&] { value(v); });
  }
  void json_end() {
    if (active()) guarded([&] { end(); });
  }

  // One event of the text.
  void take(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        ++s_.documents;
        s_.anchors.clear();
        s_.recording.clear();
        s_.defined.clear();
        break;
      case YAML_SCALAR_EVENT: {
        const YAML::Mark mark = mark_of(e.start_mark);
        const std::string_view anchor = anchor_of(e.data.scalar.anchor);
        define(anchor, mark);
        if (is_null_scalar(e)) {
          live(Event{Event::Type::kNull, false, mark, {}}, anchor);
          break;
        }
        const std::string_view text(reinterpret_cast<const char*>(e.data.scalar.value),
                                    e.data.scalar.length);
        const bool quoted = is_quoted_scalar(e);
        if (!active()) break;
        if (anchor.empty() && s_.recording.empty()) {
          // The common case, without a copy of the text.
          guarded([&] { value(Value{Value::Kind::kScalar, mark, text, quoted}); });
          break;
        }
        live(Event{Event::Type::kScalar, quoted, mark, std::string(text)}, anchor);
        break;
      }
      case YAML_ALIAS_EVENT: {
        const std::string_view name = anchor_of(e.data.alias.anchor);
        const YAML::Mark mark = mark_of(e.start_mark);
        if (!s_.defined.contains(std::string(name))) {
          throw SyntaxError{mark, "the referenced anchor is not defined"};
        }
        live(Event{Event::Type::kAlias, false, mark, std::string(name)}, {});
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        const bool sequence = e.type == YAML_SEQUENCE_START_EVENT;
        const Event::Type type = sequence ? Event::Type::kSequenceStart : Event::Type::kMapStart;
        const YAML::Mark mark = mark_of(e.start_mark);
        const std::string_view anchor =
            anchor_of(sequence ? e.data.sequence_start.anchor : e.data.mapping_start.anchor);
        define(anchor, mark);
        live(Event{type, false, mark, {}}, anchor);
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        live(Event{Event::Type::kEnd, false, {}, {}}, {});
        break;
      default:  // stream start and end, document end, none
        break;
    }
  }

 private:
  void define(std::string_view anchor, const YAML::Mark&) {
    if (anchor.empty()) return;
    std::string name(anchor);
    // Anchored again: the name now names the value that starts here.
    std::erase(s_.recording, name);
    s_.anchors.erase(name);
    s_.defined.insert(std::move(name));
  }

  // Values are handed out for the first document only, and until a handler fails.
  bool active() const { return !s_.failed && s_.documents == 1; }

  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (Failure& failure) {
      s_.failed = true;
      s_.error = std::move(failure.message);
    }
  }

  // An event read from the text: kept for the anchored values it is part of, then handed out.
  void live(Event event, std::string_view anchor) {
    if (!active()) return;
    const bool opens =
        event.type == Event::Type::kSequenceStart || event.type == Event::Type::kMapStart;
    for (std::size_t i = 0; i < s_.recording.size();) {
      Recording& rec = s_.anchors[s_.recording[i]];
      rec.events.push_back(event);
      if (opens) ++rec.depth;
      if (event.type == Event::Type::kEnd && --rec.depth == 0) {
        rec.complete = true;
        s_.recording.erase(s_.recording.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    if (!anchor.empty()) {
      Recording& rec = s_.anchors[std::string(anchor)];
      rec.events.push_back(event);
      if (opens) {
        rec.depth = 1;
        s_.recording.emplace_back(anchor);
      } else {
        rec.complete = true;
      }
    }
    guarded([&] { dispatch(event); });
  }

  void dispatch(const Event& e) {
    switch (e.type) {
      case Event::Type::kNull:
        value(Value{Value::Kind::kNull, e.mark, {}, false});
        break;
      case Event::Type::kScalar:
        value(Value{Value::Kind::kScalar, e.mark, e.text, e.quoted});
        break;
      case Event::Type::kSequenceStart:
        value(Value{Value::Kind::kSequence, e.mark, {}, false});
        break;
      case Event::Type::kMapStart:
        value(Value{Value::Kind::kMap, e.mark, {}, false});
        break;
      case Event::Type::kEnd:
        end();
        break;
      case Event::Type::kAlias:
        replay(e);
        break;
    }
  }

  void replay(const Event& alias) {
    const auto it = s_.anchors.find(alias.text);
    if (it == s_.anchors.end() || !it->second.complete) {
      // "&a [*a]": a value that contains itself has no end to read.
      r_.fail(alias.mark, r_.path(), "an alias inside the value it refers to");
    }
    for (const Event& e : it->second.events) dispatch(e);
  }

  void value(Value v) {
    Handler* handler = s_.root;
    if (!s_.stack.empty()) {
      State::Frame& f = s_.stack.back();
      if (f.is_map && !f.inside) {  // a key
        if (!v.is_scalar()) {
          if (v.is_null()) v.mark = f.key_mark;
          r_.fail_value(v, "keys must be strings");
        }
        f.key.assign(v.text);
        f.key_mark = v.mark;
        f.inside = true;
        f.value_handler = &f.handler->entry(r_, v);
        return;
      }
      if (f.is_map) {
        handler = f.value_handler;
        if (v.is_null()) v.mark = f.key_mark;
      } else {
        f.inside = true;
        handler = &f.handler->item(r_, f.index);
        if (v.is_null()) v.mark = YAML::Mark::null_mark();
      }
    } else if (v.is_null()) {
      v.mark = YAML::Mark::null_mark();
    }
    handler->begin(r_, v);
    if (v.is_map() || v.is_sequence()) {
      State::Frame frame;
      frame.handler = handler;
      frame.is_map = v.is_map();
      frame.key_mark = v.mark;
      s_.stack.push_back(std::move(frame));
    } else {
      done();
    }
  }

  void end() {
    s_.stack.back().handler->end(r_);
    s_.stack.pop_back();
    done();
  }

  // The value at the top of the stack is complete.
  void done() {
    if (s_.stack.empty()) return;
    State::Frame& f = s_.stack.back();
    f.inside = false;
    if (!f.is_map) ++f.index;
  }

  Reader& r_;
  State& s_;
};

// --- JSON ------------------------------------------------------------------------------------

namespace {

// A table of bytes: true for each byte outside printable ASCII, and for those in `also`.
constexpr std::array<bool, 256> beyond_printable_and(std::string_view also) {
  std::array<bool, 256> table{};
  for (std::size_t u = 0; u < table.size(); ++u) table[u] = u < 0x20 || u >= 0x7f;
  for (const char c : also) table[static_cast<unsigned char>(c)] = true;
  return table;
}

// RapidJSON's input stream over a Source. It counts lines as libyaml does ("\r\n", "\r" and
// "\n" each end one) and notes what YAML might read otherwise than JSON: any escape (libyaml
// refuses JSON's surrogate pairs, "\ud83d\ude00"), a byte outside printable ASCII (libyaml
// refuses DEL and some of Unicode, and counts other line breaks), and where the ':' after a
// key is.
class JsonSource {
 public:
  using Ch = char;
  static constexpr std::size_t kPiece = 64 << 10;

  explicit JsonSource(const Source& source)
      : source_(source), buffer_(kPiece), next_(buffer_.data()), end_(next_) {}

  Ch Peek() {
    if (next_ == end_ && !refill()) return '\0';
    return *next_;
  }
  Ch Take() {
    if (next_ == end_ && !refill()) return '\0';
    const Ch c = *next_++;
    if (kNoted[static_cast<unsigned char>(c)]) note(c);
    return c;
  }
  std::size_t Tell() const { return before_ + static_cast<std::size_t>(next_ - buffer_.data()); }
  // A read-only stream: RapidJSON never writes to it (no in-situ parsing).
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  std::size_t PutEnd(Ch*) { return 0; }

  // Inside a string: takes the bytes up to the next that RapidJSON must look at itself (a quote,
  // a backslash, a control character) or that note() must see (beyond ASCII), in this piece,
  // and appends them to `out` in one copy. Neither a line break nor the ':' after a key can be
  // among them.
  template <class Out>
  void take_plain(Out& out) {
    const char* p = next_;
    while (p != end_ && !kStringStop[static_cast<unsigned char>(*p)]) ++p;
    const auto n = static_cast<rapidjson::SizeType>(p - next_);
    if (n == 0) return;
    std::memcpy(out.Push(n), next_, n);
    next_ = p;
  }

  // Takes the spaces, tabs and line breaks ahead (line breaks through Take, which counts them).
  [[gnu::always_inline]] void skip_space() {
    for (;;) {
      if (next_ == end_ && !refill()) return;
      const char c = *next_;
      if (c == ' ' || c == '\t') {
        ++next_;
      } else if (c == '\n' || c == '\r') {
        Take();
      } else {
        return;
      }
    }
  }

  // Whether every byte was taken (a NUL byte reads as the end to RapidJSON, not to libyaml).
  bool at_end() { return next_ == end_ && !refill(); }
  bool odd() const { return odd_; }
  // The position of `offset`, on the line being read.
  YAML::Mark mark(std::size_t offset) const { return mark_at(line_, offset - line_start_, offset); }
  std::size_t line() const { return line_; }

  // After a key: the first ':' taken from here on is the one after it. colon_near says whether
  // that ':' was on the key's line and near enough to its start for libyaml to read a key,
  // which it looks for no further than 1,024 characters.
  void expect_colon() { colon_ = kNone; }
  bool colon_near(std::size_t key_line, std::size_t key_start) const {
    return colon_ != kNone && colon_line_ == key_line && colon_ <= key_start + 1024;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // The bytes note() looks at: all but the printable ASCII other than '\\' and ':' (most of a
  // text, passed over with one look in this table).
  static constexpr std::array<bool, 256> kNoted = beyond_printable_and("\\:");
  // The bytes that end a plain run of a string (take_plain): a quote, a backslash, a control
  // character, and what note() must see beyond ASCII.
  static constexpr std::array<bool, 256> kStringStop = beyond_printable_and("\"\\");

  bool refill() {
    before_ += static_cast<std::size_t>(end_ - buffer_.data());
    const std::size_t n = source_(buffer_.data(), buffer_.size());
    next_ = buffer_.data();
    end_ = next_ + n;
    return n > 0;
  }

  // A byte just taken that kNoted names.
  void note(Ch c) {
    const std::size_t taken = Tell();
    if (c == '\n') {
      if (cr_ + 1 != taken) ++line_;  // "\r\n" is one line break
      line_start_ = taken;
    } else if (c == '\r') {
      ++line_;
      line_start_ = taken;
      cr_ = taken;
    } else if (c == ':') {
      if (colon_ == kNone) {
        colon_ = taken - 1;
        colon_line_ = line_;
      }
    } else if (c != '\t') {
      odd_ = true;  // '\\', DEL, beyond ASCII (RapidJSON refuses the other controls)
    }
  }

  const Source& source_;
  std::vector<char> buffer_;
  const char* next_;
  const char* end_;
  std::size_t before_ = 0;  // the bytes of the pieces before the one in buffer_
  std::size_t line_ = 0;
  std::size_t line_start_ = 0;
  std::size_t cr_ = kNone;  // where the last '\r' was taken (its count)
  std::size_t colon_ = 0;   // the first ':' since expect_colon(), or kNone before it
  std::size_t colon_line_ = 0;
  bool odd_ = false;
};

// RapidJSON's SkipWhitespace for this stream, found by argument-dependent lookup: the same
// bytes taken, inline (RapidJSON's own takes a call, three times an item of a list).
[[gnu::always_inline]] inline void SkipWhitespace(JsonSource& in) {
  in.skip_space();
}

}  // namespace
}  // namespace orc::yaml

// RapidJSON's hook for copying the plain run of a string at once (it has its own for its
// in-memory streams): JsonSource::take_plain.
template <>
template <>
inline void rapidjson::GenericReader<
    rapidjson::UTF8<>, rapidjson::UTF8<>,
    rapidjson::CrtAllocator>::ScanCopyUnescapedString(orc::yaml::JsonSource& in,
                                                      StackStream<char>& out) {
  in.take_plain(out);
}

namespace orc::yaml {

// RapidJSON's SAX handler: each value, with its position worked out from where the stream is
// when it is handed over (a JSON token never spans lines), handed to Events. Returning false stops
// the parse.
class Reader::JsonEvents {
 public:
  JsonEvents(JsonSource& in, Events& events, const State& state)
      : in_(in), events_(events), state_(state) {}

  bool Null() { return value(Value::Kind::kNull, 4, {}, false); }
  bool Bool(bool b) {
    return b ? value(Value::Kind::kScalar, 4, "true", false)
             : value(Value::Kind::kScalar, 5, "false", false);
  }
  // Unused: every number comes as its text (kParseNumbersAsStringsFlag).
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return value(Value::Kind::kScalar, n, {s, n}, false);
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return value(Value::Kind::kScalar, n + 2, {s, n}, true);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!value(Value::Kind::kScalar, n + 2, {s, n}, true)) return false;
    key_line_ = in_.line();
    key_start_ = in_.Tell() - n - 2;
    in_.expect_colon();
    after_key_ = true;
    return true;
  }
  // Called with the '{' or '[' still ahead (RapidJSON's iterative parser takes it after).
  bool StartObject() { return value(Value::Kind::kMap, 0, {}, false); }
  bool StartArray() { return value(Value::Kind::kSequence, 0, {}, false); }
  bool EndObject(rapidjson::SizeType) { return end(); }
  bool EndArray(rapidjson::SizeType) { return end(); }

 private:
  // A value whose text, `length` characters long, ends where the stream is.
  bool value(Value::Kind kind, std::size_t length, std::string_view text, bool quoted) {
    if (in_.odd()) return false;
    if (after_key_) {
      after_key_ = false;
      if (!in_.colon_near(key_line_, key_start_)) return false;
    }
    events_.json_value(Value{kind, in_.mark(in_.Tell() - length), text, quoted});
    return !state_.failed;
  }
  bool end() {
    if (in_.odd()) return false;
    events_.json_end();
    return !state_.failed;
  }

  JsonSource& in_;
  Events& events_;
  const State& state_;
  bool after_key_ = false;
  std::size_t key_line_ = 0;
  std::size_t key_start_ = 0;
};

bool Reader::read_json(const Source& source, Handler& root) {
  *state_ = State{};
  state_->root = &root;
  state_->documents = 1;
  JsonSource in(source);
  for (char c = in.Peek(); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = in.Peek()) {
    in.Take();
  }
  if (in.Peek() != '{') return false;
  Events events(*this);
  JsonEvents handler(in, events, *state_);
  rapidjson::Reader reader;
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
  const rapidjson::ParseResult result = reader.Parse<kFlags>(in, handler);
  return !result.IsError() && !in.odd() && in.at_end() && !state_->failed;
}

Reader::Reader(std::string file) : file_(std::move(file)), state_(std::make_unique<State>()) {}

Reader::~Reader() = default;

Status Reader::read(std::string_view text, Handler& root) {
  EventParser parser(text);
  return read_all(parser, root);
}

Status Reader::read(const Source& source, Handler& root,
                    const std::function<std::string()>& whole_text) {
  EventParser parser(source, whole_text);
  return read_all(parser, root);
}

Status Reader::read_all(EventParser& parser, Handler& root) {
  *state_ = State{};
  state_->root = &root;
  try {
    Events events(*this);
    // To the end of the text even after a handler failed: a syntax error anywhere comes first.
    for (;;) {
      const yaml_event_t& e = parser.next();
      if (e.type == YAML_STREAM_END_EVENT) break;
      events.take(e);
    }
  } catch (const SyntaxError& e) {
    std::string msg = where(file_, e.mark);
    if (!e.mark.is_null()) msg += ": column " + std::to_string(e.mark.column + 1);
    return Error{msg + ": invalid YAML: " + shown(e.message)};
  }
  if (state_->documents > 1) {
    return Error{file_ + ": holds " + std::to_string(state_->documents) +
                 " YAML documents; expected one"};
  }
  if (state_->documents == 0 && !state_->failed) {
    // No document at all (an empty file, only comments): one null value.
    try {
      root.begin(*this, Value{});
    } catch (Failure& failure) {
      state_->failed = true;
      state_->error = std::move(failure.message);
    }
  }
  if (state_->failed) return Error{std::move(state_->error)};
  return {};
}

std::string Reader::path() const {
  std::string out;
  for (const State::Frame& f : state_->stack) {
    if (!f.inside) break;
    if (f.is_map) {
      if (!out.empty()) out += '.';
      out += shown(f.key);
    } else {
      out += '[';
      out += std::to_string(f.index);
      out += ']';
    }
  }
  return out;
}

void Reader::fail(const YAML::Mark& at, const std::string& path, const std::string& what) {
  throw Failure{where(file_, at) + ": " + (path.empty() ? std::string("top level") : path) + ": " +
                what};
}

void Reader::fail_value(const Value& v, const std::string& what) {
  fail_value(v, path(), what);
}

void Reader::fail_value(const Value& v, const std::string& path, const std::string& what) {
  fail(v.mark, path, what + " (got " + v.describe() + ")");
}

void Reader::fail_file(const std::string& what) {
  throw Failure{file_ + ": " + what};
}

Handler& Reader::skip() {
  return state_->skip;
}

// --- Map and Seq -----------------------------------------------------------------------------

Map::Map() : null_is_empty_(true), must_be_("must be a map") {}

Map::Map(std::string must_be, std::string unknown_hint)
    : null_is_empty_(false), must_be_(std::move(must_be)), unknown_hint_(std::move(unknown_hint)) {}

Map& Map::key(std::string name, Handler& handler) {
  fields_.push_back(Field{std::move(name), &handler, false});
  return *this;
}

Map& Map::key(std::string name, Read read) {
  owned_.push_back(std::make_unique<Scalar>(std::move(read)));
  return key(std::move(name), *owned_.back());
}

Map& Map::otherwise(Read read) {
  otherwise_ = std::move(read);
  return *this;
}

bool Map::seen(std::string_view name) const {
  for (const Field& f : fields_) {
    if (f.name == name) return f.seen;
  }
  return false;
}

void Map::begin(Reader& r, const Value& v) {
  const bool empty = v.is_null() && null_is_empty_;
  if (!v.is_map() && !empty) {
    if (otherwise_) {
      otherwise_(r, v);
      return;
    }
    r.fail_value(v, must_be_);
  }
  for (Field& f : fields_) f.seen = false;
  mark_ = v.mark;
  begun(r, v);
  if (empty) end(r);
}

Handler& Map::entry(Reader& r, const Value& key) {
  for (Field& f : fields_) {
    if (f.name != key.text) continue;
    if (f.seen) r.fail(key.mark, r.path(), "appears twice");
    f.seen = true;
    return *f.handler;
  }
  r.fail(key.mark, r.path(),
         unknown_hint_.empty() ? "unknown key" : "unknown key " + unknown_hint_);
}

Seq::Seq(std::string must_be, Handler& item) : must_be_(std::move(must_be)), item_(item) {}

void Seq::begin(Reader& r, const Value& v) {
  if (!v.is_sequence()) r.fail_value(v, must_be_);
  size_ = 0;
  mark_ = v.mark;
  begun(r, v);
}

Handler& Seq::item(Reader&, std::size_t index) {
  size_ = index + 1;
  return item_;
}

}  // namespace orc::yaml

namespace orc {

std::string where(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return file;
  return file + ":" + std::to_string(mark.line + 1);
}

}  // namespace orc
