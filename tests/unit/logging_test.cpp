// The log as journald sees it: each level's priority, whether standard error is the journal
// stream, the format chosen from log.format, the journal's fields (ZONE=, OPERATION=), and the
// "<N>" prefix of text and JSON lines written to the journal stream.
#include "service/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/log_fields.h"
#include "base/redact.h"

namespace orc {
namespace {

TEST(JournalPriority, EachLevelHasItsSyslogPriority) {
  struct Case {
    spdlog::level::level_enum level;
    int priority;
  };
  for (const auto& c : {Case{spdlog::level::trace, 7}, Case{spdlog::level::debug, 7},
                        Case{spdlog::level::info, 6}, Case{spdlog::level::warn, 4},
                        Case{spdlog::level::err, 3}, Case{spdlog::level::critical, 2}}) {
    EXPECT_EQ(journal_priority(c.level), c.priority) << static_cast<int>(c.level);
  }
}

TEST(JournalStream, MatchesOnlyTheDeviceAndInodeItNames) {
  struct Case {
    std::optional<std::string_view> env;
    bool journal;
  };
  // fstat() of the stream gave device 8, inode 12345.
  for (const auto& c :
       {Case{"8:12345", true}, Case{std::nullopt, false}, Case{"", false}, Case{"9:12345", false},
        Case{"8:12346", false}, Case{"8:", false}, Case{":12345", false}, Case{"8:12345x", false},
        Case{"8 :12345", false}, Case{"8:12345:1", false}, Case{"-8:12345", false},
        Case{"12345", false}, Case{"0x8:12345", false}, Case{"8:99999999999999999999999", false}}) {
    EXPECT_EQ(is_journal_stream(c.env, 8, 12345), c.journal)
        << (c.env ? std::string(*c.env) : "unset");
  }
  // Device numbers are 64-bit (makedev of a large major).
  EXPECT_TRUE(is_journal_stream("18446744073709551615:1", 18446744073709551615ULL, 1));
}

TEST(LogOutput, TheFormatFollowsTheSettingAndTheJournalStream) {
  using Kind = LogOutput::Kind;
  struct Case {
    LogFormat format;
    bool stderr_journal;
    Kind kind;
    bool prefix;
  };
  for (const auto& c : {
           Case{LogFormat::kAuto, false, Kind::kText, false},
           Case{LogFormat::kAuto, true, Kind::kJournal, false},
           Case{LogFormat::kText, false, Kind::kText, false},
           Case{LogFormat::kText, true, Kind::kText, true},
           Case{LogFormat::kJson, false, Kind::kJson, false},
           Case{LogFormat::kJson, true, Kind::kJson, true},
           Case{LogFormat::kJournal, false, Kind::kJournal, false},
           Case{LogFormat::kJournal, true, Kind::kJournal, false},
       }) {
    const LogOutput out = choose_log_output(c.format, c.stderr_journal);
    EXPECT_EQ(out.kind, c.kind) << enum_name(kLogFormatNames, c.format) << " " << c.stderr_journal;
    EXPECT_EQ(out.priority_prefix, c.prefix)
        << enum_name(kLogFormatNames, c.format) << " " << c.stderr_journal;
  }
  // No journal socket to send records to: text lines that still carry their priority.
  for (const auto format : {LogFormat::kAuto, LogFormat::kJournal}) {
    const LogOutput out = choose_log_output(format, true, false);
    EXPECT_EQ(out.kind, Kind::kText);
    EXPECT_TRUE(out.priority_prefix);
  }
  EXPECT_EQ(choose_log_output(LogFormat::kJson, true, false).kind, Kind::kJson);
}

// A logger whose records go to a JournalSink that keeps what it would send.
class Journal : public ::testing::Test {
 protected:
  void SetUp() override { set_redacted_secrets({"tok-SECRET-123"}); }
  void TearDown() override {
    set_redacted_secrets({});
    if (fallback_ != nullptr) std::fclose(fallback_);
  }
  std::shared_ptr<spdlog::logger> logger(int answer = 0) {
    fallback_ = std::tmpfile();
    auto sink = std::make_shared<JournalSink>(
        [this, answer](const std::vector<std::string>& fields) {
          sent_.push_back(fields);
          return answer;
        },
        fallback_);
    auto l = std::make_shared<spdlog::logger>("journal", sink);
    l->set_level(spdlog::level::trace);
    return l;
  }
  std::string fallback_text() const {
    std::rewind(fallback_);
    std::string out;
    for (int c = std::fgetc(fallback_); c != EOF; c = std::fgetc(fallback_)) {
      out.push_back(static_cast<char>(c));
    }
    return out;
  }
  std::vector<std::vector<std::string>> sent_;
  std::FILE* fallback_ = nullptr;
};

TEST_F(Journal, EachRecordCarriesItsPriorityAndIdentifier) {
  auto log = logger();
  log->error("desired state not reloaded (SIGHUP): {}", "x");
  log->warn("w");
  log->info("i");
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[0], (std::vector<std::string>{
                          "MESSAGE=desired state not reloaded (SIGHUP): x",
                          "PRIORITY=3",
                          "SYSLOG_IDENTIFIER=origin-reconciler",
                      }));
  EXPECT_EQ(sent_[1][1], "PRIORITY=4");
  EXPECT_EQ(sent_[2][1], "PRIORITY=6");
}

TEST_F(Journal, TheZoneAndOperationOfTheThreadAreFields) {
  auto log = logger();
  {
    const ScopedLogField zone(LogField::kZone, "023e105f4ecef8ad9ca31a8372d0c353");
    {
      const ScopedLogField op(LogField::kOperation, "batch_delete");
      log->warn("retrying");
    }
    log->error("reconcile failed");
  }
  log->info("cycle done");
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[0], (std::vector<std::string>{
                          "MESSAGE=retrying", "PRIORITY=4", "SYSLOG_IDENTIFIER=origin-reconciler",
                          "ZONE=023e105f4ecef8ad9ca31a8372d0c353", "OPERATION=batch_delete"}));
  EXPECT_EQ(sent_[1].back(), "ZONE=023e105f4ecef8ad9ca31a8372d0c353");
  EXPECT_EQ(sent_[2].size(), 3u) << "no zone outside the scope";
}

