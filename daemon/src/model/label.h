// A short text that many values share (a vendor, a region), kept once for the whole process and
// referred to by a 4-byte number: the desired state holds millions of origins but a handful of
// distinct vendors and regions, and std::optional<std::string> cost 40 bytes per origin for
// each of them (a pointer, 8). A Label reads like std::optional<std::string>: empty or a text,
// compared by text (an empty Label sorts first).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace orc {

class Label {
 public:
  Label() = default;
  Label(std::nullopt_t) {}                             // NOLINT(implicit): reads like an optional
  Label(std::string_view text) : id_(intern(text)) {}  // NOLINT(implicit)
  Label(const std::string& text) : Label(std::string_view(text)) {}  // NOLINT(implicit)
  Label(const char* text) : Label(std::string_view(text)) {}         // NOLINT(implicit)
  Label(const std::optional<std::string>& text) {                    // NOLINT(implicit)
    if (text) id_ = intern(*text);
  }

  bool has_value() const { return id_ != 0; }
  explicit operator bool() const { return has_value(); }
  const std::string& operator*() const { return text_of(id_); }
  const std::string* operator->() const { return &text_of(id_); }
  const std::string& value() const;  // throws std::bad_optional_access when empty
  void reset() { id_ = 0; }
  // The text's number: equal numbers, equal texts (0: empty). Not an order.
  std::uint32_t number() const { return id_; }

  friend bool operator==(const Label& a, const Label& b) {
    return a.id_ == b.id_;  // one number for each text
  }
  friend std::strong_ordering operator<=>(const Label& a, const Label& b) {
    if (a.id_ == b.id_) return std::strong_ordering::equal;
    if (!a.id_) return std::strong_ordering::less;
    if (!b.id_) return std::strong_ordering::greater;
    const int c = (*a).compare(*b);
    return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  friend bool operator==(const Label& a, std::string_view b) { return a.id_ && *a == b; }
  friend bool operator==(const Label& a, const char* b) { return a == std::string_view(b); }
  friend bool operator==(const Label& a, const std::string& b) { return a == std::string_view(b); }
  friend bool operator==(const Label& a, std::nullopt_t) { return !a.id_; }
  friend bool operator==(const Label& a, const std::optional<std::string>& b) {
    return b ? a == std::string_view(*b) : !a.id_;
  }
  friend std::ostream& operator<<(std::ostream& os, const Label& l) {
    return l ? os << *l : os << "(none)";
  }

 private:
  // The number of `text` (1 and up), its copy made on first use; thread-safe. Copies are never
  // freed (a process sees a bounded set of vendors and regions, and re-reading a file finds its
  // own). Throws std::length_error past kMaxLabels distinct texts.
  static std::uint32_t intern(std::string_view text);
  // The text of a number intern() gave: no lock (the table's slots never move).
  static const std::string& text_of(std::uint32_t id);

  std::uint32_t id_ = 0;  // 0: empty
};

}  // namespace orc
