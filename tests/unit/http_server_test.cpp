// The status server's HTTP mapping, over loopback: /healthz follows the health answer,
// /metrics serves the serializer's text.
#include "http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

namespace orc {
namespace {

TEST(StatusServer, HealthzFollowsTheHealthAnswerAndMetricsServeText) {
  std::atomic<bool> healthy{true};
  StatusServer server([] { return std::string("origin_reconciler_build_info 1\n"); },
                      [&] {
                        return HealthAnswer{healthy.load(), R"({"status":"x"})"};
                      });
  const int port = server.start("127.0.0.1", 0);
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);

  auto ok = client.Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, R"({"status":"x"})");

  healthy = false;
  auto stalled = client.Get("/healthz");
  ASSERT_TRUE(stalled);
  EXPECT_EQ(stalled->status, 503);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "origin_reconciler_build_info 1\n");
  EXPECT_NE(metrics->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);

  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  server.stop();
}

TEST(StatusServer, ABusyPortIsAClearError) {
  StatusServer first([] { return std::string(); }, [] { return HealthAnswer{true, "{}"}; });
  const int port = first.start("127.0.0.1", 0);
  StatusServer second([] { return std::string(); }, [] { return HealthAnswer{true, "{}"}; });
  try {
    second.start("127.0.0.1", port);
    FAIL() << "second bind succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace orc
