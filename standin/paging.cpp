#include "paging.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace standin {
namespace {

// A whole decimal number, or nullopt (empty, signs, trailing characters, overflow).
std::optional<int> parse_int(const std::string& text) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

Parsed<PageRequest> parse_page_request(const QueryParams& query) {
  using Result = Parsed<PageRequest>;
  PageRequest req;
  if (auto it = query.find("page"); it != query.end()) {
    auto page = parse_int(it->second);
    if (!page || *page < 1) return Result::fail("page must be a whole number of at least 1");
    req.page = *page;
  }
  if (auto it = query.find("per_page"); it != query.end()) {
    auto per_page = parse_int(it->second);
    if (!per_page || *per_page < 1 || *per_page > kMaxPerPage) {
      return Result::fail("per_page must be a whole number from 1 to " +
                          std::to_string(kMaxPerPage));
    }
    req.per_page = *per_page;
  }
  return Result::ok(req);
}

Page page_bounds(std::size_t total, const PageRequest& request) {
  const auto per_page = static_cast<std::size_t>(request.per_page);
  const auto skipped = static_cast<std::size_t>(request.page - 1) * per_page;
  Page page;
  page.begin = std::min(skipped, total);
  page.end = std::min(page.begin + per_page, total);
  page.total_pages = (total + per_page - 1) / per_page;
  return page;
}

nlohmann::json result_info(const PageRequest& request, const Page& page, std::size_t total) {
  return {{"page", request.page},
          {"per_page", request.per_page},
          {"count", page.end - page.begin},
          {"total_count", total},
          {"total_pages", page.total_pages}};
}

}  // namespace standin
