// SHA-256 (FIPS 180-4), OpenSSL's (libcrypto, which libcurl links already). Used for the plan's
// checksum and the desired state's identity in a plan file; not for secrets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace orc {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);

// The digest as 64 lower-case hexadecimal digits.
std::string sha256_hex(std::string_view data);

}  // namespace orc