TEST_F(Journal, MessagesAreRedactedAndEscaped) {
  auto log = logger();
  log->warn("Bearer tok-SECRET-123\nforged");
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0][0], "MESSAGE=Bearer [redacted]\\x0aforged");
}

TEST_F(Journal, ARecordJournaldDoesNotTakeGoesToStandardErrorWithItsPriority) {
  auto log = logger(-ENOENT);  // no journal socket
  log->error("e tok-SECRET-123");
  log->info("i");
  EXPECT_EQ(fallback_text(), "<3>e [redacted]\n<6>i\n");
}

std::string line_through(LogFormat format, bool prefix) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  spdlog::logger logger("capture", sink);
  logger.set_formatter(make_log_formatter(format, prefix));
  logger.warn("zone z: something");
  return captured.str();
}

TEST(LogLines, OnTheJournalStreamTextAndJsonLinesStartWithThePriority) {
  const std::string text = line_through(LogFormat::kText, true);
  EXPECT_EQ(text.rfind("<4>20", 0), 0u) << text;
  EXPECT_NE(text.find(" warning zone z: something\n"), std::string::npos) << text;
  const std::string json = line_through(LogFormat::kJson, true);
  ASSERT_EQ(json.rfind("<4>{", 0), 0u) << json;
  EXPECT_TRUE(nlohmann::json::parse(json.substr(3), nullptr, false).is_object()) << json;
  EXPECT_EQ(line_through(LogFormat::kText, false).rfind("20", 0), 0u);
  EXPECT_EQ(line_through(LogFormat::kJson, false).rfind("{", 0), 0u);
}

TEST(LogLines, JsonLinesCarryTheZoneAndOperation) {
  const ScopedLogField zone(LogField::kZone, "023e105f4ecef8ad9ca31a8372d0c353");
  const ScopedLogField op(LogField::kOperation, "list");
  const auto doc = nlohmann::json::parse(line_through(LogFormat::kJson, false));
  EXPECT_EQ(doc["zone"], "023e105f4ecef8ad9ca31a8372d0c353");
  EXPECT_EQ(doc["operation"], "list");
  EXPECT_EQ(doc["level"], "warning");
}

}  // namespace
}  // namespace orc
