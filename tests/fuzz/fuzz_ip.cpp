// libFuzzer target: the IP address and CIDR parsers (ip.h) on arbitrary text, with the
// properties the rest of the daemon relies on:
//  - canonical form is a fixed point: canonical(canonical(x)) == canonical(x);
//  - whatever address to_string writes reads back (also for arbitrary 4 and 16 raw bytes);
//  - a text without a colon is taken, to the same bytes, exactly when inet_pton(AF_INET) takes it;
//  - a parsed CIDR contains its own network address and the last address of its range, not
//    the address just past it, and reads back from its own text.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "model/ip.h"

namespace {

using orc::fuzz::check;

void check_address_text(std::string_view text) {
  const auto canonical = orc::canonicalize_ip(text);
  if (!canonical) return;
  check(!canonical->empty(), "empty canonical form for " + std::string(text));
  const auto twice = orc::canonicalize_ip(*canonical);
  check(twice == canonical, "canonical form is not a fixed point: '" + std::string(text) +
                                "' -> '" + *canonical + "' -> '" + twice.value_or("(rejected)") +
                                "'");
  check(orc::parse_ip(text).has_value(), "canonicalize_ip accepts what parse_ip rejects");
}

void check_like_inet_pton(std::string_view text) {
  if (text.find(':') != std::string_view::npos || text.find('\0') != std::string_view::npos) {
    return;
  }
  const std::string terminated(text);
  std::uint8_t expected[4] = {};
  const bool taken = inet_pton(AF_INET, terminated.c_str(), expected) == 1;
  const auto got = orc::parse_ip(text);
  check(got.has_value() == taken, "parse_ip and inet_pton disagree on '" + terminated + "'");
  if (got) {
    check(std::memcmp(got->bytes.data(), expected, 4) == 0,
          "parse_ip reads other bytes than inet_pton from '" + terminated + "'");
  }
}

void check_raw_bytes(const std::uint8_t* data, std::size_t size) {
  for (const auto family : {orc::IpAddress::Family::kV4, orc::IpAddress::Family::kV6}) {
    orc::IpAddress ip;
    ip.family = family;
    if (size < ip.size()) continue;
    std::memcpy(ip.bytes.data(), data, ip.size());
    const std::string text = orc::to_string(ip);
    check(orc::parse_ip(text).has_value(), "to_string writes what parse_ip rejects: " + text);
    check_address_text(text);
  }
}

// In ::ffff:0:0/96: an IPv4 address written as IPv6, which range checks may take as IPv4.
bool in_mapped_range(const orc::IpAddress& ip) {
  if (ip.family != orc::IpAddress::Family::kV6) return false;
  for (int i = 0; i < 10; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[10] == 0xff && ip.bytes[11] == 0xff;
}

void check_cidr(std::string_view text) {
  const auto cidr = orc::parse_cidr(text);
  if (!cidr) return;
  const std::string written = orc::to_string(*cidr);
  const int bits = static_cast<int>(cidr->network.size()) * 8;
  check(cidr->prefix_len >= 0 && cidr->prefix_len <= bits, "prefix out of range: " + written);
  check(cidr->contains(cidr->network), "CIDR does not contain its network address: " + written);
  check(orc::parse_cidr(written) == cidr, "CIDR does not read back: " + written);

  orc::IpAddress last = cidr->network;  // every host bit set
  for (int bit = cidr->prefix_len; bit < bits; ++bit) {
    last.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  }
  // A wider IPv6 range (::/80) may end in ::ffff:0:0/96 without taking in IPv4 origins.
  if (!in_mapped_range(last) || in_mapped_range(cidr->network)) {
    check(cidr->contains(last), "CIDR does not contain its last address: " + written);
  }
  if (cidr->prefix_len > 0) {
    orc::IpAddress outside = cidr->network;  // the last prefix bit flipped
    const int bit = cidr->prefix_len - 1;
    outside.bytes[bit / 8] ^= static_cast<std::uint8_t>(0x80u >> (bit % 8));
    check(!cidr->contains(outside), "CIDR contains an address outside it: " + written);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_address_text(text);
  check_like_inet_pton(text);
  check_cidr(text);
  check_raw_bytes(data, size);
  return 0;
}
