#include "model/label.h"

#include <mutex>
#include <unordered_set>

namespace orc {

namespace {

struct Pool {
  std::mutex mutex;
  std::unordered_set<std::string> texts;  // nodes never move: pointers into it stay valid
};

Pool& pool() {
  static Pool* const p = new Pool;  // never destroyed: Labels may outlive static destructors
  return *p;
}

}  // namespace

const std::string& Label::intern(std::string_view text) {
  Pool& p = pool();
  const std::lock_guard lock(p.mutex);
  return *p.texts.emplace(text).first;
}

const std::string& Label::value() const {
  if (!text_) throw std::bad_optional_access();
  return *text_;
}

}  // namespace orc
