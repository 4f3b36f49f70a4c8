#include "request_log.h"

namespace standin {

RequestLog::RequestLog(std::ostream* file, std::size_t max_entries)
    : file_(file), max_entries_(max_entries) {}

void RequestLog::append(nlohmann::json entry) {
  entry["seq"] = next_seq_++;
  if (file_ != nullptr)
    *file_ << entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n'
           << std::flush;
  entries_.push_back(std::move(entry));
  if (entries_.size() > max_entries_) entries_.pop_front();
}

void RequestLog::received(nlohmann::json entry) {
  entry["event"] = "received";
  received_.push_back(std::move(entry));
  if (received_.size() > max_entries_) received_.pop_front();
}

namespace {

nlohmann::json array_of(const std::deque<nlohmann::json>& entries) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : entries) arr.push_back(e);
  return arr;
}

}  // namespace

nlohmann::json RequestLog::entries() const {
  return array_of(entries_);
}

nlohmann::json RequestLog::received_entries() const {
  return array_of(received_);
}

void RequestLog::clear() {
  entries_.clear();
  received_.clear();
}

}  // namespace standin
