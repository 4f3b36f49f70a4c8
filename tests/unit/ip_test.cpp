#include "model/ip.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace orc {
namespace {

struct CanonicalCase {
  const char* input;
  const char* canonical;  // nullptr: not an address
};

void PrintTo(const CanonicalCase& c, std::ostream* os) {
  *os << '\'' << c.input << '\'';
}

// `got` is what the case expects: no value for a non-address, else exactly the canonical text.
::testing::AssertionResult is_expected(const CanonicalCase& c,
                                       const std::optional<std::string>& got) {
  if (c.canonical == nullptr && got) {
    return ::testing::AssertionFailure() << c.input << " -> " << *got << " (not an address)";
  }
  if (c.canonical != nullptr && !got) {
    return ::testing::AssertionFailure() << c.input << " was not read as an address";
  }
  if (got && *got != c.canonical) {
    return ::testing::AssertionFailure() << c.input << " -> " << *got << ", not " << c.canonical;
  }
  return ::testing::AssertionSuccess();
}

class CanonicalizeIp : public ::testing::TestWithParam<CanonicalCase> {};

TEST_P(CanonicalizeIp, MatchesRfc5952) {
  const auto& c = GetParam();
  EXPECT_TRUE(is_expected(c, canonicalize_ip(c.input)));
}

INSTANTIATE_TEST_SUITE_P(
    Table, CanonicalizeIp,
    ::testing::Values(CanonicalCase{"192.0.2.1", "192.0.2.1"}, CanonicalCase{"0.0.0.0", "0.0.0.0"},
                      CanonicalCase{"255.255.255.255", "255.255.255.255"},
                      CanonicalCase{"2001:DB8:0:0::1", "2001:db8::1"},
                      CanonicalCase{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
                      // The longest zero run is compressed; the first of equal runs wins.
                      CanonicalCase{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
                      CanonicalCase{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
                      // A single zero group is not compressed.
                      CanonicalCase{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
                      CanonicalCase{"::", "::"}, CanonicalCase{"::1", "::1"},
                      // RFC 5952 text keeps the family; origins fold (below).
                      CanonicalCase{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
                      CanonicalCase{"", nullptr}, CanonicalCase{"192.0.2", nullptr},
                      CanonicalCase{"192.0.2.256", nullptr}, CanonicalCase{" 192.0.2.1", nullptr},
                      CanonicalCase{"192.0.2.1 ", nullptr}, CanonicalCase{"192.0.2.1/32", nullptr},
                      CanonicalCase{"fe80::1%eth0", nullptr},
                      CanonicalCase{"[2001:db8::1]", nullptr},
                      CanonicalCase{"2001:db8:::1", nullptr}, CanonicalCase{"example.com", nullptr},
                      CanonicalCase{"1:2:3:4:5:6:7:8:9", nullptr},
                      // IPv4 has one spelling: no leading zeros (octal to some readers).
                      CanonicalCase{"010.0.0.1", nullptr}, CanonicalCase{"192.0.2.01", nullptr},
                      CanonicalCase{"192.0.02.1", nullptr}));

class CanonicalOriginIp : public ::testing::TestWithParam<CanonicalCase> {};

TEST_P(CanonicalOriginIp, FoldsIpv4MappedIpv6InAnySpelling) {
  const auto& c = GetParam();
  const auto got = canonical_origin_ip(c.input);
  EXPECT_TRUE(is_expected(c, got));
  // The folded form is its own canonical form.
  if (got) {
    EXPECT_EQ(canonical_origin_ip(*got), *got);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CanonicalOriginIp,
    ::testing::Values(
        // ::ffff:0:0/96, however written, is the IPv4 address it maps.
        CanonicalCase{"::ffff:10.0.0.1", "10.0.0.1"}, CanonicalCase{"::FFFF:10.0.0.1", "10.0.0.1"},
        CanonicalCase{"::ffff:a00:1", "10.0.0.1"}, CanonicalCase{"::ffff:0a00:0001", "10.0.0.1"},
        CanonicalCase{"0:0:0:0:0:ffff:a00:1", "10.0.0.1"},
        CanonicalCase{"0000:0000:0000:0000:0000:FFFF:0A00:0001", "10.0.0.1"},
        CanonicalCase{"0::ffff:10.0.0.1", "10.0.0.1"},
        CanonicalCase{"0:0:0:0:0:ffff:10.0.0.1", "10.0.0.1"},
        CanonicalCase{"::ffff:0.0.0.0", "0.0.0.0"},
        CanonicalCase{"::ffff:255.255.255.255", "255.255.255.255"},
        CanonicalCase{"10.0.0.1", "10.0.0.1"},
        // Neighbours of the mapped range stay IPv6.
        CanonicalCase{"::10.0.0.1", "::10.0.0.1"},             // IPv4-compatible (::/96)
        CanonicalCase{"::ffff:0:10.0.0.1", "::ffff:0:a00:1"},  // IPv4-translated
        CanonicalCase{"::fffe:10.0.0.1", "::fffe:a00:1"},
        CanonicalCase{"1::ffff:10.0.0.1", "1::ffff:a00:1"},
        CanonicalCase{"64:ff9b::10.0.0.1", "64:ff9b::a00:1"},  // NAT64
        CanonicalCase{"::ffff", "::ffff"}, CanonicalCase{"::", "::"},
        CanonicalCase{"2001:DB8::1", "2001:db8::1"},
        // Still not addresses.
        CanonicalCase{"::ffff:10.0.0.256", nullptr}, CanonicalCase{"::ffff:10.0.0", nullptr},
        CanonicalCase{"::ffff:10.0.0.1%eth0", nullptr}, CanonicalCase{"[::ffff:10.0.0.1]", nullptr},
        CanonicalCase{"", nullptr}, CanonicalCase{"../../user/tokens/verify", nullptr}));

TEST(Unmapped, OnlyTheMappedRangeChangesFamily) {
  EXPECT_TRUE(is_v4_mapped(*parse_ip("::ffff:10.0.0.1")));
  EXPECT_FALSE(is_v4_mapped(*parse_ip("10.0.0.1")));
  EXPECT_FALSE(is_v4_mapped(*parse_ip("::10.0.0.1")));
  EXPECT_FALSE(is_v4_mapped(*parse_ip("1::ffff:10.0.0.1")));
  EXPECT_EQ(unmapped(*parse_ip("::ffff:10.0.0.1")), *parse_ip("10.0.0.1"));
  EXPECT_EQ(unmapped(*parse_ip("2001:db8::1")), *parse_ip("2001:db8::1"));
  EXPECT_EQ(parse_origin_ip("::ffff:192.0.2.1"), parse_ip("192.0.2.1"));
  EXPECT_FALSE(parse_origin_ip("192.0.2").has_value());
}

TEST(UnmappedCidr, MappedRangesBecomeIpv4RangesAndWiderOnesStayIpv6) {
  struct Case {
    const char* input;
    const char* unmapped;
  };
  for (const auto& c : std::vector<Case>{
           {"::ffff:0:0/96", "0.0.0.0/0"},
           {"::ffff:0.0.0.0/96", "0.0.0.0/0"},
           {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
           {"::FFFF:192.0.2.0/120", "192.0.2.0/24"},
           {"::ffff:192.0.2.7/128", "192.0.2.7/32"},
           {"0:0:0:0:0:ffff:c000:200/127", "192.0.2.0/31"},
           // Wider than /96: it contains the mapped range but keeps meaning IPv6 only.
           {"::/0", "::/0"},
           {"::/80", "::/80"},
           {"::ffff:0:0/95", nullptr},  // host bits set: not a range at all
           {"::/95", "::/95"},
           {"::10.0.0.0/104", "::10.0.0.0/104"},  // IPv4-compatible, not mapped
           {"10.0.0.0/8", "10.0.0.0/8"},
           {"2001:db8::/32", "2001:db8::/32"}}) {
    const auto cidr = parse_cidr(c.input);
    if (c.unmapped == nullptr) {
      EXPECT_FALSE(cidr.has_value()) << c.input;
      continue;
    }
    ASSERT_TRUE(cidr.has_value()) << c.input;
    EXPECT_EQ(to_string(unmapped(*cidr)), c.unmapped) << c.input;
  }
}

TEST(ParseCidr, AcceptsNetworksAndRejectsHostBits) {
  const auto v4 = parse_cidr("192.0.2.0/24");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->prefix_len, 24);
  EXPECT_EQ(to_string(*v4), "192.0.2.0/24");

  const auto v6 = parse_cidr("2001:DB8::/32");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(to_string(*v6), "2001:db8::/32");

  EXPECT_TRUE(parse_cidr("0.0.0.0/0").has_value());
  EXPECT_TRUE(parse_cidr("::/0").has_value());
  EXPECT_TRUE(parse_cidr("192.0.2.7/32").has_value());

  EXPECT_FALSE(parse_cidr("192.0.2.1/24").has_value());  // host bits set
  EXPECT_FALSE(parse_cidr("192.0.2.0/33").has_value());
  EXPECT_FALSE(parse_cidr("2001:db8::/129").has_value());
  EXPECT_FALSE(parse_cidr("192.0.2.0/").has_value());
  EXPECT_FALSE(parse_cidr("192.0.2.0/-1").has_value());
  EXPECT_FALSE(parse_cidr("192.0.2.0/024").has_value());
  EXPECT_FALSE(parse_cidr("192.0.2.0/24x").has_value());
  EXPECT_FALSE(parse_cidr("192.0.2.0").has_value());
}

TEST(CidrContains, RespectsPrefixAndFamily) {
  const auto net = *parse_cidr("192.0.2.0/23");
  EXPECT_TRUE(net.contains(*parse_ip("192.0.2.0")));
  EXPECT_TRUE(net.contains(*parse_ip("192.0.3.255")));
  EXPECT_FALSE(net.contains(*parse_ip("192.0.4.0")));
  EXPECT_FALSE(net.contains(*parse_ip("192.0.1.255")));
  // A mapped address is the IPv4 address it maps.
  EXPECT_TRUE(net.contains(*parse_ip("::ffff:192.0.2.1")));
  EXPECT_TRUE(net.contains(*parse_ip("0:0:0:0:0:ffff:c000:3ff")));  // 192.0.3.255
  EXPECT_FALSE(net.contains(*parse_ip("::ffff:192.0.4.0")));
  EXPECT_FALSE(net.contains(*parse_ip("::192.0.2.1")));  // IPv4-compatible is IPv6

  const auto v6 = *parse_cidr("2001:db8::/33");
  EXPECT_TRUE(v6.contains(*parse_ip("2001:db8:7fff::1")));
  EXPECT_FALSE(v6.contains(*parse_ip("2001:db8:8000::1")));

  const auto all = *parse_cidr("0.0.0.0/0");
  EXPECT_TRUE(all.contains(*parse_ip("203.0.113.9")));
  EXPECT_TRUE(all.contains(*parse_ip("::ffff:203.0.113.9")));
  EXPECT_FALSE(all.contains(*parse_ip("::1")));

  // A mapped range, folded or not, holds IPv4 addresses in both spellings.
  const auto mapped = *parse_cidr("::ffff:192.0.2.0/120");
  EXPECT_TRUE(mapped.contains(*parse_ip("192.0.2.200")));
  EXPECT_TRUE(mapped.contains(*parse_ip("::ffff:192.0.2.200")));
  EXPECT_FALSE(mapped.contains(*parse_ip("192.0.3.1")));
  EXPECT_TRUE(unmapped(mapped).contains(*parse_ip("::ffff:192.0.2.200")));

  // Every IPv6 range wider than the mapped one holds no IPv4 address in either spelling.
  const auto every_v6 = *parse_cidr("::/0");
  EXPECT_TRUE(every_v6.contains(*parse_ip("2001:db8::1")));
  EXPECT_FALSE(every_v6.contains(*parse_ip("10.0.0.1")));
  EXPECT_FALSE(every_v6.contains(*parse_ip("::ffff:10.0.0.1")));
}

// parse_cidr's reading without the host-bit rule: what a message suggests instead.
TEST(ParsePrefix, KeepsHostBitsAndNamesTheNetwork) {
  const auto p = parse_prefix("192.0.2.1/24");
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(is_network(*p));
  EXPECT_EQ(to_string(network_of(*p)), "192.0.2.0/24");
  const auto v6 = parse_prefix("2001:DB8::1/32");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(to_string(network_of(*v6)), "2001:db8::/32");
  EXPECT_EQ(to_string(network_of(*parse_prefix("10.255.255.255/9"))), "10.128.0.0/9");
  EXPECT_TRUE(is_network(*parse_prefix("192.0.2.0/24")));
  EXPECT_TRUE(is_network(*parse_prefix("192.0.2.7/32")));
  // Everything else parse_cidr rejects, parse_prefix rejects too.
  for (const char* bad : {"192.0.2.0/33", "192.0.2.0/024", "192.0.2.0/", "192.0.2.0", "x/8",
                          "2001:db8::/129", "192.0.2.0/-1"}) {
    EXPECT_FALSE(parse_prefix(bad).has_value()) << bad;
  }
}

// Every octet value in every position formats as inet_ntop does.
TEST(IpToString, Ipv4MatchesInetNtop) {
  for (unsigned v = 0; v < 256; ++v) {
    for (std::size_t pos = 0; pos < 4; ++pos) {
      IpAddress ip;
      ip.family = IpAddress::Family::kV4;
      ip.bytes = {};
      ip.bytes[0] = 10;
      ip.bytes[pos] = static_cast<std::uint8_t>(v);
      char expected[INET_ADDRSTRLEN];
      ASSERT_NE(inet_ntop(AF_INET, ip.bytes.data(), expected, sizeof(expected)), nullptr);
      EXPECT_EQ(to_string(ip), expected);
    }
  }
}

// IPv4 texts are read as inet_pton(AF_INET) reads them, text for text: texts built from the
// pieces a dotted quad is made of and the usual mistakes (leading zeros, signs, spaces, too
// many digits or parts), each taken or refused alike, to the same bytes.
TEST(ParseIp, Ipv4TakesExactlyWhatInetPtonTakes) {
  const std::vector<std::string> pieces = {"0",   "1",   "9",   "00",  "01",  "10",   "99",   "100",
                                           "199", "255", "256", "300", "999", "0255", "1000", "",
                                           " 1",  "1 ",  "+1",  "-1",  "0x1", "1e2",  "\t1",  "a"};
  const std::vector<std::string> dots = {".", "..", ",", ""};
  int compared = 0;
  auto check = [&](const std::string& text) {
    std::uint8_t expected[4] = {};
    const bool taken = inet_pton(AF_INET, text.c_str(), expected) == 1;
    const auto got = parse_ip(text);
    ASSERT_EQ(got.has_value(), taken) << "'" << text << "'";
    if (taken) {
      EXPECT_EQ(got->family, IpAddress::Family::kV4) << text;
      EXPECT_EQ(0, std::memcmp(got->bytes.data(), expected, 4)) << text;
    }
    ++compared;
  };
  for (const auto& a : pieces) {
    for (const auto& b : {std::string("0"), std::string("255"), std::string("01")}) {
      for (const auto& dot : dots) {
        check(a + dot + b + dot + "2" + dot + "3");
        check("10" + dot + a + dot + b + dot + "3");
        check("10.0.0" + dot + a);
      }
    }
    check(a);
    check(a + ".1.2");
    check("1.2.3." + a + ".4");
    check("1.2.3.4" + a);
    check("1.2.3.4." + a);
  }
  // Every octet value, and the first values past it, in every position.
  for (unsigned v = 0; v < 300; ++v) {
    for (int pos = 0; pos < 4; ++pos) {
      std::string octets[4] = {"10", "0", "0", "1"};
      octets[pos] = std::to_string(v);
      check(octets[0] + "." + octets[1] + "." + octets[2] + "." + octets[3]);
    }
  }
  EXPECT_GT(compared, 2000);
}

TEST(OriginKey, FoldsIpv4IntoTheMappedRangeAndBackAsTheCanonicalOrigin) {
  const auto v4 = parse_origin_key("10.0.0.1");
  const auto mapped = parse_origin_key("::ffff:10.0.0.1");
  const auto mapped_long = parse_origin_key("0:0:0:0:0:FFFF:0A00:0001");
  ASSERT_TRUE(v4 && mapped && mapped_long);
  EXPECT_EQ(*v4, *mapped);
  EXPECT_EQ(*v4, *mapped_long);
  EXPECT_EQ(to_string(origin_address(*v4)), "10.0.0.1");
  EXPECT_EQ(origin_address(*v4).family, IpAddress::Family::kV4);

  const auto v6 = parse_origin_key("2001:DB8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(to_string(origin_address(*v6)), "2001:db8::1");
  EXPECT_NE(*v6, *v4);
  // ::10.0.0.1 (IPv4-compatible, deprecated) is an IPv6 address, not 10.0.0.1.
  EXPECT_NE(*parse_origin_key("::10.0.0.1"), *v4);
  EXPECT_FALSE(parse_origin_key("10.0.0.256"));
  EXPECT_FALSE(parse_origin_key(""));
}

TEST(OriginKey, OrdersAsItsBytesAndHashesEqualKeysAlike) {
  // Bytewise: every IPv6 address below ::ffff:0:0 sorts before the IPv4 origins, which sort by
  // address, and 2001:db8:: after them; the halves are compared as numbers, not as memory.
  const std::vector<std::string> sorted = {
      "::1",         "::fffe:ffff:ffff", "0.0.0.0",    "10.0.0.1",    "10.0.0.2",      "10.0.1.0",
      "192.0.2.255", "255.255.255.255",  "2001:db8::", "2001:db8::1", "2001:db8:0:1::"};
  for (std::size_t i = 0; i + 1 < sorted.size(); ++i) {
    const auto a = parse_origin_key(sorted[i]);
    const auto b = parse_origin_key(sorted[i + 1]);
    ASSERT_TRUE(a && b) << sorted[i];
    EXPECT_LT(*a, *b) << sorted[i] << " < " << sorted[i + 1];
    EXPECT_EQ(*a <=> *b, a->bytes <=> b->bytes) << sorted[i];
  }
  const OriginKeyHash hash;
  EXPECT_EQ(hash(*parse_origin_key("::ffff:10.0.0.1")), hash(*parse_origin_key("10.0.0.1")));
  EXPECT_NE(hash(*parse_origin_key("10.0.0.1")), hash(*parse_origin_key("10.0.0.2")));
  // The spelling's hash keeps the family: 10.0.0.1 and ::ffff:10.0.0.1 are two spellings.
  const IpAddressHash spelling;
  EXPECT_NE(spelling(*parse_ip("10.0.0.1")), spelling(*parse_ip("::ffff:10.0.0.1")));
  EXPECT_EQ(spelling(*parse_ip("2001:DB8::1")), spelling(*parse_ip("2001:db8::1")));
}

}  // namespace
}  // namespace orc
