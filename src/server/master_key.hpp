#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/random.hpp"
#include "core/ports/secret_store.hpp"

namespace boltauth::server {

/// The key that encrypts the server secrets kept in a shared database (DbKeyMaterial). It lives in a file that
/// every node and every CLI call is given, and never in the database: a copy of the database alone opens nothing.
struct MasterKey {
  std::array<std::uint8_t, 32> bytes{};
  std::filesystem::path file;          // where it was loaded from, for messages (empty when made in memory)
  std::optional<std::string> warning;  // set when the file is open to other users: the caller logs it
};

/// Writes a new master key file: a comment line, then 32 random bytes in base64url and a newline, mode 0600.
/// Never overwrites: throws std::runtime_error saying so when `out` exists (O_EXCL), or on any write failure.
void generate_master_key_file(const std::filesystem::path& out, base::Random& random);

/// Reads a master key file (`#` comment lines and blank lines are ignored; exactly one line of 43 base64url
/// characters). Throws std::runtime_error in plain words when the file is missing (and how to create one),
/// unreadable, or malformed. A file that the group or other users may access loads, with `warning` set.
MasterKey load_master_key(const std::filesystem::path& path);

/// Seals and opens server secrets under a master key: AES-256-GCM with a key derived by HKDF-SHA256 (info
/// "boltauth secrets v1"), a random 12-byte nonce per record, and the record's kind, number, alg, created_at
/// and activates_at as associated data, so a record moved to another number or kind, or re-dated, no longer
/// opens. Sealed bytes: version (1) | nonce (12) | ciphertext | tag (16). Thread-safe (immutable).
class SecretCipher {
 public:
  explicit SecretCipher(const MasterKey& master);
  ~SecretCipher();
  SecretCipher(const SecretCipher&) = delete;
  SecretCipher& operator=(const SecretCipher&) = delete;

  /// The sealed bytes of `plaintext` for `record` (its `sealed` member is ignored).
  std::string seal(const core::ports::SecretRecord& record, std::string_view plaintext, base::Random& random) const;
  /// The plaintext of `record.sealed`; nothing when it was not sealed under this master key for exactly this
  /// kind, number, alg and dates, or was changed in any way.
  std::optional<std::string> open(const core::ports::SecretRecord& record) const;

  /// The associated data bound to a record: "kind|number|alg|created_at|activates_at". Throws
  /// std::invalid_argument when kind or alg contain '|' (the encoding would be ambiguous).
  static std::string associated_data(const core::ports::SecretRecord& record);

  static constexpr std::uint8_t kVersion = 1;
  static constexpr std::size_t kNonceSize = 12;
  static constexpr std::size_t kTagSize = 16;

 private:
  std::array<std::uint8_t, 32> key_{};
};

}  // namespace boltauth::server
