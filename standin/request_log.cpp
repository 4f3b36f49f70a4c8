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

nlohmann::json RequestLog::entries() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : entries_) arr.push_back(e);
  return arr;
}

void RequestLog::clear() {
  entries_.clear();
}

}  // namespace standin
