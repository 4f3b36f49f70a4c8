// The compact list of a zone's desired origins (model/origin_list.h): the values read back are
// the values written, in order, whatever the storage underneath.
#include "model/origin_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace orc {
namespace {

DesiredOrigin origin(const std::string& ip, Label vendor = {}, Label region = {}) {
  return {*parse_origin_key(ip), vendor, region};
}

std::vector<DesiredOrigin> values(const OriginList& list) {
  return {list.begin(), list.end()};
}

TEST(OriginList, IPv4OriginsOfOneRegionTakeFourBytesEach) {
  OriginList list;
  std::vector<DesiredOrigin> want;
  for (int i = 0; i < 3150; ++i) {
    want.push_back(origin("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), "aws",
                          "us-east-1"));
    list.push_back(want.back());
  }
  EXPECT_EQ(values(list), want);
  EXPECT_EQ(list.size(), 3150u);
  OriginList exact = list;  // a copy is allocated at its size
  EXPECT_LE(exact.heap_bytes(), 3150u * 4 + 64);
  EXPECT_EQ(to_string(exact[3149].ip), "10.0.12.77");
  EXPECT_EQ(exact[3149].region, "us-east-1");
}

TEST(OriginList, AnIPv6OriginWidensTheListAndKeepsTheOrder) {
  OriginList list{origin("192.0.2.1"), origin("::ffff:192.0.2.2"), origin("2001:db8::1"),
                  origin("198.51.100.7")};
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(to_string(list[0].ip), "192.0.2.1");
  EXPECT_EQ(to_string(list[1].ip), "192.0.2.2");  // folded, as origin keys are
  EXPECT_EQ(to_string(list[2].ip), "2001:db8::1");
  EXPECT_EQ(to_string(list[3].ip), "198.51.100.7");
  EXPECT_GE(list.heap_bytes(), 4 * sizeof(OriginKey));
  list.pop_back();
  list.pop_back();
  EXPECT_EQ(values(list), (std::vector<DesiredOrigin>{origin("192.0.2.1"), origin("192.0.2.2")}));
}

TEST(OriginList, EachOriginKeepsItsOwnVendorAndRegion) {
  OriginList list;
  std::vector<DesiredOrigin> want;
  // One pair, then a second (the earlier origins keep the first), then more pairs than are
  // looked up one by one, and pairs seen before.
  for (int i = 0; i < 100; ++i) {
    const std::string ip = "10.1.0." + std::to_string(i);
    if (i < 10) {
      want.push_back(origin(ip, "aws", "us-east-1"));
    } else if (i < 20) {
      want.push_back(origin(ip));
    } else {
      want.push_back(origin(ip, i % 2 ? "gcp" : "azure", "region-" + std::to_string(i % 40)));
    }
    list.push_back(want.back());
  }
  EXPECT_EQ(values(list), want);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(list[i], want[i]) << i;
}

TEST(OriginList, SetChangesOneOriginAndEqualityComparesValues) {
  OriginList a{origin("10.0.0.1", "aws", "us-east-1"), origin("10.0.0.2", "aws", "us-east-1")};
  OriginList b = a;
  EXPECT_EQ(a, b);
  b.set(1, origin("10.0.0.2", "aws", "eu-west-1"));
  EXPECT_FALSE(a == b);
  EXPECT_EQ(b[0], a[0]);
  EXPECT_EQ(b[1].region, "eu-west-1");
  b.set(1, origin("2001:db8::2", "aws", "us-east-1"));
  EXPECT_EQ(to_string(b[1].ip), "2001:db8::2");
  EXPECT_EQ(b[0], a[0]);
}

TEST(OriginList, ClearEmptiesEverything) {
  OriginList list{origin("2001:db8::1", "gcp", "us-central1"), origin("10.0.0.1")};
  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.begin(), list.end());
  list.push_back(origin("10.0.0.9", "oci", "us-ashburn-1"));
  EXPECT_EQ(values(list), (std::vector<DesiredOrigin>{origin("10.0.0.9", "oci", "us-ashburn-1")}));
  EXPECT_EQ(list, (OriginList{origin("10.0.0.9", "oci", "us-ashburn-1")}));
}

}  // namespace
}  // namespace orc
