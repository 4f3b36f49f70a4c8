// A short text that many values share (a vendor, a region), kept once for the whole process and
// referred to by one pointer: the desired state holds millions of origins but a handful of
// distinct vendors and regions, and std::optional<std::string> cost 40 bytes per origin for
// each of them. A Label reads like std::optional<std::string>: empty or a text, compared by
// text (an empty Label sorts first).
#pragma once

#include <compare>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace orc {

class Label {
 public:
  Label() = default;
  Label(std::nullopt_t) {}  // NOLINT(implicit): reads like an optional
  Label(std::string_view text) : text_(&intern(text)) {}             // NOLINT(implicit)
  Label(const std::string& text) : Label(std::string_view(text)) {}  // NOLINT(implicit)
  Label(const char* text) : Label(std::string_view(text)) {}         // NOLINT(implicit)
  Label(const std::optional<std::string>& text) {                    // NOLINT(implicit)
    if (text) text_ = &intern(*text);
  }

  bool has_value() const { return text_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const std::string& operator*() const { return *text_; }
  const std::string* operator->() const { return text_; }
  const std::string& value() const;  // throws std::bad_optional_access when empty
  void reset() { text_ = nullptr; }

  friend bool operator==(const Label& a, const Label& b) {
    return a.text_ == b.text_;  // one copy of each text
  }
  friend std::strong_ordering operator<=>(const Label& a, const Label& b) {
    if (a.text_ == b.text_) return std::strong_ordering::equal;
    if (!a.text_) return std::strong_ordering::less;
    if (!b.text_) return std::strong_ordering::greater;
    const int c = a.text_->compare(*b.text_);
    return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  friend bool operator==(const Label& a, std::string_view b) { return a.text_ && *a.text_ == b; }
  friend bool operator==(const Label& a, const char* b) { return a == std::string_view(b); }
  friend bool operator==(const Label& a, const std::string& b) { return a == std::string_view(b); }
  friend bool operator==(const Label& a, std::nullopt_t) { return !a.text_; }
  friend bool operator==(const Label& a, const std::optional<std::string>& b) {
    return b ? a == std::string_view(*b) : !a.text_;
  }
  friend std::ostream& operator<<(std::ostream& os, const Label& l) {
    return l ? os << *l : os << "(none)";
  }

 private:
  // The one copy of `text`, made on first use; thread-safe. Copies are never freed (a
  // process sees a bounded set of vendors and regions, and re-reading a file finds its own).
  static const std::string& intern(std::string_view text);

  const std::string* text_ = nullptr;
};

}  // namespace orc
