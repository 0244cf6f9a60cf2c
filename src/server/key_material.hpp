#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/config.hpp"
#include "core/key_ring.hpp"
#include "core/ports/key_source.hpp"
#include "crypto/token_sealer.hpp"

namespace boltauth::server {

/// One sealing key and its number: the N of keys/sealing/NNNN.key, or of its database record. The key id is
/// ((number - 1) % 255) + 1.
struct NumberedSealingKey {
  long number = 0;
  crypto::SealingKey key;
};

/// The server's secrets, wherever they are kept: files in the data dir (KeyFiles) or records in a shared
/// database, encrypted under a master key file (DbKeyMaterial). Services and the `keys` commands see only this.
///
/// Every creating call is race-free between processes and nodes: two of them starting at once on empty storage
/// end up with one key of each kind and agree on it. The sources it makes pick up keys another process added,
/// without restart.
class KeyMaterial {
 public:
  virtual ~KeyMaterial() = default;

  /// The 32-byte root from which token MAC keys and the storage keyed-hash key derive; created on first use
  /// (from `random`), the same one for every process afterwards.
  virtual std::array<std::uint8_t, 32> master_key(base::Random& random) const = 0;
  /// Makes sure every supported alg has a signing key: a missing one is generated, active from `now` (nothing
  /// could be signed with that alg before, so there is nothing to pre-publish).
  virtual void ensure_signing_keys(int rsa_bits, base::UnixSeconds now) const = 0;
  /// Phased rotation: a new key of `alg`, published from `now`, signing from `now + activation_delay`.
  virtual core::ScheduledKey rotate(const std::string& alg, int rsa_bits, base::UnixSeconds now,
                                    std::int64_t activation_delay) const = 0;
  /// Every signing key with its schedule, in publication order.
  virtual std::vector<core::ScheduledKey> scheduled_keys() const = 0;

  /// Creates the first sealing key, created at `now`, when there is none yet.
  virtual void ensure_sealing_key(base::UnixSeconds now) const = 0;
  /// Adds the next sealing key, created at `now`: it seals from now on (once a reader reloads), the previous
  /// ones keep opening tokens until their retention ends.
  virtual NumberedSealingKey rotate_sealing(base::UnixSeconds now) const = 0;
  /// Every sealing key in creation order (empty when there is none).
  virtual std::vector<NumberedSealingKey> sealing_key_files() const = 0;

  /// The signing key ring, reloaded when another process adds a key. Throws when there is no key yet
  /// (ensure_signing_keys first). The source may refer to this object's storage: it must not outlive it.
  virtual std::unique_ptr<core::ports::KeySource> key_source(std::int64_t id_token_ttl) const = 0;
  /// The token sealer, reloaded when another process adds a key; `retention_seconds` is sealing_retention().
  /// Throws when there is no key yet (ensure_sealing_key first). Must not outlive this object either.
  virtual std::unique_ptr<core::ports::SealerSource> sealer_source(std::int64_t retention_seconds,
                                                                   base::UnixSeconds now) const = 0;
};

/// How long a superseded sealing key must keep opening tokens: the longest lifetime of a token the server
/// issues, so no token outlives the key that opens it, plus a day: another process (a node, or a CLI host whose
/// clock is behind) may go on sealing with the old key for a moment after the rotation.
inline std::int64_t sealing_retention(const core::Config& config) {
  return std::max({config.refresh_token_ttl, config.access_token_ttl, config.code_ttl}) + 86400;
}

/// Where a sealing key stands at `now` (`keys list`, the sealer sources).
struct SealingKeyStatus {
  enum class State { seals, opens, retired };
  long number = 0;
  std::uint8_t id = 0;
  base::UnixSeconds created_at = 0;
  State state = State::seals;
  /// opens: until when; retired: since when (its successor's created_at + retention); seals: none.
  std::optional<base::UnixSeconds> opens_until;
};
/// The newest key seals; an older one opens tokens until its successor's created_at + `retention_seconds`, then
/// it is retired. Ids repeat every 255 keys: of two keys still opening with the same id only the newer is kept
/// (the older is retired early), which takes 255 rotations within one retention period to happen at all.
std::vector<SealingKeyStatus> sealing_schedule(const std::vector<NumberedSealingKey>& keys, base::UnixSeconds now,
                                               std::int64_t retention_seconds);

/// The sealer of the keys live at `now` (`keys` in creation order, not empty), and the first later instant at
/// which one of them retires: a source rebuilds it then.
struct LiveSealer {
  std::shared_ptr<const crypto::TokenSealer> sealer;
  base::UnixSeconds valid_until = 0;
};
LiveSealer live_sealer(const std::vector<NumberedSealingKey>& keys, base::UnixSeconds now,
                       std::int64_t retention_seconds);

/// The id a sealing key's number gives it: ((number - 1) % 255) + 1.
inline std::uint8_t sealing_key_id(long number) { return static_cast<std::uint8_t>(((number - 1) % 255) + 1); }

}  // namespace boltauth::server
