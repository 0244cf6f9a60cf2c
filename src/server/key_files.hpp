#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/config.hpp"
#include "core/key_ring.hpp"
#include "core/ports/key_source.hpp"
#include "crypto/signing_key.hpp"
#include "crypto/token_sealer.hpp"
#include "server/key_material.hpp"

namespace boltauth::server {

/// Secrets kept in the data dir (mode 0600, dir 0700), created on first use. Creation is race-free between
/// processes (write a temp file, then link(2) it into place: the loser of a race reads the winner's file), so a
/// CLI call and a starting server agree on the same keys, and every node sharing the dir signs alike.
///
/// Signing keys live in keys/signing/NNNN.pem, one immutable file per key, numbered in publication order. A
/// file starts with its schedule as header lines before the PEM block (`boltauth-alg:`,
/// `boltauth-created-at:`, `boltauth-activates-at:`); a bare PEM (older data dirs) is active from the epoch.
/// Files are never rewritten, so a reader never sees half a rotation.
///
/// Sealing keys (the secrets that seal and open tokens, crypto::TokenSealer) live in keys/sealing/NNNN.key, the
/// same way: one immutable file per key, numbered in creation order, a `boltauth-created-at:` header line and the
/// 32-byte secret in base64url. The newest key seals at once (nothing outside this server needs to learn it
/// first); older keys keep opening tokens for a retention period (SealingKeyDirectory).
class KeyFiles final : public KeyMaterial {
 public:
  /// One sealing key file: NNNN of keys/sealing/NNNN.key and the key.
  using SealingKeyFile = NumberedSealingKey;

  explicit KeyFiles(std::filesystem::path data_dir) : dir_(std::move(data_dir) / "keys") {}

  /// keys/master.key, created on first use.
  std::array<std::uint8_t, 32> master_key(base::Random& random) const override;
  /// Serialized between processes by flock.
  void ensure_signing_keys(int rsa_bits, base::UnixSeconds now) const override;
  core::ScheduledKey rotate(const std::string& alg, int rsa_bits, base::UnixSeconds now,
                            std::int64_t activation_delay) const override;
  std::vector<core::ScheduledKey> scheduled_keys() const override;

  std::filesystem::path signing_dir() const { return dir_ / "signing"; }

  /// Creates keys/sealing/0001.key, created at `now`, when there is no sealing key yet. Serialized between
  /// processes by flock, so two processes starting on an empty dir end up with the same single key.
  void ensure_sealing_key(base::UnixSeconds now) const override;
  SealingKeyFile rotate_sealing(base::UnixSeconds now) const override;
  /// Every sealing key in creation order (empty when there is none). Throws std::runtime_error naming a
  /// malformed file.
  std::vector<crypto::SealingKey> sealing_keys() const;
  /// The same with file numbers.
  std::vector<SealingKeyFile> sealing_key_files() const override;

  std::filesystem::path sealing_dir() const { return dir_ / "sealing"; }

  /// A KeyDirectory on signing_dir().
  std::unique_ptr<core::ports::KeySource> key_source(std::int64_t id_token_ttl) const override;
  /// A SealingKeyDirectory on sealing_dir().
  std::unique_ptr<core::ports::SealerSource> sealer_source(std::int64_t retention_seconds,
                                                           base::UnixSeconds now) const override;

 private:
  std::filesystem::path dir_;
};

/// The token sealer of a sealing key directory, reloaded without restart when another process (`keys rotate
/// --sealing`, another node) adds a key. This runs on every token request, so the directory is looked at (a
/// stat(2) and a readdir) at most once per second of `now`, and files are parsed only when it changed; reload()
/// looks at once (a token names a key id this sealer lacks), at most a few times per second. The sealer is rebuilt when
/// `now` crosses the end of a key's retention. Thread-safe; the sealer is immutable and replaced as a whole.
class SealingKeyDirectory final : public core::ports::SealerSource {
 public:
  /// `retention_seconds`: sealing_retention(config). Throws std::runtime_error when the directory holds no
  /// valid key (KeyFiles::ensure_sealing_key creates the first).
  SealingKeyDirectory(std::filesystem::path sealing_dir, std::int64_t retention_seconds, base::UnixSeconds now);
  std::shared_ptr<const crypto::TokenSealer> sealer(base::UnixSeconds now) override;
  std::shared_ptr<const crypto::TokenSealer> reload(base::UnixSeconds now) override;

 private:
  std::shared_ptr<const crypto::TokenSealer> current(base::UnixSeconds now, bool force);
  void rescan();
  void rebuild(base::UnixSeconds now);

  std::filesystem::path dir_;
  std::int64_t retention_;
  std::mutex mutex_;
  std::int64_t mtime_sec_ = -1;
  std::int64_t mtime_nsec_ = -1;
  std::uint64_t entries_ = 0;
  static constexpr int kForcedLooksPerSecond = 4;
  base::UnixSeconds last_look_ = 0;
  base::UnixSeconds forced_second_ = -1;
  int forced_looks_ = 0;
  base::UnixSeconds last_full_scan_ = 0;
  std::map<long, KeyFiles::SealingKeyFile> by_number_;  // files are immutable: parsed once
  base::UnixSeconds built_at_ = 0;
  base::UnixSeconds valid_until_ = 0;  // the next retention boundary
  std::shared_ptr<const crypto::TokenSealer> sealer_;
};

/// Parses a sealing key file (header lines, then the secret in base64url) for key number `number`. Throws
/// std::runtime_error saying what is wrong.
KeyFiles::SealingKeyFile parse_sealing_key_file(const std::string& text, long number);
/// The text of a sealing key file.
std::string sealing_key_file_text(const crypto::SealingKey& key);

/// The key ring of a signing key directory, reloaded without restart when another process (the `keys rotate`
/// command, another node) adds a key: each call costs a stat(2) and a readdir of the directory, and files are
/// parsed only when it changed. The ring is rebuilt when `now` crosses a phase boundary. Thread-safe; the ring
/// is immutable and replaced as a whole.
class KeyDirectory final : public core::ports::KeySource {
 public:
  KeyDirectory(std::filesystem::path signing_dir, std::int64_t id_token_ttl);
  std::shared_ptr<const core::KeyRing> ring(base::UnixSeconds now) override;

 private:
  struct Stamp {
    std::int64_t sec = -1;
    std::int64_t nsec = -1;
    std::uint64_t entries = 0;
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp() const;
  void reload();

  std::filesystem::path dir_;
  std::int64_t ttl_;
  std::mutex mutex_;
  Stamp loaded_;
  base::UnixSeconds last_scan_ = 0;
  std::map<std::string, core::ScheduledKey> by_file_;  // files are immutable: parsed once
  std::shared_ptr<const core::KeyRing> ring_;
};

/// Parses a key file (schedule header + PKCS#8 PEM). Throws std::runtime_error naming what is wrong.
core::ScheduledKey parse_key_file(const std::string& text);
/// The text of a key file for `key` with its schedule.
std::string key_file_text(const crypto::SigningKey& key, base::UnixSeconds created_at, base::UnixSeconds activates_at);

/// Creates `dir` (and parents) with mode 0700 if missing. Throws std::runtime_error with the path on failure.
void ensure_private_dir(const std::filesystem::path& dir);

}  // namespace boltauth::server
