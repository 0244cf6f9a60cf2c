#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "base/random.hpp"
#include "crypto/signing_key.hpp"

namespace boltauth::server {

/// Secrets kept in the data dir (mode 0600, dir 0700), created on first use. Creation is race-free between
/// processes (write a temp file, then link(2) it into place: the loser of a race reads the winner's file), so a
/// CLI call and a starting server agree on the same keys, and every node sharing the dir signs alike.
class KeyFiles {
 public:
  explicit KeyFiles(std::filesystem::path data_dir) : dir_(std::move(data_dir) / "keys") {}

  /// The 32-byte master key from which token MAC keys and the storage hash key are derived.
  std::array<std::uint8_t, 32> master_key(base::Random& random) const;
  /// Signing keys in publication order (the last signs); generates an RSA key of `rsa_bits` when none exists.
  std::vector<crypto::SigningKey> signing_keys(int rsa_bits) const;

 private:
  std::filesystem::path dir_;
};

/// Creates `dir` (and parents) with mode 0700 if missing. Throws std::runtime_error with the path on failure.
void ensure_private_dir(const std::filesystem::path& dir);

}  // namespace boltauth::server
