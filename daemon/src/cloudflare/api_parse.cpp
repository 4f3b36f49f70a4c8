#include "cloudflare/api_parse.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>

#include <simdjson.h>

#include "base/json_bounds.h"
#include "base/redact.h"
#include "base/text.h"
#include "net/backoff.h"
#include "net/http_date.h"

namespace orc {

using nlohmann::json;

namespace {

// Whether Cloudflare's envelope carried `code`: the one way codes are checked.
bool contains_code(const std::vector<int>& codes, int code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

std::optional<Envelope> parse_envelope(std::string_view body) {
  // Its size is bounded by the HTTP client (cloudflare.max_response_bytes); its depth here.
  if (!check_json_bounds(body, {0, kMaxJsonDepth}).ok()) return std::nullopt;
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto success = doc.find("success");
  if (success == doc.end() || !success->is_boolean()) return std::nullopt;

  Envelope env;
  env.success = success->get<bool>();
  if (auto errors = doc.find("errors"); errors != doc.end() && errors->is_array()) {
    for (const auto& e : *errors) {
      if (!e.is_object()) continue;
      std::string part;
      if (auto code = e.find("code"); code != e.end() && code->is_number_integer()) {
        env.codes.push_back(code->get<int>());
        part = "[" + std::to_string(code->get<int>()) + "] ";
      }
      if (auto msg = e.find("message"); msg != e.end() && msg->is_string()) {
        part += msg->get<std::string>();
      }
      if (!env.messages.empty()) env.messages += "; ";
      env.messages += part;
    }
  }
  if (auto r = doc.find("result"); r != doc.end()) env.result = std::move(*r);
  if (auto ri = doc.find("result_info"); ri != doc.end()) env.result_info = std::move(*ri);
  env.messages = redact(env.messages);
  return env;
}

namespace {

// The start of a body that is not a usable envelope, as it may be quoted in a message.
constexpr std::size_t kQuotedBodyBytes = 120;
std::string quoted_body(const HttpResponse& response) {
  return redact(response.body, kQuotedBodyBytes);
}

std::optional<Millis> retry_after_of(const HttpResponse& response) {
  const std::string* value = response.header("retry-after");
  if (value == nullptr) return std::nullopt;
  return retry_after_delay(*value, answer_time(response));
}

}  // namespace

ApiError classify_failure(const HttpResponse& response, const std::optional<Envelope>& envelope) {
  ApiError err;
  err.http_status = response.status;
  if (envelope) {
    err.codes = envelope->codes;
    err.message = envelope->messages;
    err.zone_full = contains_code(err.codes, kCodeZoneLimit);
  }
  const int s = response.status;
  if (s == 0) {
    // An answer over the size limit would be just as large next time: not retried.
    err.kind = response.too_large ? ApiError::Kind::kPermanent : ApiError::Kind::kRetryable;
    err.reason = RetryReason::kTransport;
    err.message =
        response.transport_error.empty() ? "transport error" : redact(response.transport_error);
  } else if (s == 429) {
    err.kind = ApiError::Kind::kRetryable;
    err.reason = RetryReason::kRateLimited;
    err.retry_after = retry_after_of(response);
    if (err.message.empty()) err.message = "rate limited";
  } else if (s >= 500 && s <= 599) {
    err.kind = ApiError::Kind::kRetryable;
    err.reason = RetryReason::kServerError;
    err.retry_after = retry_after_of(response);
    if (err.message.empty()) err.message = "server error: " + quoted_body(response);
  } else if (s >= 200 && s <= 299) {
    err.kind = ApiError::Kind::kRetryable;
    err.reason = RetryReason::kServerError;
    if (!envelope) {
      err.message = "malformed answer (not a JSON envelope): '" + quoted_body(response) + "'";
    } else if (err.message.empty()) {
      err.message = "answer says success=false without an error";
    } else {
      err.message = "answer says success=false: " + err.message;
    }
  } else {
    err.kind = ApiError::Kind::kPermanent;
    if (err.message.empty()) err.message = quoted_body(response);
  }
  return err;
}

ApiError malformed_result(const HttpResponse& response, std::string what) {
  ApiError err;
  err.kind = ApiError::Kind::kRetryable;
  err.reason = RetryReason::kServerError;
  err.http_status = response.status;
  err.message = "unexpected answer: " + std::move(what);
  return err;
}

namespace {

const std::string* string_field(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

}  // namespace

std::optional<std::vector<Mapping>> parse_mappings(const json& array, std::string_view ip_key) {
  if (!array.is_array()) return std::nullopt;
  std::vector<Mapping> out;
  out.reserve(array.size());
  for (const auto& item : array) {
    if (!item.is_object()) return std::nullopt;
    const std::string* ip = string_field(item, ip_key);
    if (ip == nullptr) return std::nullopt;
    Mapping m;
    m.ip = *ip;
    if (const auto* v = string_field(item, "vendor")) m.vendor = *v;
    if (const auto* r = string_field(item, "region")) m.region = *r;
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

// A mapping's text: appended to the empty string a new mapping has (no check for overlap, which
// a text read from the answer cannot have with it), assigned when a repeated key replaces it.
void set_text(std::string& to, std::string_view text) {
  if (to.empty()) {
    to.append(text.data(), text.size());
  } else {
    to.assign(text.data(), text.size());
  }
}

// The events of a list answer, in document order (walk() below gives them), into the page's
// mappings. Duplicate keys behave as in nlohmann's tree (the last one wins), so the answers it
// accepts are exactly those the tree-based path accepts. Keys and strings are views into the
// answer or the parser's buffer, valid until the next answer: only the mappings' texts are
// copied, once, into the mapping read (the last of `mappings` while its item is open).
class ListSax final {
 public:
  ListSax(std::string_view ip_key, ListShape shape, ListAnswer& out)
      : ip_key_(ip_key), shape_(shape), out_(out) {}

  bool null() { return scalar(Scalar::kOther); }
  bool boolean(bool value) { return scalar(value ? Scalar::kTrue : Scalar::kFalse); }
  bool number_integer(std::int64_t value) {
    integer_ = value;
    return scalar(Scalar::kInteger);
  }
  bool number_unsigned(std::uint64_t value) {
    integer_ = value > static_cast<std::uint64_t>(std::numeric_limits<long long>::max())
                   ? std::numeric_limits<long long>::max()
                   : static_cast<long long>(value);
    return scalar(Scalar::kInteger);
  }
  bool number_float() { return scalar(Scalar::kOther); }
  bool string(std::string_view value) {
    text_ = value;
    return scalar(Scalar::kString);
  }

  bool start_object() { return open(true); }
  bool start_array() { return open(false); }
  bool key(std::string_view key) {
    frames_.back().key = name_of(key);
    return true;
  }
  bool end_object() {
    const Frame f = std::move(frames_.back());
    frames_.pop_back();
    if (f.role == Role::kItem) {
      if (!item_has_ip_) {
        out_.mappings.pop_back();
        result_ok_ = false;
      } else if (out_.mappings.size() > kMaxListItems) {
        out_.mappings.pop_back();
        return stop("more than " + std::to_string(kMaxListItems) + " mappings");
      }
    } else if (f.role == Role::kRoot) {
      root_done_ = true;
    }
    return true;
  }
  bool end_array() {
    frames_.pop_back();
    return true;
  }

  // The short way for the usual item field, a key with a string value, inside an item (the
  // walker calls it instead of key() and string() in the list's items): the same as those two
  // calls, without the dispatch on the frame's role.
  bool in_list() const { return !frames_.empty() && frames_.back().role == Role::kList; }
  bool item_string(std::string_view key, std::string_view value) {
    Frame& f = frames_.back();  // the item's
    f.key = name_of(key);
    item_field(f.key, Scalar::kString, value);
    return true;
  }

  // Whether the whole text was one envelope of a successful, well-formed list.
  bool usable() const {
    return root_done_ && success_ && result_seen_ && result_ok_ &&
           (shape_ == ListShape::kResultValue || pages_.has_value());
  }
  std::optional<int> pages() const { return pages_; }

 private:
  enum class Role : std::uint8_t { kRoot, kResultObject, kList, kItem, kResultInfo, kSkip };
  enum class Scalar : std::uint8_t { kTrue, kFalse, kInteger, kString, kOther };
  // The keys that matter somewhere, told apart once per key (an item has four or more).
  enum class Key : std::uint8_t {
    kOther,
    kSuccess,
    kResult,
    kResultInfo,
    kValue,
    kTotalPages,
    kIp,
    kVendor,
    kRegion
  };
  struct Frame {
    Role role;
    Key key = Key::kOther;  // objects: the key whose value comes next
  };

  // Each length compared as one block of that many bytes: no library call (a call per key
  // was a twentieth of the reading of a zone).
  template <std::size_t N>
  static bool is(std::string_view key, const char (&name)[N]) {
    return std::memcmp(key.data(), name, N - 1) == 0;
  }
  Key name_of(std::string_view key) const {
    if (ip_key_.size() != 9 && key == ip_key_) return Key::kIp;
    switch (key.size()) {
      case 5:
        return is(key, "value") ? Key::kValue : Key::kOther;
      case 6:
        return is(key, "result")   ? Key::kResult
               : is(key, "vendor") ? Key::kVendor
               : is(key, "region") ? Key::kRegion
                                   : Key::kOther;
      case 7:
        return is(key, "success") ? Key::kSuccess : Key::kOther;
      case 9:  // "origin-ip" (cache-v1), "origin_ip" (origin-v2)
        if (ip_key_.size() == 9) {
          return std::memcmp(key.data(), ip_key_.data(), 9) == 0 ? Key::kIp : Key::kOther;
        }
        break;
      case 11:
        return is(key, "result_info")   ? Key::kResultInfo
               : is(key, "total_pages") ? Key::kTotalPages
                                        : Key::kOther;
      default:
        break;
    }
    return Key::kOther;
  }

  bool stop(std::string why) {
    out_.limit = std::move(why);
    return false;
  }

  // The role of a map or an array opened under the current position.
  bool open(bool is_object) {
    if (frames_.size() == static_cast<std::size_t>(kMaxListDepth)) {
      return stop("nested deeper than " + std::to_string(kMaxListDepth) + " levels");
    }
    Role role = Role::kSkip;
    if (frames_.empty()) {
      role = is_object ? Role::kRoot : Role::kSkip;
    } else {
      const Frame& parent = frames_.back();
      switch (parent.role) {
        case Role::kRoot:
          if (parent.key == Key::kSuccess) {
            success_ = false;  // not a boolean: not an envelope
          } else if (parent.key == Key::kResult) {
            begin_result();
            if (shape_ == ListShape::kResultArray) {
              result_ok_ = !is_object;
              role = is_object ? Role::kSkip : Role::kList;
            } else {
              role = is_object ? Role::kResultObject : Role::kSkip;
            }
          } else if (parent.key == Key::kResultInfo) {
            pages_.reset();
            role = is_object ? Role::kResultInfo : Role::kSkip;
          }
          break;
        case Role::kResultObject:
          if (parent.key == Key::kValue) {
            out_.mappings.clear();
            result_ok_ = !is_object;
            role = is_object ? Role::kSkip : Role::kList;
          }
          break;
        case Role::kList:
          if (is_object) {
            role = Role::kItem;
            out_.mappings.emplace_back();
            item_has_ip_ = false;
          } else {
            result_ok_ = false;
          }
          break;
        case Role::kItem:
          if (parent.key == Key::kIp) item_has_ip_ = false;
          if (parent.key == Key::kVendor) out_.mappings.back().vendor.clear();
          if (parent.key == Key::kRegion) out_.mappings.back().region.clear();
          break;
        case Role::kResultInfo:
          if (parent.key == Key::kTotalPages) pages_.reset();
          break;
        case Role::kSkip:
          break;
      }
    }
    frames_.push_back(Frame{role});
    return true;
  }

  // "result" read (again): what an earlier one said no longer counts.
  void begin_result() {
    result_seen_ = true;
    // cache-v1: a result object without "value" has no list.
    result_ok_ = false;
    out_.mappings.clear();
  }

  // A scalar field of the item open (the last of the mappings): its IP, vendor or region when
  // it is a string; not an IP, and no vendor or region, when it is anything else.
  void item_field(Key key, Scalar kind, std::string_view text) {
    Mapping& item = out_.mappings.back();
    const bool is_string = kind == Scalar::kString;
    switch (key) {
      case Key::kIp:
        item_has_ip_ = is_string;
        if (is_string) set_text(item.ip, text);
        break;
      case Key::kVendor:
      case Key::kRegion: {
        std::string& field = key == Key::kVendor ? item.vendor : item.region;
        if (is_string) {
          set_text(field, text);
        } else {
          field.clear();
        }
        break;
      }
      default:
        break;
    }
  }

  bool scalar(Scalar kind) {
    if (frames_.empty()) return true;  // a bare scalar: not an envelope
    const Frame& f = frames_.back();
    switch (f.role) {
      case Role::kRoot:
        if (f.key == Key::kSuccess) {
          success_ = kind == Scalar::kTrue;
        } else if (f.key == Key::kResult) {
          begin_result();
        } else if (f.key == Key::kResultInfo) {
          pages_.reset();
        }
        break;
      case Role::kResultObject:
        if (f.key == Key::kValue) {
          out_.mappings.clear();
          result_ok_ = false;
        }
        break;
      case Role::kList:
        result_ok_ = false;  // an item that is not an object
        break;
      case Role::kItem:
        item_field(f.key, kind, text_);
        break;
      case Role::kResultInfo:
        if (f.key == Key::kTotalPages) {
          pages_.reset();
          if (kind == Scalar::kInteger && integer_ >= 0 && integer_ <= 100000) {
            pages_ = static_cast<int>(integer_);
          }
        }
        break;
      case Role::kSkip:
        break;
    }
    return true;
  }

  std::string_view ip_key_;
  ListShape shape_;
  ListAnswer& out_;
  std::vector<Frame> frames_;
  bool root_done_ = false;
  bool success_ = false;
  bool result_seen_ = false;
  bool result_ok_ = false;
  std::optional<int> pages_;
  bool item_has_ip_ = false;  // the item open (the last of the mappings) has its IP
  long long integer_ = 0;
  std::string_view text_;
};

// The events of a batch answer (walk() below gives them): the usual success only, an envelope
// with "success": true and a {"succeeded": [...], "failed": []} payload, each succeeded item an
// object with its IP under ip_key. Anything else (a repeated key that matters, a failed item,
// another shape) makes the answer unusable here, and the tree-based path reads it as before:
// what is accepted here is read exactly as that path reads it.
class BatchSax final {
 public:
  BatchSax(std::string_view ip_key, ListShape shape, BatchResult& out)
      : ip_key_(ip_key), shape_(shape), out_(out) {}

  bool null() { return scalar(false, false); }
  bool boolean(bool value) { return scalar(value, false); }
  bool number_integer(std::int64_t) { return scalar(false, false); }
  bool number_unsigned(std::uint64_t) { return scalar(false, false); }
  bool number_float() { return scalar(false, false); }
  bool string(std::string_view value) {
    text_ = value;
    return scalar(false, true);
  }
  bool start_object() { return open(true); }
  bool start_array() { return open(false); }
  bool key(std::string_view key) {
    Frame& f = frames_.back();
    f.key = key;
    // A key that matters, written twice: the tree keeps the last; not read here.
    std::uint8_t bit = 0;
    if (f.role == Role::kRoot) {
      bit = key == "success" ? 1 : key == "result" ? 2 : 0;
    } else if (f.role == Role::kResultObject) {
      bit = key == "value" ? 1 : 0;
    } else if (f.role == Role::kPayload) {
      bit = key == "succeeded" ? 1 : key == "failed" ? 2 : 0;
    } else if (f.role == Role::kItem) {
      bit = key == ip_key_ ? 1 : 0;
    }
    if ((f.seen & bit) != 0) return give_up();
    f.seen |= bit;
    return true;
  }
  bool end_object() {
    const Frame f = std::move(frames_.back());
    frames_.pop_back();
    if (f.role == Role::kItem) {
      if (!item_ip_) return give_up();
      out_.items.push_back({std::move(*item_ip_), ItemOutcome::applied()});
      item_ip_.reset();
    } else if (f.role == Role::kRoot) {
      root_done_ = true;
    }
    return true;
  }
  bool end_array() {
    frames_.pop_back();
    return true;
  }

  // The short way for an item's field with a string value (walk_item): what key(key) and then
  // string(value) do.
  bool in_list() const { return !frames_.empty() && frames_.back().role == Role::kSucceeded; }
  bool item_string(std::string_view name, std::string_view value) {
    return key(name) && string(value);
  }

  bool usable() const { return root_done_ && success_ && succeeded_ && failed_empty_; }

 private:
  enum class Role : std::uint8_t {
    kRoot,
    kResultObject,
    kPayload,
    kSucceeded,
    kFailed,
    kItem,
    kSkip
  };
  struct Frame {
    Role role;
    std::string_view key;   // objects: the key whose value comes next
    std::uint8_t seen = 0;  // the keys that matter (one bit each) seen so far
  };

  bool give_up() { return false; }

  bool open(bool is_object) {
    if (frames_.size() == static_cast<std::size_t>(kMaxListDepth)) return give_up();
    Role role = Role::kSkip;
    if (frames_.empty()) {
      if (!is_object) return give_up();
      role = Role::kRoot;
    } else {
      const Frame& parent = frames_.back();
      switch (parent.role) {
        case Role::kRoot:
          if (parent.key == "success") return give_up();
          if (parent.key == "result") {
            if (!is_object) return give_up();
            role = shape_ == ListShape::kResultArray ? Role::kPayload : Role::kResultObject;
          }
          break;
        case Role::kResultObject:
          if (parent.key == "value") {
            if (!is_object) return give_up();
            role = Role::kPayload;
          }
          break;
        case Role::kPayload:
          if (parent.key == "succeeded" || parent.key == "failed") {
            if (is_object) return give_up();
            role = parent.key == "succeeded" ? Role::kSucceeded : Role::kFailed;
            (role == Role::kSucceeded ? succeeded_ : failed_empty_) = true;
          }
          break;
        case Role::kSucceeded:
          if (!is_object) return give_up();
          role = Role::kItem;
          break;
        case Role::kFailed:
          return give_up();  // a failed item: its refusal is read by the tree-based path
        case Role::kItem:
          if (parent.key == ip_key_) return give_up();
          break;
        case Role::kSkip:
          break;
      }
    }
    frames_.push_back(Frame{role, {}});
    return true;
  }

  bool scalar(bool is_true, bool is_string) {
    if (frames_.empty()) return give_up();  // a bare scalar: not an envelope
    const Frame& f = frames_.back();
    switch (f.role) {
      case Role::kRoot:
        if (f.key == "success") {
          if (!is_true) return give_up();
          success_ = true;
        } else if (f.key == "result") {
          return give_up();
        }
        break;
      case Role::kResultObject:
        if (f.key == "value") return give_up();
        break;
      case Role::kPayload:
        if (f.key == "succeeded" || f.key == "failed") return give_up();
        break;
      case Role::kSucceeded:
      case Role::kFailed:
        return give_up();  // an item that is not an object
      case Role::kItem:
        if (f.key == ip_key_) {
          if (!is_string) return give_up();
          item_ip_ = std::string(text_);
        }
        break;
      case Role::kSkip:
        break;
    }
    return true;
  }

  std::string_view ip_key_;
  ListShape shape_;
  BatchResult& out_;
  std::vector<Frame> frames_;
  bool root_done_ = false;
  bool success_ = false;
  bool succeeded_ = false;
  bool failed_empty_ = false;
  std::optional<std::string> item_ip_;
  std::string_view text_;
};

namespace od = simdjson::ondemand;

// The state of one walk: why it stopped, if the text is not JSON; and whether the answer has a
// backslash anywhere. Most answers have none: then no key or string needs a look for an escape.
struct Reading {
  simdjson::error_code error{};
  bool escapes = true;
};

// Whether a key or string of the answer has an escape.
bool has_escape(const Reading& r, std::string_view text) {
  return r.escapes && text.find('\\') != std::string_view::npos;
}

// A key's text as written, read where it is: `raw` is just past its opening quote, `value` the
// start of its value; only spaces and the colon lie between its closing quote and the value.
std::string_view key_as_written(const char* raw, const char* value) {
  const char* close = value;
  while (close > raw && *(close - 1) != '"') --close;
  return {raw, close > raw ? static_cast<std::size_t>(close - 1 - raw) : 0};
}

// A string value's text (`value` known to be a string): read where it is when it has no
// escape, else unescaped. The token is the string in its quotes (and any space after it): a
// look, not a read. The parser's first pass has already checked every key and string of the
// answer for UTF-8 and unescaped control characters, and found each closed: without a
// backslash there is nothing left to check or to change.
[[gnu::always_inline]] inline bool string_text(od::value& value, std::string_view& text,
                                               Reading& r) {
  simdjson::error_code& error = r.error;
  const std::string_view token = value.raw_json_token();
  std::size_t close = token.size();  // past the closing quote, before any space
  while (close > 1 && token[close - 1] != '"') --close;
  text = token.substr(1, close > 1 ? close - 2 : 0);
  if (close > 1 && !has_escape(r, text)) {
    od::raw_json_string raw;  // read past it
    return !(error = value.get_raw_json_string().get(raw));
  }
  return !(error = value.get_string().get(text));
}

// A field's key, read where it is when it has no escape (see string_text), else unescaped.
// Both are inlined: left as calls, they were a fifth of the reading of a list.
[[gnu::always_inline]] inline bool key_text(od::field& field, std::string_view& key, Reading& r) {
  key = key_as_written(field.key().raw(), field.value().raw_json_token().data());
  return !has_escape(r, key) || !(r.error = field.unescaped_key().get(key));
}

// Walks an On-Demand value in document order, as the events nlohmann's SAX parser would give
// for the same text: every value is read (strings unescaped, numbers parsed), so that the
// reader checks all of the text, not just what the list needs. Keys and strings without an
// escape are handed out as views into the answer, not copied. False: stop (the handler said
// so, or the text is not JSON, `r.error` set then).
template <class Sax>
bool walk(od::value value, Sax& sax, Reading& r);

// An object in a list of items, for a handler with the short way (item_string): each
// field with a string value goes to it, any other the usual way. The same calls as walk()
// would make, with the same effect.
template <class Sax>
bool walk_item(od::object object, Sax& sax, Reading& r) {
  simdjson::error_code& error = r.error;
  if (!sax.start_object()) return false;
  for (auto entry : object) {
    od::field field;
    if ((error = std::move(entry).get(field))) return false;
    std::string_view key;
    if (!key_text(field, key, r)) return false;
    od::value v = std::move(field).value();
    od::json_type type;
    if ((error = v.type().get(type))) return false;
    if (type == od::json_type::string) {
      std::string_view text;
      if (!string_text(v, text, r) || !sax.item_string(key, text)) return false;
    } else if (!sax.key(key) || !walk(v, sax, r)) {
      return false;
    }
  }
  return sax.end_object();
}

template <class Sax>
bool walk(od::value value, Sax& sax, Reading& r) {
  simdjson::error_code& error = r.error;
  od::json_type type;
  if ((error = value.type().get(type))) return false;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if ((error = value.get_object().get(object))) return false;
      if (!sax.start_object()) return false;
      for (auto item : object) {
        od::field field;
        if ((error = std::move(item).get(field))) return false;
        std::string_view key;
        if (!key_text(field, key, r) || !sax.key(key)) return false;
        if (!walk(std::move(field).value(), sax, r)) return false;
      }
      return sax.end_object();
    }
    case od::json_type::array: {
      od::array array;
      if ((error = value.get_array().get(array))) return false;
      if (!sax.start_array()) return false;
      constexpr bool kShortWay = requires {
        sax.item_string(std::string_view(), std::string_view());
      };
      bool items = false;  // a list of items, for a handler with the short way
      if constexpr (kShortWay) items = sax.in_list();
      for (auto element : array) {
        od::value v;
        if ((error = element.get(v))) return false;
        if constexpr (kShortWay) {
          od::json_type item_type = od::json_type::null;
          if (items && (error = v.type().get(item_type))) return false;
          if (items && item_type == od::json_type::object) {
            od::object object;
            if ((error = v.get_object().get(object)) || !walk_item(object, sax, r)) {
              return false;
            }
            continue;
          }
        }
        if (!walk(v, sax, r)) return false;
      }
      return sax.end_array();
    }
    case od::json_type::string: {
      std::string_view text;
      return string_text(value, text, r) && sax.string(text);
    }
    case od::json_type::number: {
      od::number number;
      if ((error = value.get_number().get(number))) return false;
      switch (number.get_number_type()) {
        case od::number_type::signed_integer:
          return sax.number_integer(number.get_int64());
        case od::number_type::unsigned_integer:
          return sax.number_unsigned(number.get_uint64());
        default:
          return sax.number_float();
      }
    }
    case od::json_type::boolean: {
      bool b = false;
      if ((error = value.get_bool().get(b))) return false;
      return sax.boolean(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if ((error = value.is_null().get(is_null)) || !is_null) {
        if (!error) error = simdjson::INCORRECT_TYPE;
        return false;
      }
      return sax.null();
    }
  }
  error = simdjson::INCORRECT_TYPE;
  return false;
}

// One parser a thread, reused: its buffers grow to the largest answer read and stay, unless
// that answer was unusually large.
constexpr std::size_t kKeptParserCapacity = 4 * 1024 * 1024;

// One answer walked into `sax` (walk() above). Only an object or an array is walked (a bare
// scalar is no envelope); the text must end with the root value. simdjson reads up to
// SIMDJSON_PADDING bytes past the end: a body without that room after it (`readable`) is
// copied into a padded buffer first (the HTTP client leaves the room when the answer declares
// its length).
struct Walked {
  bool read = false;             // the whole text walked, and the handler never said stop
  simdjson::error_code error{};  // why the text is not JSON, if it is not
};
template <class Sax>
Walked walk_answer(std::string_view body, std::size_t readable, Sax& sax) {
  thread_local od::parser parser;
  std::optional<simdjson::padded_string> copy;
  if (readable < body.size() + simdjson::SIMDJSON_PADDING) copy.emplace(body);
  const simdjson::padded_string_view padded =
      copy ? static_cast<simdjson::padded_string_view>(*copy)
           : simdjson::padded_string_view(body.data(), body.size(), readable);
  Walked out;
  // One look for a backslash in the whole answer, instead of one in each key and string.
  Reading r{{}, body.find('\\') != std::string_view::npos};
  simdjson::error_code& error = r.error;
  {
    od::document doc;
    error = parser.iterate(padded).get(doc);
    od::json_type type{};
    if (!error) error = doc.type().get(type);
    if (!error && (type == od::json_type::object || type == od::json_type::array)) {
      od::value root;
      error = doc.get_value().get(root);
      // Nothing after the root value: its end is the end of the text.
      out.read =
          !error && walk(root, sax, r) && doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
    }
  }
  out.error = error;
  if (parser.capacity() > kKeptParserCapacity) parser = od::parser{};
  return out;
}

}  // namespace

ListAnswer parse_list_answer(std::string_view body, std::string_view ip_key, ListShape shape,
                             std::size_t readable) {
  ListAnswer out;
  // Room for the mappings an answer of this size can hold (a mapping takes 50 bytes or more):
  // no reallocation as they are read.
  out.mappings.reserve(std::min(body.size() / 50, kMaxListItems));
  ListSax sax(ip_key, shape, out);
  const Walked walked = walk_answer(body, readable, sax);
  if (walked.error == simdjson::DEPTH_ERROR) {
    out.limit = "nested deeper than " + std::to_string(kMaxListDepth) + " levels";
  }
  out.usable = walked.read && out.limit.empty() && sax.usable();
  if (out.usable) {
    out.total_pages = sax.pages();
  } else {
    out.mappings.clear();
    out.mappings.shrink_to_fit();
  }
  return out;
}

std::optional<BatchResult> parse_batch_answer(std::string_view body, std::string_view ip_key,
                                              ListShape shape, std::size_t readable) {
  BatchResult out;
  // Room for the items an answer of this size can hold (an item takes 20 bytes or more).
  out.items.reserve(std::min(body.size() / 20, kMaxListItems));
  BatchSax sax(ip_key, shape, out);
  if (!walk_answer(body, readable, sax).read || !sax.usable()) return std::nullopt;
  return out;
}

void drop_repeated_ips(std::vector<Mapping>& mappings) {
  std::vector<std::uint32_t> order(mappings.size());
  std::iota(order.begin(), order.end(), 0U);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return mappings[a].ip < mappings[b].ip;
  });
  std::vector<bool> repeat(mappings.size());
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (mappings[order[i]].ip == mappings[order[i - 1]].ip) repeat[order[i]] = true;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    if (repeat[i]) continue;
    if (kept != i) mappings[kept] = std::move(mappings[i]);
    ++kept;
  }
  mappings.resize(kept);
}

namespace {

// A failed item's "error": a string, or an object {"code", "message"}.
Refusal refusal_of(const json& item) {
  Refusal r;
  auto it = item.find("error");
  if (it == item.end()) {
    r.message = "(no error given)";
  } else if (it->is_string()) {
    r.message = redact(it->get<std::string>());
  } else if (it->is_object()) {
    if (auto code = it->find("code"); code != it->end() && code->is_number_integer()) {
      const auto value = code->get<long long>();
      if (value > 0 && value < 1000000) r.code = static_cast<int>(value);
    }
    if (const std::string* msg = string_field(*it, "message")) r.message = redact(*msg);
  }
  if (r.message.empty()) r.message = "(no error given)";
  return r;
}

}  // namespace

std::optional<BatchResult> parse_batch_result(const json& value, std::string_view ip_key,
                                              Operation op) {
  if (!value.is_object()) return std::nullopt;
  auto succeeded = value.find("succeeded");
  auto failed = value.find("failed");
  if (succeeded == value.end() || !succeeded->is_array()) return std::nullopt;
  if (failed == value.end() || !failed->is_array()) return std::nullopt;

  BatchResult out;
  for (const auto& item : *succeeded) {
    const std::string* ip = item.is_object() ? string_field(item, ip_key) : nullptr;
    if (ip == nullptr) return std::nullopt;
    out.items.push_back({*ip, ItemOutcome::applied()});
  }
  for (const auto& item : *failed) {
    const std::string* ip = item.is_object() ? string_field(item, ip_key) : nullptr;
    if (ip == nullptr) return std::nullopt;
    Refusal why = refusal_of(item);
    const bool gone = op == Operation::kBatchDelete &&
                      (why.code == kCodeSettingMissing || why.code == kCodeNoMapping ||
                       says_not_found(why.message));
    out.items.push_back({*ip, gone ? ItemOutcome::absent() : ItemOutcome::refused(std::move(why))});
  }
  return out;
}

std::optional<SupportedRegions> parse_supported_regions(const json& result) {
  if (!result.is_object()) return std::nullopt;
  auto vendors = result.find("vendors");
  if (vendors == result.end() || !vendors->is_object()) return std::nullopt;
  SupportedRegions out;
  for (const auto& [vendor, regions] : vendors->items()) {
    if (!regions.is_array()) return std::nullopt;
    auto& names = out.by_vendor[vendor];
    for (const auto& region : regions) {
      const std::string* name = region.is_object() ? string_field(region, "name") : nullptr;
      if (name != nullptr && !name->empty()) names.insert(*name);
    }
  }
  return out;
}

std::optional<int> parse_total_pages(const json& result_info) {
  if (!result_info.is_object()) return std::nullopt;
  auto it = result_info.find("total_pages");
  if (it == result_info.end() || !it->is_number_integer()) return std::nullopt;
  const auto pages = it->get<long long>();
  if (pages < 0 || pages > 100000) return std::nullopt;
  return static_cast<int>(pages);
}

bool says_no_mapping(const HttpResponse& response, const std::optional<Envelope>& envelope) {
  if (response.status != 404 || !envelope) return false;
  return contains_code(envelope->codes, kCodeSettingMissing) ||
         contains_code(envelope->codes, kCodeNoMapping);
}

bool says_zone_empty(const HttpResponse& response, const std::optional<Envelope>& envelope) {
  if (response.status != 404 || !envelope) return false;
  return contains_code(envelope->codes, kCodeSettingMissing);
}

bool says_not_found(std::string_view item_error) {
  std::string lower(item_error);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("not found") != std::string::npos ||
         lower.find("does not exist") != std::string::npos;
}

}  // namespace orc
