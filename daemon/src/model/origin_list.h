// The origins one zone keeps, in file order, stored by column: at fleet scale the desired
// state holds millions of them (1,000 zones of 3,150 IPv4 origins: 72 MiB as 24-byte structs,
// 12 MiB here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/ip.h"
#include "model/label.h"

namespace orc {

// One origin as the desired state writes it.
struct DesiredOrigin {
  OriginKey ip;  // IPv4 folded (ip.h); to_string(ip) is its canonical origin text
  Label vendor;  // aws|azure|gcp|oci when given
  Label region;
  friend bool operator==(const DesiredOrigin&, const DesiredOrigin&) = default;
};

// A list of DesiredOrigin values. While every address is IPv4 an origin takes 4 bytes (its
// address); the first IPv6 one widens the list to 16-byte keys. The (vendor, region) pairs are
// numbered in a small table of their own; while the list has one pair (the usual zone: one
// cloud region, or none named) no number is stored, then 4 bytes an origin. Elements are
// values: read them with [] or a loop, change one with set().
class OriginList {
 public:
  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using iterator_concept = std::input_iterator_tag;
    using value_type = DesiredOrigin;
    using difference_type = std::ptrdiff_t;
    using reference = DesiredOrigin;
    struct pointer {
      DesiredOrigin value;
      const DesiredOrigin* operator->() const { return &value; }
    };

    const_iterator() = default;
    DesiredOrigin operator*() const { return (*list_)[i_]; }
    pointer operator->() const { return {**this}; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++i_;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.i_ == b.i_;
    }

   private:
    friend class OriginList;
    const_iterator(const OriginList* list, std::size_t i) : list_(list), i_(i) {}
    const OriginList* list_ = nullptr;
    std::size_t i_ = 0;
  };
  using value_type = DesiredOrigin;
  using size_type = std::size_t;
  using iterator = const_iterator;

  OriginList() = default;
  OriginList(std::initializer_list<DesiredOrigin> origins);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // A const value: `list[i].region = ...` does not compile (it would change a copy); use set().
  const DesiredOrigin operator[](std::size_t i) const {
    return {key(i), pairs_[pair_of(i)].first, pairs_[pair_of(i)].second};
  }
  // The address of origins[i] alone (what [] gives as .ip, without the vendor and region).
  OriginKey key(std::size_t i) const { return wide_.empty() ? v4_origin_key(v4_[i]) : wide_[i]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

  void push_back(const DesiredOrigin& origin);
  void pop_back();
  void set(std::size_t i, const DesiredOrigin& origin);
  void reserve(std::size_t n);
  // Empties the list and keeps its capacity (for a list that is refilled).
  void clear();

  // The heap bytes held (for tests).
  std::size_t heap_bytes() const;

  friend bool operator==(const OriginList& a, const OriginList& b);

 private:
  static bool is_ipv4(const OriginKey& key);
  std::size_t pair_of(std::size_t i) const { return pair_index_.empty() ? 0 : pair_index_[i]; }
  std::uint32_t number_pair(const Label& vendor, const Label& region);
  void widen();

  std::size_t size_ = 0;
  std::vector<std::uint32_t> v4_;          // the addresses while all are IPv4 (bytes as in the key)
  std::vector<OriginKey> wide_;            // every key, once one is IPv6
  std::vector<std::uint32_t> pair_index_;  // each origin's pair, once there are two pairs
  // The distinct pairs in order of first use; the first is ({}, {}) until an origin comes.
  std::vector<std::pair<Label, Label>> pairs_{{Label(), Label()}};
  std::unordered_map<std::uint64_t, std::uint32_t> pair_numbers_;  // past kLinearPairs pairs
};

}  // namespace orc
