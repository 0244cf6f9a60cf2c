#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/grant.hpp"

// How both SQL adapters write model values into columns and read them back, so a row means the same on SQLite
// and on PostgreSQL. Readers throw core::ports::StorageError (not transient) on a value no writer produces,
// naming the adapter ("sqlite", "postgres").
namespace boltauth::store::common {

/// A list of strings as a JSON array: keeps any string intact (an empty entry, a comma) and stays readable with
/// the databases' own JSON functions.
std::string encode_list(const std::vector<std::string>& items);
std::vector<std::string> decode_list(std::string_view text, std::string_view adapter);

/// A map of strings (an address's fields) as a JSON object, for the same reasons; keys come back in order.
std::string encode_fields(const std::map<std::string, std::string>& fields);
std::map<std::string, std::string> decode_fields(std::string_view text, std::string_view adapter);

/// GrantKind is stored as the enum's fixed numbers and checked on the way back.
std::int64_t encode_grant_kind(core::model::GrantKind kind);
core::model::GrantKind decode_grant_kind(std::int64_t value, std::string_view adapter);

/// jti is a 64-bit random number; both databases' integers are signed 64-bit, so it is stored bit for bit.
inline std::int64_t encode_jti(std::uint64_t jti) { return static_cast<std::int64_t>(jti); }
inline std::uint64_t decode_jti(std::int64_t stored) { return static_cast<std::uint64_t>(stored); }

/// Emails are unique and looked up case-insensitively; ASCII folding matches the callers' normalization.
std::string ascii_lower(std::string_view text);

/// Lower-case hex SHA-256 of a (lower-case) email: the `sha256_email` Bolt's detectAccount looks accounts up by,
/// kept in its own indexed column.
std::string email_sha256_hex(std::string_view lower_email);

/// The one column list of `grants` after `id`, the same in both schemas.
inline constexpr std::string_view grant_columns =
    "kind, client_id, sub, scope, redirect_uri, code_challenge, nonce, state, auth_time, created_at, "
    "code_expires_at, redeemed_at, generation, rotated_at, replayed, access_floor, expires_at, revoked_at, salt";

}  // namespace boltauth::store::common
