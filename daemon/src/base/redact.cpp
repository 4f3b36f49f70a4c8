#include "base/redact.h"

#include <cstdio>
#include <memory>
#include <mutex>

namespace orc {

namespace {

// The secrets, replaced as a whole under the lock (a credential read again, such as a rotated
// Kubernetes token, is added while other threads log), read as a snapshot.
struct SecretsStore {
  std::mutex mu;
  std::shared_ptr<const std::vector<std::string>> secrets =
      std::make_shared<const std::vector<std::string>>();
  std::vector<std::string> added;  // by add_redacted_secret, oldest first
  std::vector<std::string> fixed;  // by set_redacted_secrets
};

SecretsStore& secrets_store() {
  static SecretsStore store;
  return store;
}

std::shared_ptr<const std::vector<std::string>> secrets_now() {
  SecretsStore& s = secrets_store();
  std::lock_guard lock(s.mu);
  return s.secrets;
}

void publish(SecretsStore& s) {
  auto all = std::make_shared<std::vector<std::string>>(s.fixed);
  all->insert(all->end(), s.added.begin(), s.added.end());
  s.secrets = std::move(all);
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not one
// (overlong forms, surrogates and code points above U+10FFFF are not valid).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  unsigned lo = 0x80;
  unsigned hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

std::string replace_secrets(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    std::string next;
    std::size_t from = 0;
    for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, from)) {
      next.append(out, from, at - from);
      next.append(kRedactedMarker);
      from = at + secret.size();
    }
    if (from == 0) continue;  // not present
    next.append(out, from, std::string::npos);
    out = std::move(next);
  }
  return out;
}

}  // namespace

std::string redact_with(std::string_view text, const std::vector<std::string>& secrets,
                        std::size_t max_bytes) {
  const std::string clean = replace_secrets(text, secrets);
  std::string out;
  out.reserve(std::min(clean.size(), max_bytes) + 32);
  std::size_t i = 0;
  while (i < clean.size()) {
    const auto c = static_cast<unsigned char>(clean[i]);
    std::size_t consumed = 1;
    char piece[8];
    std::string_view emit;
    if (c >= 0x20 && c < 0x7f) {
      emit = std::string_view(&clean[i], 1);
    } else if (c >= 0x80 && (consumed = utf8_length(clean, i)) > 0) {
      emit = std::string_view(&clean[i], consumed);
    } else {
      consumed = 1;
      std::snprintf(piece, sizeof(piece), "\\x%02x", c);
      emit = piece;
    }
    if (out.size() + emit.size() > max_bytes) break;
    out.append(emit);
    i += consumed;
  }
  if (i < clean.size()) {
    out += "...[" + std::to_string(clean.size() - i) + " more bytes]";
  }
  return out;
}

void set_redacted_secrets(std::vector<std::string> secrets) {
  SecretsStore& s = secrets_store();
  std::lock_guard lock(s.mu);
  s.fixed = std::move(secrets);
  s.added.clear();
  publish(s);
}

void add_redacted_secret(std::string secret) {
  if (secret.size() < kMinAddedSecretBytes) return;
  SecretsStore& s = secrets_store();
  std::lock_guard lock(s.mu);
  for (const auto& known : s.added) {
    if (known == secret) return;
  }
  s.added.push_back(std::move(secret));
  if (s.added.size() > kMaxAddedSecrets) s.added.erase(s.added.begin());
  publish(s);
}

std::string redact(std::string_view text, std::size_t max_bytes) {
  return redact_with(text, *secrets_now(), max_bytes);
}

}  // namespace orc
