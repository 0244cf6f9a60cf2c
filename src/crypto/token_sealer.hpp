#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"

namespace boltauth::crypto {

/// What a sealed token is for. Part of the sealed payload, so a token of one kind never passes for another.
enum class SealedKind : std::uint8_t { authorization_code = 1, access_token = 2, refresh_token = 3 };

/// What a sealed token carries (docs/design.md "Sealed tokens"). Nothing secret is stored anywhere: the token
/// names its grant row and generation, and only the holder of a sealing key can make or read one.
struct SealedPayload {
  SealedKind kind = SealedKind::access_token;
  std::int64_t grant_id = 0;         // > 0
  std::uint32_t generation = 0;      // refresh generation it was issued at (0 for codes)
  base::UnixSeconds issued_at = 0;   // 0 .. 2^40 - 1
  base::UnixSeconds expires_at = 0;  // issued_at .. issued_at + 2^32 - 1
  std::uint8_t scope_bits = 0;       // protocol::ScopeSet bits
  std::uint64_t jti = 0;             // random; names one access token in the deny list
  bool operator==(const SealedPayload&) const = default;
};

/// One sealing secret and its schedule. `id` travels in clear in every token it seals.
struct SealingKey {
  std::uint8_t id = 0;
  std::array<std::uint8_t, 32> secret{};
  base::UnixSeconds created_at = 0;  // seals from here until a later key was created
};

/// Seals payloads into Bolt's visible token shape `<43>.<43>` (contract section 3) and opens them.
///
/// Layout: 32 bytes = key id (1, in clear but masked with the tag's last byte) + 31 bytes of encrypted payload
/// (version/kind, grant id, generation, issued_at, lifetime, scope bits, jti); the second part is a 32-byte HMAC-SHA256
/// tag over the 32 plaintext bytes, and the payload is encrypted with AES-256-CTR under an IV taken from that tag (SIV
/// construction, RFC 5297 section 2.6 with HMAC in place of CMAC): deterministic, misuse-resistant, and any change to
/// either part makes the tag check fail. Encryption and MAC keys are derived from the secret (HKDF-like, HMAC).
class TokenSealer {
 public:
  /// `keys` in creation order; the newest seals, every one of them opens. Throws std::invalid_argument when
  /// empty or when two keys share an id.
  explicit TokenSealer(std::vector<SealingKey> keys);
  ~TokenSealer();
  TokenSealer(const TokenSealer&) = delete;
  TokenSealer& operator=(const TokenSealer&) = delete;

  /// The caller fills `payload.jti` with fresh randomness, so no two tokens are alike.
  std::string seal(const SealedPayload& payload) const;
  /// The payload when `token` has the exact shape, names a key of this sealer, and its tag verifies, decrypts
  /// to a known version and kind, and the fields are in range. Never checks expiry (the caller's clock does).
  std::optional<SealedPayload> open(std::string_view token) const;
  /// The id of the key that seals.
  std::uint8_t sealing_key_id() const;
  /// True when this sealer has a key with this id.
  bool has_key(std::uint8_t id) const { return find(id) != nullptr; }
  /// The key id a token names (unmasked); nothing when the token does not have the shape.
  static std::optional<std::uint8_t> key_id_of(std::string_view token);

 private:
  struct Keys;
  std::vector<std::unique_ptr<Keys>> keys_;  // by creation order; back() seals
  const Keys* find(std::uint8_t id) const;
};

}  // namespace boltauth::crypto
