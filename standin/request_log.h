// The log of API requests: kept in memory for GET /__admin/requests and, optionally, appended
// to a file as JSON lines. Not thread-safe: the service calls it under its lock.
//
// An entry is written when the request has been answered. Each request's arrival is also
// recorded, apart from those entries (GET /__admin/requests?event=received), so that a test
// can see a request the stand-in holds (a latency fault) before it is answered. Arrivals are
// kept in memory only: the answered entry carries the arrival time already.
#pragma once

#include <cstdint>
#include <deque>
#include <ostream>

#include <nlohmann/json.hpp>

namespace standin {

class RequestLog {
 public:
  // `file` (may be null) receives every entry as one line and is flushed after each.
  // The oldest entries are dropped from memory past `max_entries`.
  explicit RequestLog(std::ostream* file, std::size_t max_entries = 100'000);

  // Numbers the entry ("seq", from 1, never reused) and records it.
  void append(nlohmann::json entry);
  // Records the arrival of a request not answered yet, marked "event": "received".
  void received(nlohmann::json entry);
  nlohmann::json entries() const;           // a JSON array, oldest first
  nlohmann::json received_entries() const;  // likewise, the arrivals
  void clear();  // the memory only (both kinds); the file and the numbering go on

 private:
  std::ostream* file_;
  std::size_t max_entries_;
  std::deque<nlohmann::json> entries_;
  std::deque<nlohmann::json> received_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace standin
