#include "kube/event_correlator.h"

#include <algorithm>

namespace orc {

namespace {

// Keys join their parts with a unit separator: messages are made printable before they get
// here (base/redact escapes control characters), so no part holds one.
constexpr char kSep = '\x1f';

std::string aggregate_key(const EventNote& note) {
  return std::string(to_string(note.type)) + kSep + note.reason;
}

std::string event_key(const EventNote& note) {
  return aggregate_key(note) + kSep + note.message;
}

// `text` cut to at most `max` bytes, never inside a UTF-8 sequence.
std::string cut(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

}  // namespace

bool TokenBucket::try_take(MonoTime now) {
  if (last_ && now > *last_) {
    const double elapsed = std::chrono::duration<double>(now - *last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  }
  if (!last_ || now > *last_) last_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

EventCorrelator::EventCorrelator(std::string pod, CorrelatorLimits limits)
    : limits_(limits),
      aggregates_(limits.cache_entries),
      observed_(limits.cache_entries),
      spam_(limits.spam_burst, limits.spam_per_second),
      pod_(std::move(pod)) {}

std::string EventCorrelator::new_name(WallTime wall) {
  const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch());
  std::uint64_t nanos = since.count() > 0 ? static_cast<std::uint64_t>(since.count()) : 0;
  if (nanos <= last_nanos_) nanos = last_nanos_ + 1;
  last_nanos_ = nanos;
  return event_name(pod_, nanos);
}

Correlated EventCorrelator::correlate(const EventNote& note, MonoTime mono, WallTime wall) {
  Correlated c;
  c.record.note = note;
  c.key = event_key(note);

  // 1. Aggregation by type and reason: a fresh record once the last similar Event is older
  // than the interval.
  const std::string group = aggregate_key(note);
  Aggregate* similar = aggregates_.get(group);
  if (similar == nullptr || mono - similar->last > limits_.aggregate_interval) {
    similar = &aggregates_.put(group, Aggregate{});
  }
  similar->messages.insert(note.message);
  similar->last = mono;
  if (similar->messages.size() >= limits_.aggregate_max) {
    // Do not let the set grow past the limit: from here on, one more new message (or any
    // message while it is full) is combined.
    similar->messages.erase(similar->messages.begin());
    c.record.note.message = cut(CorrelatorLimits::kCombinedPrefix + note.message, kEventMessageMax);
    c.key = "combined" + std::string(1, kSep) + group;
  }

  // 2. Deduplication: a repeat is the stored Event once more.
  c.record.last_timestamp = wall;
  if (Observed* seen = observed_.get(c.key); seen != nullptr && seen->count > 0) {
    seen->count += 1;
    c.record.name = seen->name;
    c.record.count = seen->count;
    c.record.first_timestamp = seen->first;
    c.patch = seen->on_server;
  } else {
    const Observed& fresh = observed_.put(c.key, Observed{new_name(wall), 1, wall, false});
    c.record.name = fresh.name;
    c.record.count = 1;
    c.record.first_timestamp = wall;
  }

  // 3. The spam filter: its occurrence is counted above whether or not it is sent now.
  c.skip = !spam_.try_take(mono);
  return c;
}

void EventCorrelator::stored(const std::string& key, const std::string& name) {
  if (Observed* seen = observed_.get(key)) {
    seen->on_server = true;
    if (!name.empty()) seen->name = name;
  }
}

void EventCorrelator::not_stored(const std::string& key) {
  if (Observed* seen = observed_.get(key)) seen->on_server = false;
}

}  // namespace orc
