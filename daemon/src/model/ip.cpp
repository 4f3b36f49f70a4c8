#include "model/ip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

namespace orc {

namespace {

// A dotted quad as inet_pton(AF_INET) takes it: four decimal numbers of 0 to 255 without
// leading zeros, separated by dots, nothing else. inet_pton needs a NUL-terminated copy and
// measures it again, which was a third of a plan's time; this reads the text where it is, in
// one pass. ip_test and the ip fuzz target hold the two to the same answers.
bool parse_dotted_quad(std::string_view text, std::uint8_t* out) {
  // "0.0.0.0" to "255.255.255.255": anything shorter or longer is not one.
  if (text.size() < 7 || text.size() > 15) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  // The four bytes gathered in a word and stored at once: stored one at a time, they stall the
  // word read that takes them next (origin_key).
  std::uint32_t word = 0;
  for (int i = 0;; ++i) {
    // One to three digits (p is before the end here), the first not 0 unless it is alone.
    unsigned value = static_cast<unsigned>(p[0]) - '0';
    if (value > 9) return false;
    ++p;
    if (p != end && static_cast<unsigned>(*p) - '0' <= 9) {
      if (value == 0) return false;
      value = value * 10 + (static_cast<unsigned>(*p++) - '0');
      if (p != end && static_cast<unsigned>(*p) - '0' <= 9) {
        value = value * 10 + (static_cast<unsigned>(*p++) - '0');
        if (value > 255) return false;
      }
    }
    const int shift = std::endian::native == std::endian::little ? 8 * i : 8 * (3 - i);
    word |= value << shift;
    if (i == 3) {
      if (p != end) return false;
      std::memcpy(out, &word, 4);
      return true;
    }
    // A dot, and something after it.
    if (end - p < 2 || *p != '.') return false;
    ++p;
  }
}

// An IPv6 address (inet_pton on a NUL-terminated copy), apart from the common case.
[[gnu::noinline]] std::optional<IpAddress> parse_ipv6(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  // inet_pton needs a NUL-terminated string; addresses are short, so a stack buffer does.
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  ip.family = IpAddress::Family::kV6;
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
  IpAddress ip;
  if (parse_dotted_quad(text, ip.bytes.data())) return ip;  // IPv4 is the default family
  return parse_ipv6(text);
}

std::string to_string(const IpAddress& ip) {
  if (ip.family == IpAddress::Family::kV4) {
    // By hand: inet_ntop formats IPv4 through sprintf, which was a twentieth of the daemon's CPU
    // when it canonicalized every listed address.
    char buf[16];
    char* p = buf;
    for (std::size_t i = 0; i < 4; ++i) {
      if (i > 0) *p++ = '.';
      unsigned v = ip.bytes[i];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
      *p++ = static_cast<char>('0' + v % 10);
    }
    return std::string(buf, p);
  }
  char buf[INET6_ADDRSTRLEN];
  const int af = ip.family == IpAddress::Family::kV4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, ip.bytes.data(), buf, sizeof(buf)) == nullptr) return {};
  return buf;
}

std::optional<std::string> canonicalize_ip(std::string_view text) {
  auto ip = parse_ip(text);
  if (!ip) return std::nullopt;
  return to_string(*ip);
}

