#include "core/key_ring.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <boost/json/array.hpp>

namespace boltauth::core {

std::string_view to_string(KeyPhase phase) {
  switch (phase) {
    case KeyPhase::pending:
      return "pending";
    case KeyPhase::active:
      return "active";
    case KeyPhase::retired:
      return "retired";
    case KeyPhase::expired:
      return "expired";
  }
  return "unknown";
}

namespace {

std::vector<ScheduledKey> always_active(std::vector<crypto::SigningKey> keys) {
  std::vector<ScheduledKey> out;
  out.reserve(keys.size());
  for (auto& k : keys) out.push_back({std::make_shared<const crypto::SigningKey>(std::move(k)), 0, 0});
  return out;
}

}  // namespace

KeyRing::KeyRing(std::vector<crypto::SigningKey> keys)
    : KeyRing(always_active(std::move(keys)), 0, std::numeric_limits<std::int32_t>::max()) {}

KeyRing::KeyRing(std::vector<ScheduledKey> keys, base::UnixSeconds now, std::int64_t id_token_ttl)
    : keys_(std::move(keys)), built_at_(now) {
  if (keys_.empty()) throw std::invalid_argument("a key ring needs at least one key");
  build(id_token_ttl);
}

void KeyRing::build(std::int64_t id_token_ttl) {
  const base::UnixSeconds now = built_at_;
  valid_until_ = std::numeric_limits<base::UnixSeconds>::max();
  auto boundary = [&](base::UnixSeconds t) {
    if (t > now) valid_until_ = std::min(valid_until_, t);
  };

  schedule_.resize(keys_.size());
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const ScheduledKey& k = keys_[i];
    KeyStatus& s = schedule_[i];
    s.kid = k.key->kid();
    s.alg = k.key->alg();
    s.created_at = k.created_at;
    s.activates_at = k.activates_at;
    // A key stops being able to sign the moment any later key of its alg activates.
    for (std::size_t j = i + 1; j < keys_.size(); ++j) {
      if (keys_[j].key->alg() != s.alg) continue;
      if (!s.retires_at || keys_[j].activates_at < *s.retires_at) s.retires_at = keys_[j].activates_at;
    }
    if (s.retires_at) {
      // Its id_tokens were signed before retires_at and live id_token_ttl at most: then nobody needs it.
      s.unpublish_at = *s.retires_at + id_token_ttl;
      boundary(*s.retires_at);
      boundary(*s.unpublish_at);
    }
    boundary(s.activates_at);
    if (s.retires_at && now >= *s.retires_at)
      s.phase = s.unpublish_at && now >= *s.unpublish_at ? KeyPhase::expired : KeyPhase::retired;
    else
      s.phase = now >= s.activates_at ? KeyPhase::active : KeyPhase::pending;
  }

  for (const auto& alg : crypto::SigningKey::supported_algs()) {
    const crypto::SigningKey* signer = nullptr;
    std::size_t fallback = keys_.size();
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (schedule_[i].alg != alg) continue;
      if (schedule_[i].phase == KeyPhase::active) signer = keys_[i].key.get();
      if (fallback == keys_.size() && schedule_[i].phase == KeyPhase::pending) fallback = i;
    }
    if (!signer && fallback < keys_.size()) {
      // Nothing of this alg has activated yet (its first key was created with a delay): sign with the
      // first pending one rather than not at all. It is published already.
      signer = keys_[fallback].key.get();
      schedule_[fallback].phase = KeyPhase::active;
    }
    if (signer) {
      algs_.push_back(alg);
      signers_.push_back(signer);
    }
  }

  boost::json::array list;
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (schedule_[i].phase != KeyPhase::expired) list.push_back(keys_[i].key->public_jwk());
  jwks_["keys"] = std::move(list);
}

const crypto::SigningKey* KeyRing::signing_key(std::string_view alg) const {
  for (std::size_t i = 0; i < algs_.size(); ++i)
    if (algs_[i] == alg) return signers_[i];
  return nullptr;
}

const crypto::SigningKey& KeyRing::signing_key() const {
  if (const auto* rs = signing_key("RS256")) return *rs;
  if (signers_.empty()) throw std::logic_error("key ring without a signing key");
  return *signers_.front();
}

}  // namespace boltauth::core
