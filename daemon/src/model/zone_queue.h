// The zones of one cycle, in the order they are reconciled ("changes first"). A cycle starts
// with every zone of the desired state in file order; a desired-state change taken while it
// runs puts the zones whose origins changed at the front, so they are reconciled next, and the
// zones still waiting continue behind them with their new definitions. Any number of worker
// threads pop; the loop pushes. Zones are never copied: the queue points into the desired
// states it was given, and keeps those it shares alive until it is destroyed.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "model/desired_state.h"

namespace orc {

// Zones of `after` that `before` does not have, or whose origins (addresses, vendors, regions),
// manage_cidrs or policy differ; in the order of `after`. Order within a zone does not count.
std::vector<std::string> changed_zones(const DesiredState& before, const DesiredState& after);

class ZoneQueue {
 public:
  struct Item {
    const DesiredZone* zone = nullptr;
    std::size_t order = 0;  // its place in the cycle's report
  };

  // `desired` must outlive the queue.
  explicit ZoneQueue(const DesiredState& desired);
  explicit ZoneQueue(std::shared_ptr<const DesiredState> desired);

  // The next zone, or nullopt when none is left. The first empty answer closes the queue: the
  // cycle is ending, and later pushes are refused.
  std::optional<Item> pop();

  // A new desired state `next` was taken: the zones named in `changed` (reconciled earlier in
  // this cycle or not) go to the front in that order, then the zones still waiting, each with
  // its definition in `next`; a waiting zone `next` no longer has is dropped. False when the
  // queue is closed (the caller starts a new cycle instead).
  bool changes_first(std::shared_ptr<const DesiredState> next,
                     const std::vector<std::string>& changed);

  std::size_t waiting() const;

 private:
  mutable std::mutex mu_;
  std::deque<Item> items_;
  std::vector<std::shared_ptr<const DesiredState>> states_;  // what items_ point into
  std::size_t next_order_ = 0;
  bool closed_ = false;
};

}  // namespace orc
