// Zone ids the report tests share: 32 lowercase hex digits, as Cloudflare's are.
#pragma once

namespace orc {

inline constexpr const char* kA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
inline constexpr const char* kB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
inline constexpr const char* kC = "cccccccccccccccccccccccccccccccc";

}  // namespace orc
