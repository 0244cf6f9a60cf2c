// Key phases (KeyRing) and the client-auth throttle: pure functions of their inputs and `now`.
#include <gtest/gtest.h>

#include "core/auth_throttle.hpp"
#include "core/key_ring.hpp"

namespace boltauth::core {
namespace {

constexpr base::UnixSeconds t0 = 1'800'000'000;
constexpr std::int64_t ttl = 3600;

ScheduledKey ec_key(base::UnixSeconds created, base::UnixSeconds activates) {
  return {std::make_shared<const crypto::SigningKey>(crypto::SigningKey::generate_ec_p256()), created, activates};
}

std::vector<std::string> published_kids(const KeyRing& ring) {
  std::vector<std::string> kids;
  for (const auto& k : ring.jwks().at("keys").as_array()) kids.emplace_back(k.as_object().at("kid").as_string());
  return kids;
}

TEST(KeyRingTest, NewKeyIsPublishedBeforeItSigns) {
  const auto old_key = ec_key(t0 - 100, t0 - 100);
  const auto new_key = ec_key(t0, t0 + 600);
  const KeyRing ring({old_key, new_key}, t0, ttl);
  EXPECT_EQ(ring.signing_key("ES256"), old_key.key.get());
  EXPECT_EQ(published_kids(ring), (std::vector<std::string>{old_key.key->kid(), new_key.key->kid()}));
  EXPECT_EQ(ring.schedule()[1].phase, KeyPhase::pending);
  EXPECT_EQ(ring.valid_until(), t0 + 600);
}

TEST(KeyRingTest, NewKeySignsOnceActivatedAndOldOneStaysPublishedForTheIdTokenLifetime) {
  const auto old_key = ec_key(t0 - 100, t0 - 100);
  const auto new_key = ec_key(t0, t0 + 600);
  const KeyRing at_activation({old_key, new_key}, t0 + 600, ttl);
  EXPECT_EQ(at_activation.signing_key("ES256"), new_key.key.get());
  EXPECT_EQ(at_activation.schedule()[0].phase, KeyPhase::retired);
  EXPECT_EQ(at_activation.schedule()[0].retires_at, t0 + 600);
  EXPECT_EQ(at_activation.schedule()[0].unpublish_at, t0 + 600 + ttl);
  EXPECT_EQ(published_kids(at_activation).size(), 2u);
  EXPECT_EQ(at_activation.valid_until(), t0 + 600 + ttl);

  const KeyRing just_before({old_key, new_key}, t0 + 600 + ttl - 1, ttl);
  EXPECT_EQ(published_kids(just_before).size(), 2u) << "an id_token signed at retirement is still valid";
  const KeyRing after({old_key, new_key}, t0 + 600 + ttl, ttl);
  EXPECT_EQ(published_kids(after), std::vector<std::string>{new_key.key->kid()});
  EXPECT_EQ(after.schedule()[0].phase, KeyPhase::expired);
}

TEST(KeyRingTest, EachAlgHasItsOwnSignerAndAlgsFollowTheKeys) {
  std::vector<ScheduledKey> keys{
      ec_key(t0, t0), {std::make_shared<const crypto::SigningKey>(crypto::SigningKey::generate_ed25519()), t0, t0}};
  const KeyRing ring(keys, t0, ttl);
  EXPECT_EQ(ring.algs(), (std::vector<std::string>{"ES256", "EdDSA"}));
  EXPECT_EQ(ring.signing_key("ES256")->alg(), "ES256");
  EXPECT_EQ(ring.signing_key("EdDSA")->alg(), "EdDSA");
  EXPECT_EQ(ring.signing_key("RS256"), nullptr);
  EXPECT_EQ(ring.signing_key().alg(), "ES256") << "no RS256 key: the first alg's signer";
}

TEST(KeyRingTest, FirstKeyOfAnAlgSignsEvenBeforeItsActivation) {
  const auto only = ec_key(t0, t0 + 600);
  const KeyRing ring({only}, t0, ttl);
  EXPECT_EQ(ring.signing_key("ES256"), only.key.get());
  EXPECT_EQ(ring.schedule()[0].phase, KeyPhase::active);
}

TEST(KeyRingTest, RotationWithoutDelaySupersedesAPendingKey) {
  const auto a = ec_key(t0 - 100, t0 - 100);
  const auto pending = ec_key(t0, t0 + 3600);
  const auto urgent = ec_key(t0 + 10, t0 + 10);  // emergency rotation while `pending` waits
  const KeyRing ring({a, pending, urgent}, t0 + 10, ttl);
  EXPECT_EQ(ring.signing_key("ES256"), urgent.key.get());
  const KeyRing later({a, pending, urgent}, t0 + 3600, ttl);
  EXPECT_EQ(later.signing_key("ES256"), urgent.key.get()) << "the later key in publication order wins";
}

TEST(KeyRingTest, EmptyRingIsRejected) {
  EXPECT_THROW(KeyRing(std::vector<ScheduledKey>{}, t0, ttl), std::invalid_argument);
}

TEST(AuthThrottleTest, BlocksAKeyAfterMaxFailuresUntilTheWindowEnds) {
  AuthThrottle throttle(3, 60);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.retry_after("a", t0 + i), 0);
    throttle.record_failure("a", t0 + i);
  }
  EXPECT_EQ(throttle.retry_after("a", t0 + 3), 57);
  EXPECT_EQ(throttle.retry_after("b", t0 + 3), 0) << "other keys are not affected";
  EXPECT_EQ(throttle.retry_after("a", t0 + 59), 1);
  EXPECT_EQ(throttle.retry_after("a", t0 + 60), 0);
  throttle.record_failure("a", t0 + 60);  // a new window
  EXPECT_EQ(throttle.retry_after("a", t0 + 61), 0);
}

TEST(AuthThrottleTest, SuccessClearsTheCountAndZeroDisables) {
  AuthThrottle throttle(2, 60);
  throttle.record_failure("a", t0);
  throttle.record_success("a");
  throttle.record_failure("a", t0 + 1);
  EXPECT_EQ(throttle.retry_after("a", t0 + 1), 0);
  AuthThrottle off(0, 60);
  for (int i = 0; i < 100; ++i) off.record_failure("a", t0);
  EXPECT_EQ(off.retry_after("a", t0), 0);
}

}  // namespace
}  // namespace boltauth::core
