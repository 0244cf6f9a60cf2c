#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/random.hpp"
#include "core/ports/secret_store.hpp"
#include "server/key_material.hpp"
#include "server/master_key.hpp"

namespace boltauth::server {

namespace detail {
struct DbSecrets;  // the store, the cipher and the master key file's name, shared with the sources
}

/// Server secrets as records of a database that several nodes share (core::ports::SecretStore), each sealed
/// under the master key file (SecretCipher), which is never stored there:
///   - "check" 1: a known text, proving at every start that the master key file is the database's one;
///   - "hash" 1: the 32-byte root of token MAC keys and the storage keyed-hash key (KeyMaterial::master_key);
///   - "signing" N: a PKCS#8 PEM private key, alg and phased schedule (created_at, activates_at) as key files;
///   - "sealing" N: a 32-byte token sealing secret, id ((N - 1) % 255) + 1, created_at, as key files.
/// Records are never changed or removed. A new one takes the number after the highest one read; when another
/// process took that number first, the store refuses the insert and this reads again, so an ensure_* call
/// racing another node's ends with that node's key, never a second one.
///
/// The "check" and "hash" records are undated (created_at 0): they are no keys with a schedule.
class DbKeyMaterial final : public KeyMaterial {
 public:
  /// Verifies `master` against the database's check record before anything else, and writes that record when
  /// the database holds no secret at all yet. Throws std::runtime_error when the master key does not open the
  /// database's secrets (never new keys in their place), or when the database has secrets but no check record.
  /// `store` must outlive this object and every source it makes; `random` draws nonces and new secrets.
  DbKeyMaterial(core::ports::SecretStore& store, MasterKey master, base::Random& random);
  ~DbKeyMaterial() override;

  std::array<std::uint8_t, 32> master_key(base::Random& random) const override;
  void ensure_signing_keys(int rsa_bits, base::UnixSeconds now) const override;
  core::ScheduledKey rotate(const std::string& alg, int rsa_bits, base::UnixSeconds now,
                            std::int64_t activation_delay) const override;
  std::vector<core::ScheduledKey> scheduled_keys() const override;
  void ensure_sealing_key(base::UnixSeconds now) const override;
  NumberedSealingKey rotate_sealing(base::UnixSeconds now) const override;
  std::vector<NumberedSealingKey> sealing_key_files() const override;
  /// A DbKeySource.
  std::unique_ptr<core::ports::KeySource> key_source(std::int64_t id_token_ttl) const override;
  /// A DbSealerSource.
  std::unique_ptr<core::ports::SealerSource> sealer_source(std::int64_t retention_seconds,
                                                           base::UnixSeconds now) const override;

  /// The text the check record seals.
  static constexpr std::string_view kCheckText = "boltauth master key check v1";

 private:
  std::shared_ptr<const detail::DbSecrets> secrets_;
};

/// The signing key ring of a database, reloaded when another node adds a key. This runs on every token request,
/// so the store is asked at most once per second of `now`, and only its cheap secrets_version(): records are
/// read when that changed, and only new ones are decrypted. The ring is rebuilt when `now` crosses a phase
/// boundary. One thread polls at a time; the others go on with the ring they have, so a slow database never
/// stalls them. A key added through this process's DbKeyMaterial is looked for at once, not a second later. When the
/// store fails or a new record does not open, the keys loaded before stay in use (logged once per distinct failure).
/// Thread-safe; the ring is immutable and replaced as a whole.
class DbKeySource final : public core::ports::KeySource {
 public:
  /// Throws when the database holds no signing key (DbKeyMaterial::ensure_signing_keys creates them).
  DbKeySource(std::shared_ptr<const detail::DbSecrets> secrets, std::int64_t id_token_ttl);
  ~DbKeySource() override;
  std::shared_ptr<const core::KeyRing> ring(base::UnixSeconds now) override;

 private:
  void poll();
  void poll_logged(base::UnixSeconds now);  // holding poll_mutex_

  std::shared_ptr<const detail::DbSecrets> secrets_;
  std::int64_t ttl_;
  std::atomic<base::UnixSeconds> last_poll_;
  std::atomic<std::uint64_t> seen_additions_{0};     // DbSecrets::local_additions at the last poll
  std::mutex poll_mutex_;                            // one poller at a time
  std::int64_t version_ = 0;                         // poll_mutex_
  std::string last_error_;                           // poll_mutex_: the failure last logged
  std::mutex mutex_;                                 // keys_ and ring_
  std::map<std::int64_t, core::ScheduledKey> keys_;  // written under both mutexes: a poller reads it freely
  std::shared_ptr<const core::KeyRing> ring_;
};

/// The token sealer of a database, reloaded when another node adds a sealing key: the store's version is asked
/// at most once per second of `now`, and reload() (a token names a key id this sealer lacks) asks at once, at
/// most a few times per second, since whoever sends a token chooses its id. Only new records are decrypted; the
/// sealer is rebuilt when `now` crosses the end of a key's retention. Thread-safe, as DbKeySource.
class DbSealerSource final : public core::ports::SealerSource {
 public:
  /// `retention_seconds`: sealing_retention(config). Throws when the database holds no sealing key
  /// (DbKeyMaterial::ensure_sealing_key creates the first).
  DbSealerSource(std::shared_ptr<const detail::DbSecrets> secrets, std::int64_t retention_seconds,
                 base::UnixSeconds now);
  ~DbSealerSource() override;
  std::shared_ptr<const crypto::TokenSealer> sealer(base::UnixSeconds now) override;
  std::shared_ptr<const crypto::TokenSealer> reload(base::UnixSeconds now) override;

 private:
  std::shared_ptr<const crypto::TokenSealer> current(base::UnixSeconds now, bool force);
  void poll();
  void rebuild(base::UnixSeconds now);  // holding mutex_

  std::shared_ptr<const detail::DbSecrets> secrets_;
  std::int64_t retention_;
  std::atomic<base::UnixSeconds> last_poll_;
  std::atomic<std::uint64_t> seen_additions_{0};  // DbSecrets::local_additions at the last poll
  std::mutex poll_mutex_;                         // one poller at a time
  std::int64_t version_ = 0;                      // poll_mutex_
  std::string last_error_;                        // poll_mutex_: the failure last logged
  std::mutex mutex_;                              // everything below
  static constexpr int kForcedLooksPerSecond = 4;
  base::UnixSeconds forced_second_ = -1;
  int forced_looks_ = 0;
  std::map<std::int64_t, NumberedSealingKey> keys_;  // written under both mutexes: a poller reads it freely
  base::UnixSeconds built_at_ = 0;
  base::UnixSeconds valid_until_ = 0;  // the next retention boundary
  std::shared_ptr<const crypto::TokenSealer> sealer_;
};

}  // namespace boltauth::server
