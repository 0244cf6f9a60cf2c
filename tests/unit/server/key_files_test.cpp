// Key files: schedule header, rotation numbering, reload of a rotated directory without restart.
#include <gtest/gtest.h>

#include <fstream>

#include "server/key_files.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::server {
namespace {

constexpr base::UnixSeconds t0 = 1'800'000'000;

TEST(KeyFileTest, HeaderAndPemRoundTrip) {
  const auto key = crypto::SigningKey::generate_ed25519();
  const auto parsed = parse_key_file(key_file_text(key, t0, t0 + 60));
  EXPECT_EQ(parsed.key->kid(), key.kid());
  EXPECT_EQ(parsed.created_at, t0);
  EXPECT_EQ(parsed.activates_at, t0 + 60);
}

TEST(KeyFileTest, BarePemIsActiveFromTheEpoch) {
  const auto key = crypto::SigningKey::generate_ec_p256();
  const auto parsed = parse_key_file(key.private_pem());
  EXPECT_EQ(parsed.activates_at, 0);
  EXPECT_EQ(parsed.key->alg(), "ES256");
}

TEST(KeyFileTest, MismatchedOrUnknownHeaderIsRejected) {
  const auto key = crypto::SigningKey::generate_ec_p256();
  EXPECT_THROW(parse_key_file("boltauth-alg: RS256\n" + key.private_pem()), std::runtime_error);
  EXPECT_THROW(parse_key_file("boltauth-colour: blue\n" + key.private_pem()), std::runtime_error);
  EXPECT_THROW(parse_key_file("boltauth-activates-at: soon\n" + key.private_pem()), std::runtime_error);
}

TEST(KeyFilesTest, EnsureCreatesOneKeyPerAlgOnceAndRotateAppends) {
  testing::TempDir dir;
  KeyFiles files(dir.path());
  files.ensure_signing_keys(2048, t0);
  files.ensure_signing_keys(2048, t0 + 5);
  auto keys = files.scheduled_keys();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].key->alg(), "RS256");
  EXPECT_EQ(keys[1].key->alg(), "ES256");
  EXPECT_EQ(keys[2].key->alg(), "EdDSA");
  const auto added = files.rotate("EdDSA", 2048, t0 + 10, 600);
  keys = files.scheduled_keys();
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[3].key->kid(), added.key->kid());
  EXPECT_EQ(keys[3].created_at, t0 + 10);
  EXPECT_EQ(keys[3].activates_at, t0 + 610);
  EXPECT_TRUE(std::filesystem::exists(files.signing_dir() / "0004.pem"));
}

TEST(KeyDirectoryTest, PicksUpARotationWithoutRestartAndFollowsPhases) {
  testing::TempDir dir;
  KeyFiles files(dir.path());
  files.ensure_signing_keys(2048, t0);
  KeyDirectory source(files.signing_dir(), 3600);
  const auto before = source.ring(t0 + 1);
  EXPECT_EQ(before->jwks().at("keys").as_array().size(), 3u);
  EXPECT_EQ(source.ring(t0 + 1), before) << "unchanged directory, same instant: the same ring";
  const auto added = KeyFiles(dir.path()).rotate("ES256", 2048, t0 + 2, 100);
  const auto after = source.ring(t0 + 2);
  EXPECT_EQ(after->jwks().at("keys").as_array().size(), 4u) << "published at once";
  EXPECT_NE(after->signing_key("ES256")->kid(), added.key->kid());
  EXPECT_EQ(source.ring(t0 + 102)->signing_key("ES256")->kid(), added.key->kid()) << "signs after the delay";
  EXPECT_EQ(source.ring(t0 + 102 + 3600)->jwks().at("keys").as_array().size(), 3u) << "old key unpublished";
}

}  // namespace
}  // namespace boltauth::server
