#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace boltauth::base {

/// RFC 4648 section 5, without padding.
std::string base64url_encode(std::span<const std::uint8_t> data);
std::string base64url_encode(std::string_view data);

/// Strict decoder: no padding, no whitespace, and the unused trailing bits must be zero, so every
/// byte string has exactly one accepted encoding (RFC 7515 section 2; checklist G3 non-canonical base64url).
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

/// RFC 4648 section 4 (standard alphabet, padding required), for HTTP Basic (RFC 7617).
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view data);

}  // namespace boltauth::base
