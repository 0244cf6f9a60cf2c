#pragma once
#include <boost/json/object.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/signing_key.hpp"

namespace boltauth::core {

/// The signing keys the provider publishes and the one it signs with. Immutable once built, so request
/// threads share it without locks. (Phased rotation replaces the whole ring.)
class KeyRing {
 public:
  /// `keys` in publication order; the last one signs. Throws std::invalid_argument when empty.
  explicit KeyRing(std::vector<crypto::SigningKey> keys) : keys_(std::move(keys)) {
    if (keys_.empty()) throw std::invalid_argument("a key ring needs at least one key");
    boost::json::array list;
    for (const auto& k : keys_) list.push_back(k.public_jwk());
    jwks_["keys"] = std::move(list);
  }
  const crypto::SigningKey& signing_key() const { return keys_.back(); }
  const std::vector<crypto::SigningKey>& keys() const { return keys_; }
  /// {"keys":[public JWKs]}: no private or symmetric material (checklist H2).
  const boost::json::object& jwks() const { return jwks_; }

 private:
  std::vector<crypto::SigningKey> keys_;
  boost::json::object jwks_;
};

}  // namespace boltauth::core
