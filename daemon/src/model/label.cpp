#include "model/label.h"

#include <array>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace orc {

namespace {

// Texts by number, in chunks that never move once made, so that a reader needs no lock: a
// Label reaches another thread only through something that synchronises (a queue, a mutex, a
// thread's start), which orders the writes of its slot before the read.
constexpr std::size_t kChunkBits = 12;
constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;  // 4,096 texts a chunk
constexpr std::size_t kChunks = 4096;
constexpr std::size_t kMaxLabels = kChunks * kChunkSize - 1;  // 16,777,215

struct Pool {
  std::mutex mutex;
  std::unordered_map<std::string_view, std::uint32_t> numbers;  // views of the texts below
  std::array<std::unique_ptr<std::string[]>, kChunks> chunks;
  std::uint32_t next = 1;
};

Pool& pool() {
  static Pool* const p = new Pool;  // never destroyed: Labels may outlive static destructors
  return *p;
}

std::string& slot(Pool& p, std::uint32_t id) {
  return p.chunks[id >> kChunkBits][id & (kChunkSize - 1)];
}

}  // namespace

std::uint32_t Label::intern(std::string_view text) {
  Pool& p = pool();
  const std::lock_guard lock(p.mutex);
  if (auto it = p.numbers.find(text); it != p.numbers.end()) return it->second;
  if (p.next > kMaxLabels) {
    throw std::length_error("more than " + std::to_string(kMaxLabels) +
                            " distinct vendor and region texts");
  }
  const std::uint32_t id = p.next++;
  auto& chunk = p.chunks[id >> kChunkBits];
  if (!chunk) chunk = std::make_unique<std::string[]>(kChunkSize);
  std::string& copy = slot(p, id);
  copy.assign(text);
  p.numbers.emplace(copy, id);
  return id;
}

const std::string& Label::text_of(std::uint32_t id) {
  return slot(pool(), id);
}

const std::string& Label::value() const {
  if (!id_) throw std::bad_optional_access();
  return text_of(id_);
}

}  // namespace orc
