// A guard against an endless loop in yaml-cpp 0.7 (Debian bookworm's): when a document starts
// with a token the parser cannot place, such as a stray "," ("zones: []\n---\n,"), every later
// YAML::Parser::HandleNextDocument call hands out the same empty document again without reading
// on. YAML::LoadAll and a HandleNextDocument loop then never end, and grow by a node a turn
// until memory runs out. Newer yaml-cpp releases reject such input; with this guard, so do we.
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <sstream>
#include <string>
#include <string_view>

namespace orc {

class YamlProgress {
 public:
  explicit YamlProgress(std::string_view text) : text_(text) {}

  // Called with each document's start. Throws YAML::ParserException when a document starts
  // where the one before it did: nothing was read in between, and nothing ever will be.
  void on_document_start(const YAML::Mark& mark) {
    if (started_ && mark.pos == last_pos_) {
      const auto at = static_cast<std::size_t>(mark.pos);
      const bool comma = mark.pos >= 0 && at < text_.size() && text_[at] == ',';
      throw YAML::ParserException(
          mark, comma ? "unexpected ','" : "a document cannot start here (unexpected token)");
    }
    started_ = true;
    last_pos_ = mark.pos;
  }

 private:
  std::string_view text_;
  bool started_ = false;
  int last_pos_ = 0;
};

// Reads every document of `text` under the guard, so that YAML::LoadAll(text) may follow.
// Throws YAML::Exception (ParserException with a position) for invalid YAML.
inline void check_yaml_progress(std::string_view text) {
  class Reader final : public YAML::EventHandler {
   public:
    explicit Reader(std::string_view text) : progress_(text) {}
    void OnDocumentStart(const YAML::Mark& mark) override { progress_.on_document_start(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

   private:
    YamlProgress progress_;
  };
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  Reader reader(text);
  while (parser.HandleNextDocument(reader)) {
  }
}

}  // namespace orc
