// libFuzzer target: one plan file through parse_plan_document. It throws PlanFileError for
// anything that is not a valid plan, never anything else and never crashes, whatever the
// nesting (core/json_bounds.h); a plan it accepts reads back the same once written out again
// (to_json_text), and its messages name the file and stay printable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "model/plan_file.h"

using orc::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  orc::PlanDocument plan;
  try {
    plan = orc::parse_plan_document(text, "plan.json");
  } catch (const orc::PlanFileError& e) {
    orc::fuzz::check_message(e.what(), "plan.json");
    return 0;
  }
  const std::string written = orc::to_json_text(plan);
  orc::PlanDocument again;
  try {
    again = orc::parse_plan_document(written, "again.json");
  } catch (const orc::PlanFileError& e) {
    orc::fuzz::fail(std::string("an accepted plan does not read back: ") + e.what());
  }
  check(again.checksum == plan.checksum, "the checksum changed through to_json_text");
  check(orc::to_json_text(again) == written, "to_json_text is not stable");
  return 0;
}