bool is_v4_mapped(const IpAddress& ip) {
  if (ip.family != IpAddress::Family::kV6) return false;
  for (int i = 0; i < 10; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[10] == 0xFF && ip.bytes[11] == 0xFF;
}

IpAddress unmapped(const IpAddress& ip) {
  if (!is_v4_mapped(ip)) return ip;
  IpAddress v4;
  v4.family = IpAddress::Family::kV4;
  std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
  return v4;
}

std::optional<IpAddress> parse_origin_ip(std::string_view text) {
  auto ip = parse_ip(text);
  if (!ip) return std::nullopt;
  return unmapped(*ip);
}

std::optional<std::string> canonical_origin_ip(std::string_view text) {
  auto ip = parse_origin_ip(text);
  if (!ip) return std::nullopt;
  return to_string(*ip);
}

OriginKey origin_key(const IpAddress& ip) {
  OriginKey key;
  if (ip.family == IpAddress::Family::kV6) {
    key.bytes = ip.bytes;
    return key;
  }
  std::uint32_t v4 = 0;
  std::memcpy(&v4, ip.bytes.data(), 4);
  return v4_origin_key(v4);
}

IpAddress origin_address(const OriginKey& key) {
  IpAddress ip;
  ip.family = IpAddress::Family::kV6;
  ip.bytes = key.bytes;
  return unmapped(ip);
}

std::string to_string(const OriginKey& key) {
  return to_string(origin_address(key));
}

std::optional<OriginKey> parse_origin_key(std::string_view text) {
  auto ip = parse_ip(text);
  if (!ip) return std::nullopt;
  return origin_key(*ip);
}

namespace {

// Two 64-bit halves mixed by multiplication (the finaliser of MurmurHash3's 64-bit variant):
// addresses of one zone often differ only in their last bytes.
std::size_t hash_bytes(const std::array<std::uint8_t, 16>& bytes, std::uint64_t seed) {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  std::memcpy(&hi, bytes.data(), 8);
  std::memcpy(&lo, bytes.data() + 8, 8);
  std::uint64_t h = hi ^ (lo * 0x9E3779B97F4A7C15ULL) ^ seed;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return static_cast<std::size_t>(h);
}

}  // namespace

std::size_t OriginKeyHash::operator()(const OriginKey& key) const {
  return hash_bytes(key.bytes, 0);
}

std::size_t IpAddressHash::operator()(const IpAddress& ip) const {
  return hash_bytes(ip.bytes, ip.family == IpAddress::Family::kV4 ? 4 : 6);
}

bool Cidr::contains(const IpAddress& address) const {
  // Both sides unmapped: ::ffff:10.0.0.1 is in 10.0.0.0/8, 10.0.0.1 in ::ffff:10.0.0.0/104.
  const IpAddress ip = unmapped(address);
  const Cidr range = unmapped(*this);
  if (ip.family != range.network.family) return false;
  const int full = range.prefix_len / 8;
  for (int i = 0; i < full; ++i) {
    if (ip.bytes[i] != range.network.bytes[i]) return false;
  }
  const int rest = range.prefix_len % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - rest));
  return (ip.bytes[full] & mask) == (range.network.bytes[full] & mask);
}

std::optional<Cidr> parse_prefix(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;

  const std::string_view len_text = text.substr(slash + 1);
  int len = -1;
  const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || end != len_text.data() + len_text.size() || len_text.empty()) {
    return std::nullopt;
  }
  if (len_text.size() > 1 && len_text[0] == '0') return std::nullopt;  // "/024"
  const int max_len = static_cast<int>(ip->size()) * 8;
  if (len < 0 || len > max_len) return std::nullopt;
  return Cidr{*ip, len};
}

Cidr network_of(const Cidr& prefix) {
  Cidr out = prefix;
  const int max_len = static_cast<int>(out.network.size()) * 8;
  for (int bit = out.prefix_len; bit < max_len; ++bit) {
    out.network.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return out;
}

bool is_network(const Cidr& prefix) {
  return network_of(prefix) == prefix;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  auto prefix = parse_prefix(text);
  if (!prefix || !is_network(*prefix)) return std::nullopt;  // host bits must be zero
  return prefix;
}

std::string to_string(const Cidr& cidr) {
  return to_string(cidr.network) + "/" + std::to_string(cidr.prefix_len);
}

Cidr unmapped(const Cidr& cidr) {
  constexpr int kMappedPrefix = 96;  // ::ffff:0:0/96
  if (cidr.prefix_len < kMappedPrefix || !is_v4_mapped(cidr.network)) return cidr;
  return Cidr{unmapped(cidr.network), cidr.prefix_len - kMappedPrefix};
}

}  // namespace orc
