#include "service/budget_file.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <system_error>

#include "base/redact.h"
#include "base/source_text.h"
#include "net/budget_state.h"
#include "service/plan_report.h"

namespace orc {

namespace {

namespace fs = std::filesystem;

// The last run's budget, if there is a file holding one this daemon wrote.
std::optional<SavedBudget> read_saved(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec))) return std::nullopt;  // none kept: nothing
  const auto read = read_file(file, kMaxBudgetStateBytes);
  if (!read.ok()) {
    spdlog::warn(
        "{}: ignored, cannot be read: {}; the API user's budget as the last run saw it "
        "is not known",
        file.string(), read.error().message);
    return std::nullopt;
  }
  auto saved = parse_budget_state(read->text);
  if (!saved.ok()) {
    spdlog::warn(
        "{}: ignored, not a budget this daemon saved: {}; the API user's budget as the "
        "last run saw it is not known",
        file.string(), redact(saved.error().message));
    return std::nullopt;
  }
  return std::move(*saved);
}

}  // namespace

std::optional<RequestBudget::AnnouncedWait> keep_budget_in(const std::optional<fs::path>& directory,
                                                           RateLimiter& limiter,
                                                           const Clock& clock) {
  if (!directory) {
    spdlog::info(
        "no state_directory: a restart does not know what the API said of the user's budget");
    return std::nullopt;
  }
  const fs::path file = *directory / kBudgetStateFile;
  std::optional<RequestBudget::AnnouncedWait> wait;
  if (const auto saved = read_saved(file)) {
    limiter.restore(*saved);
    wait = limiter.announced_wait();
  }
  if (wait) {
    spdlog::info(
        "{}: the last run's answers hold requests back: nothing is sent to the API for {} ({})",
        file.string(), format_duration(std::chrono::ceil<Millis>(wait->until - clock.monotonic())),
        wait->from_headers
            ? "until the reset its rate-limit headers named, at most an hour after that answer"
            : "the rest of a 429's Retry-After, at most an hour");
  }
  auto logged = std::make_shared<std::atomic<bool>>(false);  // a write that failed, said once
  limiter.on_saved_budget([file, logged](const std::optional<SavedBudget>& saved) {
    std::error_code ec;
    if (!saved) {
      fs::remove(file, ec);
      return;
    }
    if (const Status written = write_whole(file, to_budget_state_text(*saved)); !written.ok()) {
      if (!logged->exchange(true)) {
        spdlog::warn("{}: cannot write the API user's budget: {}; a restart will not know it",
                     file.string(), written.error().message);
      }
    }
  });
  return wait;
}

}  // namespace orc
