// The libcurl client's rules that do not need a network: which requests may use a proxy, and
// the answer size limit's configuration key.
#include "net/curl_http.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace orc {
namespace {

TEST(ProxyRule, PlainHttpNeverUsesAProxy) {
  EXPECT_TRUE(proxy_rule("http://127.0.0.1:8080/client/v4", nullptr).no_proxy_at_all);
  EXPECT_TRUE(proxy_rule("HTTP://localhost/x", nullptr).no_proxy_at_all);
  EXPECT_FALSE(proxy_rule("https://api.cloudflare.com/client/v4", nullptr).no_proxy_at_all);
}

TEST(ProxyRule, LoopbackBypassesTheProxyAndNoProxyIsKept) {
  EXPECT_EQ(proxy_rule("https://api.cloudflare.com", nullptr).no_proxy,
            "127.0.0.0/8,::1,localhost");
  EXPECT_EQ(proxy_rule("https://api.cloudflare.com", "").no_proxy, "127.0.0.0/8,::1,localhost");
  EXPECT_EQ(proxy_rule("https://api.cloudflare.com", ".internal,10.0.0.0/8").no_proxy,
            "127.0.0.0/8,::1,localhost,.internal,10.0.0.0/8");
}

TEST(MaxResponseBytes, DefaultsToEightMiBAndIsBounded) {
  EXPECT_EQ(parse_config("{}", "/etc/c.yaml").cloudflare.max_response_bytes, 8u * 1024 * 1024);
  EXPECT_EQ(parse_config("cloudflare: {max_response_bytes: 65536}", "/etc/c.yaml")
                .cloudflare.max_response_bytes,
            65536u);
  for (const char* bad :
       {"cloudflare: {max_response_bytes: 65535}", "cloudflare: {max_response_bytes: 1073741825}",
        "cloudflare: {max_response_bytes: 8MiB}"}) {
    try {
      (void)parse_config(bad, "/etc/c.yaml");
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("cloudflare.max_response_bytes"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace orc
