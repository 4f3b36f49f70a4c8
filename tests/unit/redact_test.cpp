// The one redaction point: secrets replaced, control characters and bad UTF-8 escaped,
// messages capped; and the log formatters (text and JSON) applying it to every line.
#include "base/redact.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "cloudflare/api_parse.h"
#include "service/logging.h"
#include "service/plan_report.h"

namespace orc {
namespace {

const std::vector<std::string> kSecrets = {"tok-SECRET-123", "key-abc", "ops@example.com"};

TEST(Redact, ReplacesEverySecretWherever) {
  EXPECT_EQ(redact_with("Authorization: Bearer tok-SECRET-123", kSecrets, 512),
            "Authorization: Bearer [redacted]");
  EXPECT_EQ(redact_with("tok-SECRET-123tok-SECRET-123 key-abc/ops@example.com", kSecrets, 512),
            "[redacted][redacted] [redacted]/[redacted]");
  EXPECT_EQ(redact_with("nothing here", kSecrets, 512), "nothing here");
}

TEST(Redact, EmptySecretsAreIgnored) {
  EXPECT_EQ(redact_with("abc", {"", "b"}, 512), "a[redacted]c");
}

TEST(Redact, EscapesControlCharactersSoNoLineIsForged) {
  EXPECT_EQ(redact_with("bad\n2026-01-01T00:00:00Z info  fake\r\t\x7f", {}, 512),
            "bad\\x0a2026-01-01T00:00:00Z info  fake\\x0d\\x09\\x7f");
}

TEST(Redact, KeepsValidUtf8AndEscapesInvalidBytes) {
  EXPECT_EQ(redact_with("caf\xc3\xa9 \xe2\x82\xac", {}, 512), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(redact_with("a\xff"
                        "b\xc3",
                        {}, 512),
            "a\\xffb\\xc3");
  EXPECT_EQ(redact_with("\xed\xa0\x80", {}, 512), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(redact_with("\xc0\xaf", {}, 512), "\\xc0\\xaf");           // overlong '/'
}

TEST(Redact, CapsWithAMarkerAndNeverSplitsAnEscapeOrACharacter) {
  const std::string big(20 * 1024 * 1024, 'x');
  const std::string out = redact_with(big, kSecrets, 512);
  EXPECT_EQ(out,
            std::string(512, 'x') + "...[" + std::to_string(big.size() - 512) + " more bytes]");
  EXPECT_EQ(redact_with("ab\ncd", {}, 4), "ab...[3 more bytes]");  // not "ab\x"
  EXPECT_EQ(redact_with("a\xc3\xa9z", {}, 2), "a...[3 more bytes]");
  EXPECT_EQ(redact_with("abcd", {}, 4), "abcd");
}

TEST(Redact, ASecretAcrossTheCutIsReplacedBeforeCutting) {
  const std::string text = std::string(500, '.') + "tok-SECRET-123";
  const std::string out = redact_with(text, kSecrets, 505);
  EXPECT_EQ(out.find("tok-"), std::string::npos) << out;
  EXPECT_EQ(out, std::string(500, '.') + "[reda...[5 more bytes]");
}

class WithSecrets : public ::testing::Test {
 protected:
  void SetUp() override { set_redacted_secrets(kSecrets); }
  void TearDown() override { set_redacted_secrets({}); }
};

std::string log_through(LogFormat format, const std::string& message) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  spdlog::logger logger("capture", sink);
  logger.set_formatter(make_log_formatter(format));
  logger.warn("zone z: {}", message);
  logger.flush();
  return captured.str();
}

TEST_F(WithSecrets, BothLogFormatsRedactEscapeAndCapEveryLine) {
  const std::string hostile =
      "Invalid header: Authorization: Bearer tok-SECRET-123\n"
      "2026-01-01T00:00:00.000Z info  forged line" +
      std::string(2 * 1024 * 1024, 'y');
  for (const auto format : {LogFormat::kText, LogFormat::kJson}) {
    const std::string line = log_through(format, hostile);
    EXPECT_EQ(line.find("tok-SECRET-123"), std::string::npos);
    // JSON escapes the backslash of the escape once more.
    const char* escaped =
        format == LogFormat::kText ? "Bearer [redacted]\\x0a2026" : "Bearer [redacted]\\\\x0a2026";
    EXPECT_NE(line.find(escaped), std::string::npos) << line.substr(0, 200);
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
    EXPECT_LT(line.size(), kLogLineCap + 200);
    EXPECT_NE(line.find("more bytes]"), std::string::npos);
  }
  const std::string json = log_through(LogFormat::kJson, "x");
  EXPECT_TRUE(nlohmann::json::parse(json, nullptr, false).is_object()) << json;
}

TEST_F(WithSecrets, ApiErrorsAreRedactedAndCappedAtTheSource) {
  HttpResponse response;
  response.status = 400;
  response.body = R"({"success":false,"errors":[{"code":6003,"message":"Invalid header: )"
                  R"(Authorization: Bearer tok-SECRET-123\nnext)" +
                  std::string(100000, 'z') + R"("}]})";
  const ApiError err = classify_failure(response, parse_envelope(response.body));
  EXPECT_EQ(err.message.find("tok-SECRET-123"), std::string::npos);
  EXPECT_NE(err.message.find("Bearer [redacted]\\x0anext"), std::string::npos) << err.message;
  EXPECT_LE(err.message.size(), kMessageCap + 40);

  HttpResponse not_json;
  not_json.status = 502;
  not_json.body = "<html>" + std::string(110, ' ') + "key-abc</html>";  // secret at the cut
  const ApiError bad = classify_failure(not_json, std::nullopt);
  EXPECT_EQ(bad.message.find("key"), std::string::npos) << bad.message;

  HttpResponse transport;
  transport.transport_error = "proxy said ops@example.com\r\n";
  EXPECT_EQ(classify_failure(transport, std::nullopt).message, "proxy said [redacted]\\x0d\\x0a");

  const auto batch = parse_batch_result(
      nlohmann::json::parse(R"({"succeeded":[],"failed":[{"origin-ip":"192.0.2.1",)"
                            R"("error":"echo tok-SECRET-123\nforged"},{"origin-ip":"192.0.2.2",)"
                            R"("error":{"code":1141,"message":"echo tok-SECRET-123\nforged"}}]})"),
      "origin-ip", Operation::kBatchDelete);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->items.at(0).outcome.refusal.message, "echo [redacted]\\x0aforged");
  EXPECT_EQ(batch->items.at(1).outcome.refusal.describe(), "[1141] echo [redacted]\\x0aforged");
}

