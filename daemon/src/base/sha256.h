// SHA-256 (FIPS 180-4), OpenSSL's (libcrypto, which libcurl links already). Used for the plan's
// checksum and the desired state's identity in a plan file; not for secrets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace orc {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);

// The digest as 64 lower-case hexadecimal digits.
std::string sha256_hex(std::string_view data);
std::string to_hex(const Sha256Digest& digest);

// SHA-256 of bytes given a piece at a time (a file as it streams).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  // The digest of everything given; the object is spent.
  Sha256Digest finish();

 private:
  ::evp_md_ctx_st* ctx_;
};

}  // namespace orc
