// The desired state the loop works from, and everything about its file between two cycles:
// the watch over its versions (DesiredWatch), a change held for confirmation, why the file
// cannot be read, and its condition for /healthz. The loop asks poll(now) at each step and
// gets an update when a new desired state is in force, or when SIGHUP asks for a cycle.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "model/desired_state.h"
#include "service/desired_condition.h"
#include "service/desired_file.h"
#include "service/desired_watch.h"

namespace orc {

class DesiredStateSource {
 public:
  struct Settings {
    std::filesystem::path path;  // reconcile.desired_state, for messages
    Millis settle_period{0};
    Millis confirm_period{0};          // reconcile.hold_confirm_period
    double max_delete_fraction = 0.3;  // a change removing more of a zone is held
  };
  // Gives the zones written by name their ids; an error keeps that state out.
  using ResolveNames = std::function<Status(DesiredState&)>;

  DesiredStateSource(Settings settings, DesiredFile initial, DesiredFileAccess& file,
                     ResolveNames resolve);

  struct Update {
    // Zones the new state changes (changed_zones, desired_watch.h); empty when SIGHUP found
    // nothing new to take.
    std::vector<std::string> changed_zones;
    bool taken = false;   // a new desired state is in force
    bool sighup = false;  // the operator asked for a cycle now
  };
  // Looks at the file when its stamp says it may have changed or a decision is due, or reads it
  // at once for a SIGHUP (which also confirms a held change). Logs what it decides.
  std::optional<Update> poll(MonoTime now, bool sighup);

  // The desired state in force. Shared with the cycle that started with it, never copied.
  std::shared_ptr<const DesiredState> current() const { return current_; }
  DesiredCondition condition() const { return condition_; }
  // When a settle or confirmation period ends: the loop looks again then.
  std::optional<MonoTime> due() const { return watch_.due(); }

  // Told of each valid change held because it would shrink these zones too much (it takes
  // effect once unchanged for the confirm period, or with SIGHUP). Must not block.
  using HeldHook = std::function<void(const std::vector<ZoneShrink>& shrinks, Millis confirm)>;
  void on_change_held(HeldHook hook) { on_held_ = std::move(hook); }

 private:
  std::optional<FileContents> read_if_changed(MonoTime now);
  std::optional<Update> on_file_step(DesiredWatch::Step step, const FileContents& read, bool back,
                                     MonoTime now);
  std::optional<Update> reload_on_sighup();
  std::optional<Update> judge(const FileContents& read, MonoTime now);
  Update take(DesiredState next, const std::string& why);
  void drop_held();
  // The file cannot be read: kept out, reported once per reason (`log` false: the caller did).
  void file_unreadable(const std::string& error, bool log = true);

  Settings settings_;
  DesiredFileAccess& file_;
  ResolveNames resolve_;
  std::shared_ptr<const DesiredState> current_;
  DesiredWatch watch_;
  std::optional<DesiredState> held_;         // a valid change waiting for confirmation
  std::optional<std::string> file_problem_;  // why the file cannot be read, once reported
  DesiredCondition condition_ = DesiredCondition::kValid;
  HeldHook on_held_;
};

}  // namespace orc
