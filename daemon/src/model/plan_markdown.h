// The plan as Markdown, for a merge-request comment (`--dry-run --output markdown`): a line
// for the run, then per zone a summary line and its changes in a table, collapsed in a
// <details> block past kMarkdownOpenRows rows and cut at kMarkdownMaxRows (the JSON plan has
// them all); the plan checksum at the end. A pure function of the plan document: the same
// document always gives the same text.
#pragma once

#include <cstddef>
#include <string>

#include "model/plan_file.h"

namespace orc {

// A zone's table with more rows than this is collapsed (<details>), so that a comment over
// many zones stays readable.
inline constexpr std::size_t kMarkdownOpenRows = 10;
// At most this many rows per zone: a comment has a size limit (GitHub's is 65,536 characters);
// the rest is counted in a last line.
inline constexpr std::size_t kMarkdownMaxRows = 100;

// Text from outside (IPs, vendors, regions and reasons the API gave) with every character that
// Markdown or HTML would interpret escaped, so that a cell cannot break the table or inject
// markup; control characters and invalid UTF-8 escaped as redact() does.
std::string markdown_text(std::string_view text);

std::string to_markdown(const PlanDocument& plan);

}  // namespace orc
