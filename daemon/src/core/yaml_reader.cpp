#include "core/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <istream>
#include <streambuf>
#include <unordered_map>
#include <utility>

#include "core/source_text.h"

namespace orc::yaml {

namespace {

// A handler's error: the whole message. Caught by the reader, never seen outside it.
struct Failure {
  std::string message;
};

class SkipAll final : public Handler {
 public:
  void begin(Reader&, const Value&) override {}
  Handler& entry(Reader&, const Value&) override { return *this; }
  Handler& item(Reader&, std::size_t) override { return *this; }
};

// An istream over the text as it is: yaml-cpp reads from a stream, and a string stream would
// copy the whole file.
class ViewBuffer final : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view text) {
    char* begin = const_cast<char*>(text.data());  // read only: nothing writes through it
    setg(begin, begin, begin + text.size());
  }
};

// One parser event, as kept for an anchored value.
struct Event {
  enum class Type : std::uint8_t { kNull, kScalar, kSequenceStart, kMapStart, kEnd, kAlias };
  Type type = Type::kNull;
  bool quoted = false;
  YAML::anchor_t alias = 0;  // kAlias
  YAML::Mark mark;
  std::string text;  // kScalar
};

// The events of an anchored value, kept while it is read and complete after its end.
struct Recording {
  std::vector<Event> events;
  int depth = 0;
  bool complete = false;
};

}  // namespace

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
  // Anchors of the current document: yaml-cpp numbers them 1, 2, ... in order of appearance.
  std::unordered_map<YAML::anchor_t, Recording> anchors;
  std::vector<YAML::anchor_t> recording;  // anchored values not yet complete
};

// Receives yaml-cpp's events, keeps the anchored ones, and hands values to the handlers.
class Reader::Events final : public YAML::EventHandler {
 public:
  Events(Reader& reader, std::string_view text) : r_(reader), s_(*reader.state_), text_(text) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    guard_progress(mark);
    ++s_.documents;
    s_.anchors.clear();
    s_.recording.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    live(Event{Event::Type::kNull, false, 0, mark, {}}, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    live(Event{Event::Type::kAlias, false, anchor, mark, {}}, YAML::NullAnchor);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // yaml-cpp tags a quoted scalar "!" (YAML's non-specific tag).
    if (!active()) return;
    if (anchor == YAML::NullAnchor && s_.recording.empty()) {
      // The common case, without a copy of the text.
      guarded([&] { scalar(mark, value, tag == "!"); });
      return;
    }
    live(Event{Event::Type::kScalar, tag == "!", 0, mark, value}, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    live(Event{Event::Type::kSequenceStart, false, 0, mark, {}}, anchor);
  }
  void OnSequenceEnd() override { live(Event{Event::Type::kEnd, false, 0, {}, {}}, 0); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    live(Event{Event::Type::kMapStart, false, 0, mark, {}}, anchor);
  }
  void OnMapEnd() override { live(Event{Event::Type::kEnd, false, 0, {}, {}}, 0); }

 private:
  // yaml-cpp 0.7 (Debian bookworm's) hands out the same empty document again and again, without
  // reading on, when a document starts with a token it cannot place (a stray ','). Newer
  // releases reject such input; so do we, instead of looping until memory runs out.
  void guard_progress(const YAML::Mark& mark) {
    if (started_ && mark.pos == last_pos_) {
      const auto at = static_cast<std::size_t>(mark.pos);
      const bool comma = mark.pos >= 0 && at < text_.size() && text_[at] == ',';
      throw YAML::ParserException(
          mark, comma ? "unexpected ','" : "a document cannot start here (unexpected token)");
    }
    started_ = true;
    last_pos_ = mark.pos;
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
  void live(Event event, YAML::anchor_t anchor) {
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
    if (anchor != YAML::NullAnchor) {
      Recording& rec = s_.anchors[anchor];
      rec.events.push_back(event);
      if (opens) {
        rec.depth = 1;
        s_.recording.push_back(anchor);
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
        scalar(e.mark, e.text, e.quoted);
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
    const auto it = s_.anchors.find(alias.alias);
    if (it == s_.anchors.end() || !it->second.complete) {
      // yaml-cpp allows "&a [*a]": a value that contains itself has no end to read.
      r_.fail(alias.mark, r_.path(), "an alias inside the value it refers to");
    }
    for (const Event& e : it->second.events) dispatch(e);
  }

  void scalar(const YAML::Mark& mark, std::string_view text, bool quoted) {
    value(Value{Value::Kind::kScalar, mark, text, quoted});
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
  std::string_view text_;
  bool started_ = false;
  int last_pos_ = 0;
};

Reader::Reader(std::string file) : file_(std::move(file)), state_(std::make_unique<State>()) {}

Reader::~Reader() = default;

Status Reader::read(std::string_view text, Handler& root) {
  *state_ = State{};
  state_->root = &root;
  try {
    ViewBuffer buffer(text);
    std::istream in(&buffer);
    YAML::Parser parser(in);
    Events events(*this, text);
    while (parser.HandleNextDocument(events)) {
    }
  } catch (const YAML::Exception& e) {
    std::string msg = where(file_, e.mark);
    if (!e.mark.is_null()) msg += ": column " + std::to_string(e.mark.column + 1);
    return Error{msg + ": invalid YAML: " + shown(e.msg)};
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
