// The saved API budget's file: written and read back, and what is refused or clamped.
#include "net/budget_state.h"

#include <gtest/gtest.h>

#include <string>

namespace orc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const WallTime w0{milliseconds(1'796'000'000'123)};

SavedBudget sample() {
  SavedBudget s;
  ServerBudget server;
  server.remaining = 0;
  server.reset = seconds(5);
  server.quota = 1200;
  server.window = seconds(300);
  s.answer = SavedBudget::Answer{w0, server};
  s.paused_until = w0 + seconds(30);
  return s;
}

// The message parse_budget_state gives for `text`, or "" when it reads it.
std::string error_of(const std::string& text) {
  const auto read = parse_budget_state(text);
  return read.ok() ? "" : read.error().message;
}

std::string with_answer(const std::string& answer) {
  return R"({"format":"origin-reconciler-api-budget","version":1,"answer":)" + answer + "}";
}

TEST(BudgetState, ReadsBackWhatItWrites) {
  const SavedBudget saved = sample();
  const std::string text = to_budget_state_text(saved);
  EXPECT_NE(text.find(R"("at_ms": 1796000000123)"), std::string::npos) << text;
  const auto read = parse_budget_state(text);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, saved);
  SavedBudget bare;
  bare.answer = SavedBudget::Answer{w0, ServerBudget{}};  // remaining 0, nothing else known
  EXPECT_EQ(*parse_budget_state(to_budget_state_text(bare)), bare);
}

TEST(BudgetState, TimesAreRoundedUpToTheMillisecond) {
  SavedBudget s;
  s.paused_until = w0 + std::chrono::microseconds(1);
  const auto read = parse_budget_state(to_budget_state_text(s));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read->paused_until, w0 + milliseconds(1));
}

TEST(BudgetState, WhatIsNotOneOfOursIsRefusedSayingWhy) {
  EXPECT_EQ(error_of(""), "not JSON");
  EXPECT_EQ(error_of("{\"format\": "), "not JSON");
  EXPECT_EQ(error_of("[]"), "(document): must be an object");
  EXPECT_EQ(error_of(std::string(5000, ' ') + "{}"), "larger than 4096 bytes (5002)");
  EXPECT_EQ(error_of(std::string(100, '[') + std::string(100, ']')), "nested deeper than 4 levels");
  EXPECT_EQ(error_of(R"({"format":"x","version":1,"paused_until_ms":1})"),
            "format: must be 'origin-reconciler-api-budget'");
  EXPECT_EQ(error_of(R"({"format":"origin-reconciler-api-budget","version":2})"),
            "version: this origin-reconciler reads version 1");
  EXPECT_EQ(error_of(R"({"format":"origin-reconciler-api-budget","version":1})"),
            "holds neither an answer nor a pause");
  EXPECT_EQ(error_of(R"({"format":"origin-reconciler-api-budget","version":1,"x":1})"),
            "(document): a key unknown here");
  EXPECT_EQ(error_of(with_answer(R"({"remaining":0})")), "answer.at_ms: missing");
  EXPECT_EQ(error_of(with_answer(R"({"at_ms":1,"remaining":-1})")),
            "answer.remaining: must be a whole number, 0 or more");
  EXPECT_EQ(error_of(with_answer(R"({"at_ms":1,"remaining":"0"})")),
            "answer.remaining: must be a whole number, 0 or more");
  EXPECT_EQ(error_of(with_answer(R"({"at_ms":1.5,"remaining":0})")),
            "answer.at_ms: must be a time in milliseconds since 1970, before 2200");
  EXPECT_EQ(error_of(with_answer(R"({"at_ms":7258118400001,"remaining":0})")),
            "answer.at_ms: must be a time in milliseconds since 1970, before 2200");
  EXPECT_EQ(error_of(with_answer(R"({"at_ms":1,"remaining":0,"who":1})")),
            "answer: a key unknown here");
  EXPECT_EQ(error_of(with_answer("5")), "answer: must be an object");
}

TEST(BudgetState, ValuesAreReadInTheRangesOfTheHeaders) {
  const auto read = parse_budget_state(
      with_answer(R"({"at_ms":1,"remaining":99999999999,"reset_seconds":999999999,"quota":1200,)"
                  R"("window_seconds":0})"));
  ASSERT_TRUE(read.ok()) << read.error().message;
  const ServerBudget& s = read->answer->server;
  EXPECT_EQ(s.remaining, 1200) << "at most the quota";
  EXPECT_EQ(s.reset, seconds(86400)) << "a reset at most a day away";
  EXPECT_EQ(s.window, seconds(1));
}

}  // namespace
}  // namespace orc
