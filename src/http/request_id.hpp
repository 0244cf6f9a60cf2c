#pragma once
#include <string>
#include <string_view>

namespace boltauth::http {

/// Longest `X-Request-Id` accepted from a client; a longer one is replaced.
inline constexpr std::size_t kMaxRequestIdLength = 128;

/// True when `id` may be kept as the request's id: 1 to kMaxRequestIdLength characters, each an RFC 9110
/// section 5.6.2 `tchar` (no space, quote, separator or control byte), so it is safe in a header and a log line.
bool acceptable_request_id(std::string_view id) noexcept;

/// A fresh id: 32 lower-case hex digits (128 random bits), unique without coordination between nodes.
std::string new_request_id();

}  // namespace boltauth::http
