#include "base/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace orc {

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int size = 0;
  // OpenSSL's libcrypto: its SHA-256 uses the CPU's SHA extensions where there are any.
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    throw std::runtime_error("SHA-256 failed in libcrypto");
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const Sha256Digest d = sha256(data);
  std::string out;
  out.reserve(64);
  for (const std::uint8_t byte : d) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

}  // namespace orc
