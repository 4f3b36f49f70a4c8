#include "ip.h"

#include <gtest/gtest.h>

namespace orc {
namespace {

struct CanonicalCase {
  const char* input;
  const char* canonical;  // nullptr: not an address
};

class CanonicalizeIp : public ::testing::TestWithParam<CanonicalCase> {};

TEST_P(CanonicalizeIp, MatchesRfc5952) {
  const auto& c = GetParam();
  const auto got = canonicalize_ip(c.input);
  if (c.canonical == nullptr) {
    EXPECT_FALSE(got.has_value()) << c.input << " -> " << got.value_or("");
  } else {
    ASSERT_TRUE(got.has_value()) << c.input;
    EXPECT_EQ(*got, c.canonical);
  }
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
                      CanonicalCase{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
                      CanonicalCase{"", nullptr}, CanonicalCase{"192.0.2", nullptr},
                      CanonicalCase{"192.0.2.256", nullptr}, CanonicalCase{" 192.0.2.1", nullptr},
                      CanonicalCase{"192.0.2.1 ", nullptr}, CanonicalCase{"192.0.2.1/32", nullptr},
                      CanonicalCase{"fe80::1%eth0", nullptr},
                      CanonicalCase{"[2001:db8::1]", nullptr},
                      CanonicalCase{"2001:db8:::1", nullptr}, CanonicalCase{"example.com", nullptr},
                      CanonicalCase{"1:2:3:4:5:6:7:8:9", nullptr}));

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
  EXPECT_FALSE(net.contains(*parse_ip("::ffff:192.0.2.1")));  // other family

  const auto v6 = *parse_cidr("2001:db8::/33");
  EXPECT_TRUE(v6.contains(*parse_ip("2001:db8:7fff::1")));
  EXPECT_FALSE(v6.contains(*parse_ip("2001:db8:8000::1")));

  const auto all = *parse_cidr("0.0.0.0/0");
  EXPECT_TRUE(all.contains(*parse_ip("203.0.113.9")));
  EXPECT_FALSE(all.contains(*parse_ip("::1")));
}

}  // namespace
}  // namespace orc
