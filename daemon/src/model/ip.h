// IP addresses and CIDR ranges in the canonical text form the Cloudflare API uses:
// dotted quad for IPv4, RFC 5952 for IPv6 (lower case, longest zero run compressed).
//
// An origin's identity goes one step further: an IPv4-mapped IPv6 address (::ffff:a.b.c.d,
// however it is spelled) is the IPv4 address a.b.c.d, because an API that folds the two would
// otherwise see a desired origin deleted under its other name. Origins are compared with
// parse_origin_ip / canonical_origin_ip, or as their 16-byte OriginKey (what the desired state
// keeps and the plan compares); parse_ip / canonicalize_ip keep the address family
// as written (RFC 5952 text, which is what goes into a URL path and what a host check needs).
// Pure functions: no I/O, no allocation beyond the returned strings.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
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
// spaces, brackets, prefixes and anything inet_pton would not take. An IPv4 address is taken
// only as four decimal numbers without leading zeros ("010.0.0.1" is refused): the text of
// every IPv4 address it takes is the address's canonical text.
std::optional<IpAddress> parse_ip(std::string_view text);

// The canonical text of an address (RFC 5952 for IPv6).
std::string to_string(const IpAddress& ip);

// parse_ip followed by to_string; nullopt when the text is not an address.
std::optional<std::string> canonicalize_ip(std::string_view text);

// Whether `ip` is in ::ffff:0:0/96.
bool is_v4_mapped(const IpAddress& ip);

// An IPv4-mapped IPv6 address as the IPv4 address it maps; any other address unchanged.
IpAddress unmapped(const IpAddress& ip);

// parse_ip followed by unmapped: the address an origin is compared by.
std::optional<IpAddress> parse_origin_ip(std::string_view text);

// The canonical text of an origin: "::ffff:10.0.0.1" and "0:0:0:0:0:ffff:a00:1" are
// "10.0.0.1"; nullopt when the text is not an address.
std::optional<std::string> canonical_origin_ip(std::string_view text);

// An origin's identity in 16 bytes, as the plan compares origins: the IPv6 address, an IPv4
// address folded into ::ffff:0:0/96, so that 10.0.0.1 and ::ffff:10.0.0.1 are one key.
// Ordered bytewise (IPv4 origins sort together, by address).
struct OriginKey {
  OriginKey() = default;
  // Not an aggregate: a string literal must not initialize the bytes ({"10.0.0.1"} would).
  explicit OriginKey(const std::array<std::uint8_t, 16>& b) : bytes(b) {}

  std::array<std::uint8_t, 16> bytes{};

  // Two 64-bit compares, not memcmp (a tenth of the plan's time).
  friend bool operator==(const OriginKey& a, const OriginKey& b) {
    return a.raw(0) == b.raw(0) && a.raw(1) == b.raw(1);
  }
  // As two big-endian 64-bit halves: the same order as the bytes, without a call to memcmp
  // (which was a third of the plan's time).
  friend std::strong_ordering operator<=>(const OriginKey& a, const OriginKey& b) {
    if (auto c = a.half(0) <=> b.half(0); c != 0) return c;
    return a.half(1) <=> b.half(1);
  }

 private:
  std::uint64_t raw(int i) const {
    std::uint64_t v;
    std::memcpy(&v, bytes.data() + 8 * i, 8);
    return v;
  }
  std::uint64_t half(int i) const {
    std::uint64_t v = raw(i);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
  }
};

// The key of an IPv4 address given as its 4 bytes in network order, read as one word:
// ::ffff:a.b.c.d, its last 8 bytes (0 0 ff ff a b c d) stored as one word, as keys are read
// (bytes stored one at a time and read back as a word cost a stall a key).
inline OriginKey v4_origin_key(std::uint32_t address_bytes) {
  const std::uint64_t low = std::endian::native == std::endian::little
                                ? std::uint64_t{address_bytes} << 32 | 0xFFFF0000U
                                : std::uint64_t{0xFFFF} << 32 | address_bytes;
  OriginKey key;
  std::memcpy(key.bytes.data() + 8, &low, 8);
  return key;
}

// The key of an address (either family, mapped or not).
OriginKey origin_key(const IpAddress& ip);

// The address a key stands for, in canonical origin form: an IPv4 address for a folded one.
IpAddress origin_address(const OriginKey& key);

// The canonical origin text of a key: "10.0.0.1" for ::ffff:10.0.0.1, RFC 5952 otherwise.
std::string to_string(const OriginKey& key);

// parse_ip followed by origin_key; nullopt when the text is not an address.
std::optional<OriginKey> parse_origin_key(std::string_view text);

struct OriginKeyHash {
  std::size_t operator()(const OriginKey& key) const;
};

// Hashes an address as written (RFC 5952 identity: the family counts).
struct IpAddressHash {
  std::size_t operator()(const IpAddress& ip) const;
};

struct Cidr {
  IpAddress network;  // host bits are zero
  int prefix_len = 0;

  // Compares unmapped forms: 10.0.0.0/8 contains ::ffff:10.0.0.1, ::ffff:10.0.0.0/104 contains
  // 10.0.0.1, and ::/0 contains no IPv4 address in either spelling.
  bool contains(const IpAddress& ip) const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// Parses "192.0.2.0/24" or "2001:db8::/32". Host bits set below the prefix
// ("192.0.2.1/24") are an error: such a range is almost always a typo, and the
// range it names is ambiguous to a reader.
std::optional<Cidr> parse_cidr(std::string_view text);

// Parses "address/length" as written, host bits and all ("192.0.2.1/24"): for messages that
// suggest the network form. nullopt for anything parse_cidr rejects for another reason.
std::optional<Cidr> parse_prefix(std::string_view text);

// The range with its host bits cleared: 192.0.2.1/24 is 192.0.2.0/24.
Cidr network_of(const Cidr& prefix);

// Whether no host bit is set (the form parse_cidr accepts).
bool is_network(const Cidr& prefix);

std::string to_string(const Cidr& cidr);

// A range inside ::ffff:0:0/96 (prefix length 96 or more) as the IPv4 range it maps:
// ::ffff:10.0.0.0/104 is 10.0.0.0/8 and ::ffff:0:0/96 is 0.0.0.0/0. Any other range unchanged;
// in particular a wider IPv6 range such as ::/0 keeps meaning IPv6 addresses only, so that it
// never takes in every IPv4 origin of a zone.
Cidr unmapped(const Cidr& cidr);

}  // namespace orc
