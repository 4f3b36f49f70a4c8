#include "base/json_bounds.h"

#include <string>

namespace orc {

namespace {

using nlohmann::json;

// A first pass that builds nothing: nlohmann's SAX parser keeps its state on the heap, so a
// document nested a million levels costs a counter here, not a stack frame.
class BoundsCheck final : public nlohmann::json_sax<json> {
 public:
  explicit BoundsCheck(std::size_t max_depth) : guard_(max_depth) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;  // the parse that follows reports it
  }

  const std::string& error() const { return error_; }

 private:
  bool enter() {
    if (guard_.enter()) return true;
    error_ = "nested deeper than " + std::to_string(guard_.max_depth()) + " levels";
    return false;
  }
  bool leave() {
    guard_.leave();
    return true;
  }

  JsonDepthGuard guard_;
  std::string error_;
};

}  // namespace

Status check_json_bounds(std::string_view text, const JsonBounds& bounds) {
  if (bounds.max_bytes > 0 && text.size() > bounds.max_bytes) {
    return Error{"larger than " + std::to_string(bounds.max_bytes) + " bytes (" +
                 std::to_string(text.size()) + ")"};
  }
  BoundsCheck check(bounds.max_depth);
  json::sax_parse(text, &check, json::input_format_t::json, /*strict=*/true);
  if (!check.error().empty()) return Error{check.error()};
  return ok_status();
}

}  // namespace orc
