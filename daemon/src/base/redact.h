// The one place text that came from outside (API answers, error messages, transport errors,
// anything logged) is made safe to print: the secret values are replaced wherever they
// appear, control characters and invalid UTF-8 are escaped (so a newline cannot forge a log
// line and a JSON log stays JSON), and the result is capped with a marker saying how much was
// cut. Logs (a formatter-level pass), the --once report and API error messages all use it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace orc {

// One message from outside (an API error, a failed item's error, a transport error).
inline constexpr std::size_t kMessageCap = 512;
// A whole log line, the last line of defence (it may quote several messages).
inline constexpr std::size_t kLogLineCap = 8192;

inline constexpr std::string_view kRedactedMarker = "[redacted]";

// Replaces each secret in `text` with [redacted], escapes bytes below 0x20, 0x7f and invalid
// UTF-8 as \xNN, and cuts the result after `max_bytes` bytes of output (never inside an
// escape or a UTF-8 sequence), appending "...[N more bytes]". Secrets are replaced before
// anything is cut, so a cut can never leave part of a secret behind. Empty secrets are ignored.
std::string redact_with(std::string_view text, const std::vector<std::string>& secrets,
                        std::size_t max_bytes);

// The process-wide secrets (the API token, or the global key and its email). Set once at
// start-up; later calls replace the set, the added ones included (tests).
void set_redacted_secrets(std::vector<std::string> secrets);

// Adds one secret read while the daemon runs (the Kubernetes service-account token, read
// again for every request because it rotates): thread-safe, so it may be called while other
// threads log. The last kMaxAddedSecrets are kept (a rotated token may still be quoted for a
// while); values shorter than kMinAddedSecretBytes are not secrets worth masking everywhere.
inline constexpr std::size_t kMaxAddedSecrets = 8;
inline constexpr std::size_t kMinAddedSecretBytes = 8;
void add_redacted_secret(std::string secret);

// redact_with() over the process-wide secrets.
std::string redact(std::string_view text, std::size_t max_bytes = kMessageCap);

}  // namespace orc
