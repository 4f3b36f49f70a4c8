// client-go's EventCorrelator (tools/record/events_cache.go), on an injected time: what the
// event recorder does with each Event before it reaches the API server.
//
// 1. Aggregation: Events that differ only in their message (same type and reason) are counted
//    per type and reason; once `aggregate_max` distinct messages have come within
//    `aggregate_interval` of each other, the next ones become one combined Event, "(combined
//    from similar events): <latest message>", so that a fleet of zones failing alike makes
//    one Event, not thousands.
// 2. Deduplication: an Event with the same type, reason and message as one already recorded
//    is the same Event once more: count + 1 and lastTimestamp now, sent as a PATCH of the
//    stored Event, not as a new one.
// 3. Spam filter: a token bucket (burst `spam_burst`, refilled at `spam_per_second`) per
//    source and object; an Event without a token is not sent (its occurrence still counts: the
//    next one sent carries the count).
//
// Every Event of one correlator has the same source and the same object (this daemon's Pod),
// so the keys below are client-go's with those parts left out, and there is one bucket.
// Pure: the caller passes the times; not thread-safe (the recorder's one thread uses it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/clock.h"
#include "kube/event.h"

namespace orc {

// client-go's defaults (events_cache.go).
struct CorrelatorLimits {
  std::size_t cache_entries = 4096;              // maxLruCacheEntries, for each cache
  std::size_t aggregate_max = 10;                // defaultAggregateMaxEvents
  std::chrono::seconds aggregate_interval{600};  // defaultAggregateIntervalInSeconds
  double spam_burst = 25;                        // defaultSpamBurst
  double spam_per_second = 1.0 / 300;            // defaultSpamQPS: one Event per 5 minutes
  static constexpr const char* kCombinedPrefix = "(combined from similar events): ";
};

// A token bucket on the monotonic clock (client-go's flowcontrol token bucket): starts full.
class TokenBucket {
 public:
  TokenBucket(double burst, double per_second) : burst_(burst), rate_(per_second), tokens_(burst) {}
  // Takes one token if there is one at `now`.
  bool try_take(MonoTime now);

 private:
  double burst_;
  double rate_;
  double tokens_;
  std::optional<MonoTime> last_;
};

// A map that keeps its `capacity` most recently used entries (groupcache's lru.Cache).
template <class V>
class LruMap {
 public:
  explicit LruMap(std::size_t capacity) : capacity_(capacity) {}
  // The entry, now the most recently used; null when absent.
  V* get(const std::string& key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  // Adds or replaces; the least recently used entry goes when the map is full.
  V& put(const std::string& key, V value) {
    if (V* found = get(key)) return *found = std::move(value);
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return order_.front().second;
  }
  void erase(const std::string& key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }
  std::size_t size() const { return order_.size(); }

 private:
  using Entry = std::pair<std::string, V>;
  std::size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

// What to do with one Event.
struct Correlated {
  bool skip = false;   // the spam filter held it back: send nothing
  bool patch = false;  // the Event is stored already: PATCH its count, else POST it
  std::string key;     // for stored() / not_stored()
  EventRecord record;  // name, note (the combined message when aggregated), counts, timestamps
};

class EventCorrelator {
 public:
  // `pod` prefixes every Event's name.
  explicit EventCorrelator(std::string pod, CorrelatorLimits limits = {});

  // One occurrence of `note` at `mono` (for intervals and tokens) and `wall` (its timestamp).
  Correlated correlate(const EventNote& note, MonoTime mono, WallTime wall);
  // The API server stored the record under `key` (created or patched): repeats patch it.
  void stored(const std::string& key, const std::string& name);
  // Sending failed and the API server may not have it: the next repeat creates it (with the
  // count so far) instead of patching an Event that is not there.
  void not_stored(const std::string& key);

  const CorrelatorLimits& limits() const { return limits_; }

 private:
  struct Aggregate {
    std::unordered_set<std::string> messages;
    MonoTime last{};
  };
  struct Observed {
    std::string name;
    long long count = 0;
    WallTime first{};
    bool on_server = false;
  };
  // A new, unique name for an Event first seen at `wall` (client-go's, one nanosecond later
  // than the last when the clock has not moved).
  std::string new_name(WallTime wall);

  CorrelatorLimits limits_;
  LruMap<Aggregate> aggregates_;
  LruMap<Observed> observed_;
  TokenBucket spam_;
  std::uint64_t last_nanos_ = 0;
  std::string pod_;
};

}  // namespace orc
