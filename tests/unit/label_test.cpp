#include "model/label.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model/desired_state.h"

namespace orc {
namespace {

TEST(Label, ReadsLikeAnOptionalString) {
  const Label none;
  EXPECT_FALSE(none);
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(none, std::nullopt);
  EXPECT_THROW((void)none.value(), std::bad_optional_access);

  const Label aws = "aws";
  EXPECT_TRUE(aws);
  EXPECT_EQ(*aws, "aws");
  EXPECT_EQ(aws->size(), 3u);
  EXPECT_EQ(aws, "aws");
  EXPECT_EQ(aws, std::string("aws"));
  EXPECT_EQ(aws, std::optional<std::string>("aws"));
  EXPECT_NE(aws, std::optional<std::string>());
  EXPECT_NE(aws, "gcp");
  EXPECT_EQ(Label(std::optional<std::string>()), none);
}

TEST(Label, OneCopyOfEachText) {
  const std::string built = std::string("us-") + "east-1";
  const Label a = "us-east-1";
  const Label b = built;
  EXPECT_EQ(&*a, &*b);
  EXPECT_EQ(a, b);
  EXPECT_NE(&*a, &*Label("us-east-2"));
}

TEST(Label, OrdersByTextWithNoneFirst) {
  const std::set<Label> sorted = {"gcp", Label(), "aws", "azure"};
  std::vector<std::string> order;
  for (const Label& l : sorted) order.push_back(l ? *l : "-");
  EXPECT_EQ(order, (std::vector<std::string>{"-", "aws", "azure", "gcp"}));
}

TEST(Label, ThreadsShareTheirCopies) {
  std::vector<const std::string*> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] {
      for (int n = 0; n < 1000; ++n) seen[i] = &*Label("region-" + std::to_string(n % 50));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto* p : seen) EXPECT_EQ(p, seen[0]);
}

// Past the first chunk of the table: every text keeps its number and its one copy.
TEST(Label, ThousandsOfTextsKeepTheirCopies) {
  std::vector<Label> labels;
  std::vector<const std::string*> copies;
  for (int n = 0; n < 10000; ++n) {
    labels.emplace_back("many-" + std::to_string(n));
    copies.push_back(&*labels.back());
  }
  for (int n = 0; n < 10000; ++n) {
    const Label again("many-" + std::to_string(n));
    EXPECT_EQ(again, labels[static_cast<std::size_t>(n)]);
    EXPECT_EQ(&*again, copies[static_cast<std::size_t>(n)]);
    ASSERT_EQ(*again, "many-" + std::to_string(n));
  }
  EXPECT_NE(labels[0], labels[9999]);
}

// What the desired state costs per origin (3.5 million at 1,000 full zones).
TEST(Label, KeepsADesiredOriginAt24Bytes) {
  EXPECT_EQ(sizeof(Label), 4u);
  EXPECT_EQ(sizeof(DesiredOrigin), 24u);
}

}  // namespace
}  // namespace orc
