#include "service/desired_state_source.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <utility>

#include "base/duration.h"
#include "config/desired_state_parser.h"
#include "model/zone_queue.h"

namespace orc {

DesiredStateSource::DesiredStateSource(Settings settings, DesiredFile initial,
                                       DesiredFileAccess& file, ResolveNames resolve)
    : settings_(std::move(settings)),
      file_(file),
      resolve_(std::move(resolve)),
      current_(std::make_shared<const DesiredState>(std::move(initial.state))),
      watch_(settings_.settle_period, settings_.confirm_period, initial.version) {}

std::optional<DesiredStateSource::Update> DesiredStateSource::poll(MonoTime now, bool sighup) {
  if (sighup) {
    auto update = reload_on_sighup();
    if (!update) update.emplace();
    update->sighup = true;  // the operator asked: act on it now
    return update;
  }
  const auto read = read_if_changed(now);
  if (!read) return std::nullopt;
  const bool back = file_problem_.has_value();
  file_problem_.reset();
  return on_file_step(watch_.observe(version_of(*read), now), *read, back, now);
}

DesiredStateSource::Update DesiredStateSource::take(DesiredState next, const std::string& why) {
  Update update{changed_zones(*current_, next), true, false};
  current_ = std::make_shared<const DesiredState>(std::move(next));
  held_.reset();
  condition_ = DesiredCondition::kValid;
  spdlog::info("desired state reloaded ({}): {} zones from {}", why, current_->zones.size(),
               settings_.path.string());
  return update;
}

void DesiredStateSource::drop_held() {
  held_.reset();
  if (condition_ == DesiredCondition::kHeld) condition_ = DesiredCondition::kValid;
}

void DesiredStateSource::file_unreadable(const std::string& error, bool log) {
  watch_.lost();
  if (file_problem_ == error) return;
  const bool dropped = held_.has_value();
  drop_held();
  file_problem_ = error;
  condition_ = DesiredCondition::kUnreadable;
  if (log) {
    spdlog::warn(
        "desired state file {} cannot be read: {}; keeping the last valid desired state ({} "
        "zones){} until it can be read again",
        settings_.path.string(), error, current_->zones.size(),
        dropped ? " and dropping the change that was held" : "");
  }
}

std::optional<DesiredStateSource::Update> DesiredStateSource::reload_on_sighup() {
  const auto& path = settings_.path;
  auto read = file_.read();
  if (!read.ok()) {
    const std::string& error = read.error().message;
    spdlog::error(
        "desired state not reloaded (SIGHUP): {}: cannot read: {}; keeping the last "
        "valid one ({} zones)",
        path.string(), error, current_->zones.size());
    file_unreadable(error, /*log=*/false);
    return std::nullopt;
  }
  const FileVersion seen = version_of(*read);
  file_problem_.reset();
  DesiredState next;
  try {
    next = parse_desired_contents(*read, path);
    if (const Status resolved = resolve_(next); !resolved.ok()) {
      throw DesiredStateError(resolved.error().message);
    }
  } catch (const DesiredStateError& e) {
    // SIGHUP says "complete", not "valid": an invalid file is still kept out.
    watch_.confirmed_by_operator(seen, /*valid=*/false);
    held_.reset();
    condition_ = DesiredCondition::kInvalid;
    spdlog::error("desired state not reloaded (SIGHUP): {}; keeping the last valid one ({} zones)",
                  e.what(), current_->zones.size());
    return std::nullopt;
  }
  watch_.confirmed_by_operator(seen, /*valid=*/true);
  return take(std::move(next), held_ ? "SIGHUP, which confirms the held change" : "SIGHUP");
}

std::optional<DesiredStateSource::Update> DesiredStateSource::judge(const FileContents& read,
                                                                    MonoTime now) {
  const auto& path = settings_.path;
  DesiredState next;
  try {
    next = parse_desired_contents(read, path);
    if (const Status resolved = resolve_(next); !resolved.ok()) {
      throw DesiredStateError(resolved.error().message +
                              " (a change to the file, or SIGHUP, looks the names up again)");
    }
  } catch (const DesiredStateError& e) {
    watch_.judged(/*valid=*/false, false, now);
    condition_ = DesiredCondition::kInvalid;
    spdlog::error(
        "desired state not reloaded (file changed): {}; keeping the last valid one ({} "
        "zones)",
        e.what(), current_->zones.size());
    return std::nullopt;
  }
  const double max_fraction = settings_.max_delete_fraction;
  const auto shrinks = removals_beyond(*current_, next, max_fraction);
  switch (watch_.judged(/*valid=*/true, !shrinks.empty(), now)) {
    case DesiredWatch::Verdict::kUse:
      return take(std::move(next), "file changed");
    case DesiredWatch::Verdict::kHold:
      if (on_held_) on_held_(shrinks, watch_.confirm_period());
      held_ = std::move(next);
      condition_ = DesiredCondition::kHeld;
      spdlog::warn(
          "desired state change held: {} (reconcile.max_delete_fraction is {:.1f}%); the "
          "previous desired state ({} zones) stays in force. The change takes effect if {} "
          "stays unchanged for {}; if the file is complete, confirm it now with SIGHUP "
          "(systemctl reload origin-reconciler, or kill -HUP {})",
          describe(shrinks), max_fraction * 100.0, current_->zones.size(), path.string(),
          format_duration(watch_.confirm_period()), ::getpid());
      return std::nullopt;
    case DesiredWatch::Verdict::kReject:
      break;
  }
  return std::nullopt;
}

std::optional<FileContents> DesiredStateSource::read_if_changed(MonoTime now) {
  // A missing file (deleted, or a dangling link) is not a change we act on: keep what we have.
  const auto stamp = file_.stat();
  if (!stamp.ok()) {
    file_unreadable(stamp.error().message);
    return std::nullopt;
  }
  if (!watch_.worth_reading(*stamp, now)) return std::nullopt;
  auto read = file_.read();
  if (!read.ok()) {
    file_unreadable(read.error().message);
    return std::nullopt;
  }
  return std::move(*read);
}

std::optional<DesiredStateSource::Update> DesiredStateSource::on_file_step(DesiredWatch::Step step,
                                                                           const FileContents& read,
                                                                           bool back,
                                                                           MonoTime now) {
  const auto& path = settings_.path;
  const auto settle = format_duration(watch_.settle_period());
  switch (step) {
    case DesiredWatch::Step::kNothing:
    case DesiredWatch::Step::kStillHeld:
      return std::nullopt;
    case DesiredWatch::Step::kSettling:
      if (back) {
        spdlog::info("desired state file {} is back; it is used once unchanged for {}",
                     path.string(), settle);
      } else {
        spdlog::debug("desired state file {} changed; it is used once unchanged for {}",
                      path.string(), settle);
      }
      return std::nullopt;
    case DesiredWatch::Step::kHeldReplaced:
      drop_held();
      condition_ = DesiredCondition::kValid;
      spdlog::info(
          "desired state file {} changed again while a change was held; the held change is "
          "dropped and the new version is used once unchanged for {}",
          path.string(), settle);
      return std::nullopt;
    case DesiredWatch::Step::kBackInForce: {
      const bool dropped = held_.has_value();
      drop_held();
      condition_ = DesiredCondition::kValid;
      spdlog::info("desired state file {} {} the desired state in force ({} zones){}",
                   path.string(), back ? "is back, with" : "again holds", current_->zones.size(),
                   dropped ? "; the held change is dropped" : "");
      return std::nullopt;
    }
    case DesiredWatch::Step::kConfirmed: {
      // The watch confirms only a change it told us to hold (judge), and both drop it
      // together (drop_held, file_unreadable and a SIGHUP act on the watch too).
      if (!held_) return std::nullopt;
      DesiredState next = std::move(*held_);
      return take(std::move(next), "held change confirmed: unchanged for " +
                                       format_duration(watch_.confirm_period()));
    }
    case DesiredWatch::Step::kJudge:
      if (back) spdlog::info("desired state file {} is back", path.string());
      return judge(read, now);
  }
  return std::nullopt;
}

}  // namespace orc
