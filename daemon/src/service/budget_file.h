// The API user's budget kept across restarts (net/budget_state.h) in the service's state
// directory: read at start into a RateLimiter, and kept up to date from then on, so that a
// restart inside the window the API named waits for its reset instead of sending at once.
#pragma once

#include <filesystem>
#include <optional>

#include "base/clock.h"
#include "net/rate_limiter.h"

namespace orc {

// Without a directory (no state_directory, no $STATE_DIRECTORY): says once at info level that a
// restart will not know the budget, and keeps nothing.
// Reads DIRECTORY/api-budget.json into `limiter` (RateLimiter::restore) and returns the wait
// it holds requests back with now, if any (logged with how long, on `clock`, naming the file). A
// file that cannot be read or is not one this daemon wrote is ignored, with a warning naming it;
// none is nothing. From then on the file follows the limiter (RateLimiter::on_saved_budget):
// written whole (a temporary file of its own renamed over it) while answers hold requests back,
// removed once an answer says they no longer do. A file that cannot be written is a warning, once.
std::optional<RequestBudget::AnnouncedWait> keep_budget_in(
    const std::optional<std::filesystem::path>& directory, RateLimiter& limiter,
    const Clock& clock);

}  // namespace orc