TEST_F(WithSecrets, TheOnceReportNeverShowsASecretOrARawNewline) {
  CycleReport cycle;
  ZoneReport z;
  z.zone_id = "023e105f4ecef8ad9ca31a8372d0c353";
  z.outcome = ZoneOutcome::kFailure;
  z.error = "listing mappings: HTTP 400: Bearer tok-SECRET-123\nforged";
  z.applied.delete_failed.push_back({"192.0.2.1\nzone x: success", {0, "key-abc said no"}});
  cycle.zones.push_back(z);
  const std::string report = format_plan_report(cycle, false);
  EXPECT_EQ(report.find("tok-SECRET-123"), std::string::npos) << report;
  EXPECT_EQ(report.find("key-abc"), std::string::npos) << report;
  EXPECT_NE(report.find("Bearer [redacted]\\x0aforged"), std::string::npos) << report;
  EXPECT_NE(report.find("not deleted 192.0.2.1\\x0azone x: success: [redacted] said no"),
            std::string::npos)
      << report;
}

TEST(AddedSecrets, AreRedactedKeptForRotationAndSafeWhileOthersLog) {
  set_redacted_secrets({"fixed-secret-1"});
  add_redacted_secret("short");  // too short to mask everywhere
  EXPECT_EQ(redact("short"), "short");
  for (int i = 0; i < 10; ++i) add_redacted_secret("rotated-token-" + std::to_string(i));
  add_redacted_secret("rotated-token-9");  // again: kept once
  EXPECT_EQ(redact("fixed-secret-1 rotated-token-9 rotated-token-2"),
            "[redacted] [redacted] [redacted]");
  // The last eight are kept; the start-up ones always.
  EXPECT_EQ(redact("rotated-token-1"), "rotated-token-1");
  std::atomic<bool> stop{false};
  std::thread logger([&] {
    while (!stop) EXPECT_EQ(redact("a fixed-secret-1 b"), "a [redacted] b");
  });
  for (int i = 100; i < 400; ++i) add_redacted_secret("rotated-token-" + std::to_string(i));
  stop = true;
  logger.join();
  EXPECT_EQ(redact("rotated-token-399"), "[redacted]");
  EXPECT_EQ(redact("rotated-token-9"), "rotated-token-9");  // rotated out long ago
  set_redacted_secrets({});
  EXPECT_EQ(redact("rotated-token-399"), "rotated-token-399");
}

}  // namespace
}  // namespace orc
