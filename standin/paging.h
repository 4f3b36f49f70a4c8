// Generation 2's list paging: the query parameters and the arithmetic of one page.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "routes.h"
#include "types.h"

namespace standin {

inline constexpr int kDefaultPerPage = 20;
inline constexpr int kMaxPerPage = 100;

struct PageRequest {
  int page = 1;
  int per_page = kDefaultPerPage;
};

// page >= 1, 1 <= per_page <= 100, both whole decimal numbers; absent ones take the defaults.
Parsed<PageRequest> parse_page_request(const QueryParams& query);

// The items [begin, end) of a list of `total`; empty past the last page.
struct Page {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t total_pages = 0;  // 0 for an empty list
};
Page page_bounds(std::size_t total, const PageRequest& request);

// {"page", "per_page", "count", "total_count", "total_pages"}
nlohmann::json result_info(const PageRequest& request, const Page& page, std::size_t total);

}  // namespace standin
