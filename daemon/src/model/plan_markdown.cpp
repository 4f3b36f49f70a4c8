#include "model/plan_markdown.h"

#include <sstream>
#include <vector>

#include "base/redact.h"

namespace orc {

namespace {

// "1 create", "2 deletes".
std::string counted(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string change_counts(const ChangeSet& c) {
  return counted(c.creates.size(), "create", "creates") + ", " +
         counted(c.updates.size(), "update", "updates") + ", " +
         counted(c.deletes.size(), "delete", "deletes");
}

std::string place(const Mapping& m) {
  return markdown_text(m.vendor) + " / " + markdown_text(m.region);
}

struct Row {
  std::string change, ip, now, desired;
};

std::vector<Row> rows_of(const ChangeSet& c) {
  std::vector<Row> rows;
  rows.reserve(c.creates.size() + c.updates.size() + c.deletes.size());
  for (const auto& m : c.creates) rows.push_back({"create", markdown_text(m.ip), "", place(m)});
  for (const auto& u : c.updates) {
    rows.push_back({"update", markdown_text(u.from.ip), place(u.from), place(u.to)});
  }
  for (const auto& ip : c.deletes) rows.push_back({"delete", markdown_text(ip), "", ""});
  return rows;
}

void write_table(std::ostream& out, const std::vector<Row>& rows) {
  out << "| change | IP | now | desired |\n| --- | --- | --- | --- |\n";
  for (std::size_t i = 0; i < rows.size() && i < kMarkdownMaxRows; ++i) {
    const Row& r = rows[i];
    out << "| " << r.change << " | " << r.ip << " | " << r.now << " | " << r.desired << " |\n";
  }
  if (rows.size() > kMarkdownMaxRows) {
    out << "\n… and " << rows.size() - kMarkdownMaxRows
        << " more changes, not shown here; the JSON plan (`--output json`) lists them all.\n";
  }
}

void write_zone(std::ostream& out, const PlanZone& z) {
  out << "#### Zone `" << z.zone_id << "`: ";
  if (z.status == PlanZoneStatus::kFailed) {
    out << "**failed**, no plan\n\n" << markdown_text(z.reason) << "\n\n";
    return;
  }
  const ChangeSet& c = z.changes;
  if (z.status == PlanZoneStatus::kBlocked) {
    out << "**blocked**, " << change_counts(c);
  } else if (c.empty()) {
    out << "in line, nothing to do";
  } else {
    out << change_counts(c);
  }
  out << " (" << to_string(z.policy) << "; " << z.counts.live << " live, " << z.counts.desired
      << " desired";
  if (z.counts.out_of_scope > 0) out << ", " << z.counts.out_of_scope << " out of scope";
  out << ")\n\n";
  if (z.status == PlanZoneStatus::kBlocked) out << "> " << markdown_text(z.reason) << "\n\n";
  if (!z.unsupported.empty()) {
    out << counted(z.unsupported.size(), "origin names", "origins name")
        << " a region the API does not list: held back, not sent.\n\n";
  }
  const std::vector<Row> rows = rows_of(c);
  if (rows.empty()) return;
  const bool collapse = rows.size() > kMarkdownOpenRows;
  if (collapse) out << "<details><summary>" << rows.size() << " changes</summary>\n\n";
  write_table(out, rows);
  if (collapse) out << "\n</details>\n";
  out << "\n";
}

}  // namespace

std::string markdown_text(std::string_view text) {
  const std::string safe = redact(text);
  std::string out;
  out.reserve(safe.size());
  for (const char ch : safe) {
    switch (ch) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '#':
      case '!':
      case '~':
      case '&':
        out += '\\';
        out += ch;
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string to_markdown(const PlanDocument& plan) {
  std::size_t changed = 0, in_line = 0, blocked = 0, failed = 0;
  ChangeSet all;
  for (const auto& z : plan.zones) {
    if (z.status == PlanZoneStatus::kFailed) {
      ++failed;
      continue;
    }
    if (z.status == PlanZoneStatus::kBlocked) {
      ++blocked;
    } else if (z.changes.empty()) {
      ++in_line;
    } else {
      ++changed;
    }
    all.creates.insert(all.creates.end(), z.changes.creates.begin(), z.changes.creates.end());
    all.updates.insert(all.updates.end(), z.changes.updates.begin(), z.changes.updates.end());
    all.deletes.insert(all.deletes.end(), z.changes.deletes.begin(), z.changes.deletes.end());
  }
  std::ostringstream out;
  out << "### origin-reconciler plan\n\n"
      << "**" << counted(plan.zones.size(), "zone", "zones") << ": " << changed << " to change, "
      << in_line << " in line, " << blocked << " blocked, " << failed << " failed; "
      << change_counts(all) << "**\n\n"
      << "Made " << format_utc(plan.created_at) << " by " << markdown_text(plan.identity.generator)
      << " (" << markdown_text(plan.identity.api_flavor) << ") from "
      << markdown_text(plan.identity.desired_state) << " (" << plan.identity.desired_sha256 << ")"
      << (plan.identity.force ? "; the safety guard was lifted (--force)" : "") << ".\n\n";
  for (const auto& z : plan.zones) write_zone(out, z);
  out << "Plan checksum: `" << plan.checksum << "`\n";
  return out.str();
}

}  // namespace orc
