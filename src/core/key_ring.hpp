#pragma once
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "crypto/signing_key.hpp"

namespace boltauth::core {

/// A signing key and its rotation schedule, as stored with the key (durable; see docs/design.md).
struct ScheduledKey {
  std::shared_ptr<const crypto::SigningKey> key;
  base::UnixSeconds created_at = 0;    // published (in the JWKS) from here
  base::UnixSeconds activates_at = 0;  // signs from here, until a later key of the same alg activates
};

enum class KeyPhase { pending, active, retired, expired };
std::string_view to_string(KeyPhase phase);

/// Where one key stands at a given instant. Derived, never stored: the schedule is a pure function of the
/// keys, `now` and the id_token lifetime.
struct KeyStatus {
  std::string kid;
  std::string alg;
  base::UnixSeconds created_at = 0;
  base::UnixSeconds activates_at = 0;
  std::optional<base::UnixSeconds> retires_at;    // a later key of the same alg signs from then
  std::optional<base::UnixSeconds> unpublish_at;  // retires_at + id_token_ttl: its last id_token expired
  KeyPhase phase = KeyPhase::pending;
};

/// The signing keys the provider publishes and the ones it signs with, at one instant. Immutable once built,
/// so request threads share it without locks; a rotation or a phase change builds a new ring.
///
/// Per alg, the key that signs is the last one (in publication order) whose activates_at has passed; when no
/// key of an alg has activated yet, its first key signs, so an alg never lacks a signer. A key is published
/// while pending or active, and once retired until id_token_ttl after it stopped signing.
class KeyRing {
 public:
  /// Every key published and active from the epoch (the last of each alg signs). Throws when empty.
  explicit KeyRing(std::vector<crypto::SigningKey> keys);
  /// The ring as it stands at `now`, `keys` in publication order. Throws std::invalid_argument when empty.
  KeyRing(std::vector<ScheduledKey> keys, base::UnixSeconds now, std::int64_t id_token_ttl);

  /// The key that signs id_tokens for `alg` ("RS256", "ES256", "EdDSA"); null when the ring has none.
  const crypto::SigningKey* signing_key(std::string_view alg) const;
  /// The RS256 signer, else the first alg's signer.
  const crypto::SigningKey& signing_key() const;
  /// Algs with a signing key, in SigningKey::supported_algs() order (discovery lists them).
  const std::vector<std::string>& algs() const { return algs_; }
  /// {"keys":[public JWKs]}: pending, active and retired-but-published keys only; no private or symmetric
  /// material (checklist H2).
  const boost::json::object& jwks() const { return jwks_; }
  /// Every key with its phase at `now`, in publication order (the `keys list` command).
  const std::vector<KeyStatus>& schedule() const { return schedule_; }
  /// The instant this ring was built for, and the first later instant at which some phase changes.
  base::UnixSeconds built_at() const { return built_at_; }
  base::UnixSeconds valid_until() const { return valid_until_; }

 private:
  void build(std::int64_t id_token_ttl);

  std::vector<ScheduledKey> keys_;
  std::vector<const crypto::SigningKey*> signers_;  // parallel to algs_
  std::vector<std::string> algs_;
  std::vector<KeyStatus> schedule_;
  boost::json::object jwks_;
  base::UnixSeconds built_at_ = 0;
  base::UnixSeconds valid_until_ = 0;
};

}  // namespace boltauth::core
