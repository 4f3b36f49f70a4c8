#include "model/origin_list.h"

#include <algorithm>
#include <cstring>

namespace orc {

namespace {

// Up to this many pairs a list finds a pair's number by looking through them; past it, in
// pair_numbers_ (a zone with hundreds of regions).
constexpr std::size_t kLinearPairs = 16;

std::uint64_t pair_key(const Label& vendor, const Label& region) {
  return (std::uint64_t{vendor.number()} << 32) | region.number();
}

}  // namespace

OriginList::OriginList(std::initializer_list<DesiredOrigin> origins) {
  reserve(origins.size());
  for (const auto& o : origins) push_back(o);
}

bool OriginList::is_ipv4(const OriginKey& key) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  return std::memcmp(key.bytes.data(), kPrefix, sizeof(kPrefix)) == 0;
}

void OriginList::widen() {
  std::vector<OriginKey> wide;
  wide.reserve(std::max(v4_.capacity(), size_ + 1));
  for (std::size_t i = 0; i < size_; ++i) wide.push_back(key(i));
  wide_ = std::move(wide);
  v4_.clear();
  v4_.shrink_to_fit();
}

std::uint32_t OriginList::number_pair(const Label& vendor, const Label& region) {
  if (size_ == 0 && pairs_.size() == 1) {
    // The first origin names the list's first pair.
    pairs_[0] = {vendor, region};
    return 0;
  }
  if (pairs_.size() <= kLinearPairs) {
    for (std::size_t p = 0; p < pairs_.size(); ++p) {
      if (pairs_[p].first == vendor && pairs_[p].second == region) {
        return static_cast<std::uint32_t>(p);
      }
    }
  } else if (const auto it = pair_numbers_.find(pair_key(vendor, region));
             it != pair_numbers_.end()) {
    return it->second;
  }
  const auto number = static_cast<std::uint32_t>(pairs_.size());
  pairs_.emplace_back(vendor, region);
  if (pairs_.size() > kLinearPairs) {
    if (pair_numbers_.empty()) {
      for (std::size_t p = 0; p < pairs_.size(); ++p) {
        pair_numbers_.emplace(pair_key(pairs_[p].first, pairs_[p].second),
                              static_cast<std::uint32_t>(p));
      }
    } else {
      pair_numbers_.emplace(pair_key(vendor, region), number);
    }
  }
  // A second pair: from now on each origin carries its number (0 for those before).
  if (pair_index_.empty()) pair_index_.assign(size_, 0);
  return number;
}

void OriginList::push_back(const DesiredOrigin& origin) {
  // The usual origin names the list's one pair again (or, like the others, none).
  const bool first_pair = size_ > 0 && pairs_.size() == 1 && pairs_[0].first == origin.vendor &&
                          pairs_[0].second == origin.region;
  const std::uint32_t pair = first_pair ? 0 : number_pair(origin.vendor, origin.region);
  if (wide_.empty() && is_ipv4(origin.ip)) {
    std::uint32_t a;
    std::memcpy(&a, origin.ip.bytes.data() + 12, 4);
    v4_.push_back(a);
  } else {
    if (wide_.empty()) widen();
    wide_.push_back(origin.ip);
  }
  if (!pair_index_.empty() || pairs_.size() > 1) pair_index_.push_back(pair);
  ++size_;
}

void OriginList::pop_back() {
  if (size_ == 0) return;
  --size_;
  if (!wide_.empty()) {
    wide_.pop_back();
  } else {
    v4_.pop_back();
  }
  if (!pair_index_.empty()) pair_index_.pop_back();
}

void OriginList::set(std::size_t i, const DesiredOrigin& origin) {
  // Rare (tests, tools): rebuilt, so the compact forms stay exact.
  OriginList out;
  out.reserve(size_);
  for (std::size_t j = 0; j < size_; ++j) out.push_back(j == i ? origin : (*this)[j]);
  *this = std::move(out);
}

void OriginList::reserve(std::size_t n) {
  if (wide_.empty()) {
    v4_.reserve(n);
  } else {
    wide_.reserve(n);
  }
}

void OriginList::clear() {
  size_ = 0;
  v4_.clear();
  wide_.clear();
  pair_index_.clear();
  pairs_.assign(1, {Label(), Label()});
  pair_numbers_.clear();
}

std::size_t OriginList::heap_bytes() const {
  return v4_.capacity() * sizeof(std::uint32_t) + wide_.capacity() * sizeof(OriginKey) +
         pair_index_.capacity() * sizeof(std::uint32_t) +
         pairs_.capacity() * sizeof(std::pair<Label, Label>);
}

bool operator==(const OriginList& a, const OriginList& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace orc
