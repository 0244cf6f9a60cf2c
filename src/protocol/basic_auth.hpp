#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace boltauth::protocol {

struct BasicCredentials {
  std::string client_id;
  std::string client_secret;
};

/// Parses `Authorization: Basic ...`. Id and secret are form-urlencoded before base64 (RFC 6749
/// section 2.3.1), so both are form-decoded after the split on the first `:`.
/// nullopt when the header is not a well-formed Basic credential.
std::optional<BasicCredentials> parse_basic_auth(std::string_view header_value);

/// True when the header uses the Basic scheme (case-insensitive, RFC 7235 section 2.1), well formed or not.
bool is_basic_scheme(std::string_view header_value);

/// Builds a header value (for clients and tests).
std::string make_basic_auth(std::string_view client_id, std::string_view client_secret);

}  // namespace boltauth::protocol
