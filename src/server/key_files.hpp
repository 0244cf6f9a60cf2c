#pragma once
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
#include "core/key_ring.hpp"
#include "core/ports/key_source.hpp"
#include "crypto/signing_key.hpp"

namespace boltauth::server {

/// Secrets kept in the data dir (mode 0600, dir 0700), created on first use. Creation is race-free between
/// processes (write a temp file, then link(2) it into place: the loser of a race reads the winner's file), so a
/// CLI call and a starting server agree on the same keys, and every node sharing the dir signs alike.
///
/// Signing keys live in keys/signing/NNNN.pem, one immutable file per key, numbered in publication order. A
/// file starts with its schedule as header lines before the PEM block (`boltauth-alg:`,
/// `boltauth-created-at:`, `boltauth-activates-at:`); a bare PEM (older data dirs) is active from the epoch.
/// Files are never rewritten, so a reader never sees half a rotation.
class KeyFiles {
 public:
  explicit KeyFiles(std::filesystem::path data_dir) : dir_(std::move(data_dir) / "keys") {}

  /// The 32-byte master key from which token MAC keys and the storage hash key are derived.
  std::array<std::uint8_t, 32> master_key(base::Random& random) const;
  /// Makes sure every supported alg has a key: a missing one is generated, active from `now` (nothing could be
  /// signed with that alg before, so there is nothing to pre-publish). Serialized between processes by flock.
  void ensure_signing_keys(int rsa_bits, base::UnixSeconds now) const;
  /// Phased rotation: a new key of `alg`, published from `now`, signing from `now + activation_delay`.
  core::ScheduledKey rotate(const std::string& alg, int rsa_bits, base::UnixSeconds now,
                            std::int64_t activation_delay) const;
  /// Every key with its schedule, in publication order.
  std::vector<core::ScheduledKey> scheduled_keys() const;

  std::filesystem::path signing_dir() const { return dir_ / "signing"; }

 private:
  std::filesystem::path dir_;
};

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
