// IP addresses and CIDR ranges in the canonical text form the Cloudflare API uses:
// dotted quad for IPv4, RFC 5952 for IPv6 (lower case, longest zero run compressed).
// Pure functions: no I/O, no allocation beyond the returned strings.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orc {

struct IpAddress {
  enum class Family : std::uint8_t { kV4, kV6 };
  Family family = Family::kV4;
  // Network byte order; an IPv4 address uses the first 4 bytes.
  std::array<std::uint8_t, 16> bytes{};

  std::size_t size() const { return family == Family::kV4 ? 4 : 16; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Parses an IPv4 or IPv6 address. Rejects scope ids ("fe80::1%eth0"), surrounding
// spaces, brackets, prefixes and anything inet_pton would not take.
std::optional<IpAddress> parse_ip(std::string_view text);

// The canonical text of an address (RFC 5952 for IPv6).
std::string to_string(const IpAddress& ip);

// parse_ip followed by to_string; nullopt when the text is not an address.
std::optional<std::string> canonicalize_ip(std::string_view text);

struct Cidr {
  IpAddress network;  // host bits are zero
  int prefix_len = 0;

  bool contains(const IpAddress& ip) const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// Parses "192.0.2.0/24" or "2001:db8::/32". Host bits set below the prefix
// ("192.0.2.1/24") are an error: such a range is almost always a typo, and the
// range it names is ambiguous to a reader.
std::optional<Cidr> parse_cidr(std::string_view text);

std::string to_string(const Cidr& cidr);

}  // namespace orc
