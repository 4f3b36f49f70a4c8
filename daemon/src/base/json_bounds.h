// The one bound on every JSON document the daemon reads from outside (API answers, Lease
// answers, plan files): a size and a nesting depth, checked while parsing and before any tree
// is built. Past the parse nothing (copies, dumps, error messages) recurses deeper than the
// bound, whatever the input. A streaming reader can apply the same rule through
// JsonDepthGuard.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

#include "base/status.h"

namespace orc {

// Deeper than any document the daemon reads (a Cloudflare answer is 4 levels, a Lease with its
// managedFields about 10, a plan 5) and far from what recursion over a tree could not take.
inline constexpr std::size_t kMaxJsonDepth = 64;

struct JsonBounds {
  std::size_t max_bytes = 0;
  std::size_t max_depth = kMaxJsonDepth;
};

// Counts the nesting of a document as a parser meets it: enter() at each '{' or '[' (false
// once deeper than the bound), leave() at its end.
class JsonDepthGuard {
 public:
  explicit JsonDepthGuard(std::size_t max_depth) : max_(max_depth) {}
  bool enter() { return ++depth_ <= max_; }
  void leave() { --depth_; }
  std::size_t max_depth() const { return max_; }

 private:
  std::size_t max_;
  std::size_t depth_ = 0;
};

// An Error when `text` is larger than bounds.max_bytes (0: no size bound here) or nested
// deeper than bounds.max_depth ("nested deeper than 64 levels"); ok otherwise. Syntax errors
// are left to the parse that follows (it stops at the same byte, before any deep tree exists),
// so every reader keeps its own message for them. Builds nothing and does not recurse.
Status check_json_bounds(std::string_view text, const JsonBounds& bounds);

}  // namespace orc
