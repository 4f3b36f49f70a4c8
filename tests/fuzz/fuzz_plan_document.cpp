// libFuzzer target: one plan file through parse_plan_document. It throws PlanFileError for
// anything that is not a valid plan, never anything else and never crashes, whatever the
// nesting (base/json_bounds.h); a plan it accepts reads back the same once written out again
// (to_json_text), and its messages name the file and stay printable. Read from a stream, a
// piece at a time as --apply-plan reads a file, the input gives the same plan or message.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "model/plan_file.h"

using orc::fuzz::check;

namespace {

// The plan read from `in`, or the message of its PlanFileError.
template <class Input>
std::pair<std::optional<orc::PlanDocument>, std::string> read(Input&& in) {
  try {
    return {orc::parse_plan_document(in, "plan.json"), ""};
  } catch (const orc::PlanFileError& e) {
    return {std::nullopt, e.what()};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto [plan, message] = read(text);
  std::istringstream stream{std::string(text)};
  const auto [streamed, streamed_message] = read(static_cast<std::istream&>(stream));
  check(
      streamed == plan && streamed_message == message,
      "the text and the stream read differently: '" + message + "' and '" + streamed_message + "'");
  if (!plan) {
    orc::fuzz::check_message(message, "plan.json");
    return 0;
  }
  const std::string written = orc::to_json_text(*plan);
  orc::PlanDocument again;
  try {
    again = orc::parse_plan_document(written, "again.json");
  } catch (const orc::PlanFileError& e) {
    orc::fuzz::fail(std::string("an accepted plan does not read back: ") + e.what());
  }
  check(again.checksum == plan->checksum, "the checksum changed through to_json_text");
  check(orc::to_json_text(again) == written, "to_json_text is not stable");
  return 0;
}
