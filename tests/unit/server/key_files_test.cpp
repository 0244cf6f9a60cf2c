// Key files: schedule header, rotation numbering, reload of a rotated directory without restart.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <thread>

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

// The same files through the KeyMaterial interface that Services and the `keys` commands use.
TEST(KeyFilesTest, ServesAsKeyMaterialWithReloadingSources) {
  testing::TempDir dir;
  KeyFiles files(dir.path());
  const KeyMaterial& material = files;
  base::SeededRandom random(3);
  EXPECT_EQ(material.master_key(random), KeyFiles(dir.path()).master_key(random)) << "created once, then read";
  material.ensure_signing_keys(2048, t0);
  material.ensure_sealing_key(t0);
  const auto keys = material.key_source(3600);
  const auto sealers = material.sealer_source(1000, t0);
  EXPECT_EQ(keys->ring(t0)->jwks().at("keys").as_array().size(), 3u);
  EXPECT_EQ(sealers->sealer(t0)->sealing_key_id(), 1);
  const auto added = material.rotate_sealing(t0 + 1);
  EXPECT_EQ(sealers->reload(t0 + 1)->sealing_key_id(), added.key.id);
  material.rotate("RS256", 2048, t0 + 1, 0);
  EXPECT_EQ(keys->ring(t0 + 1)->jwks().at("keys").as_array().size(), 4u);
  EXPECT_EQ(material.sealing_key_files().size(), 2u);
  EXPECT_EQ(material.scheduled_keys().size(), 4u);
}

// ---- sealing keys ----

crypto::SealedPayload sample_payload(base::UnixSeconds at) {
  crypto::SealedPayload p;
  p.kind = crypto::SealedKind::refresh_token;
  p.grant_id = 7;
  p.issued_at = at;
  p.expires_at = at + 60;
  p.jti = 99;
  return p;
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

TEST(SealingKeyFilesTest, FirstKeyIsCreatedOnceAndTwoInstancesAgree) {
  testing::TempDir dir;
  KeyFiles a(dir.path());
  KeyFiles b(dir.path());
  EXPECT_TRUE(a.sealing_keys().empty());
  a.ensure_sealing_key(t0);
  b.ensure_sealing_key(t0 + 5);
  a.ensure_sealing_key(t0 + 9);
  const auto ka = a.sealing_keys();
  const auto kb = b.sealing_keys();
  ASSERT_EQ(ka.size(), 1u);
  ASSERT_EQ(kb.size(), 1u);
  EXPECT_EQ(ka[0].secret, kb[0].secret);
  EXPECT_EQ(ka[0].id, 1);
  EXPECT_EQ(ka[0].created_at, t0);
  EXPECT_TRUE(std::filesystem::exists(a.sealing_dir() / "0001.key"));
  EXPECT_EQ(mode_of(a.sealing_dir()), 0700u);
  EXPECT_EQ(mode_of(a.sealing_dir() / "0001.key"), 0600u);
}

TEST(SealingKeyFilesTest, ConcurrentFirstStartsCreateOneKey) {
  testing::TempDir dir;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&dir, i] { KeyFiles(dir.path()).ensure_sealing_key(t0 + i); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(KeyFiles(dir.path()).sealing_keys().size(), 1u);
}

TEST(SealingKeyFilesTest, FileTextRoundTripsAndMalformedFilesAreRefused) {
  crypto::SealingKey key;
  key.created_at = t0;
  for (std::size_t i = 0; i < key.secret.size(); ++i) key.secret[i] = static_cast<std::uint8_t>(i * 7);
  const std::string text = sealing_key_file_text(key);
  const auto parsed = parse_sealing_key_file(text, 257);
  EXPECT_EQ(parsed.key.secret, key.secret);
  EXPECT_EQ(parsed.key.created_at, t0);
  EXPECT_EQ(parsed.key.id, 2) << "ids repeat every 255 keys";
  EXPECT_EQ(parse_sealing_key_file(text, 255).key.id, 255);
  const std::string secret_line = text.substr(text.find('\n') + 1);
  for (const std::string& bad :
       {std::string(), text.substr(0, text.size() - 1), "boltauth-created-at: soon\n" + secret_line,
        "boltauth-created-at: -5\n" + secret_line, secret_line, "boltauth-colour: blue\n" + text, text + "\n",
        text + "extra\n", std::string("boltauth-created-at: 1\nAAAA\n"), "boltauth-created-at: 1\r\n" + secret_line}) {
    EXPECT_THROW(parse_sealing_key_file(bad, 1), std::runtime_error) << bad;
  }
}

TEST(SealingKeyFilesTest, MalformedFileIsAClearErrorNamingIt) {
  testing::TempDir dir;
  KeyFiles files(dir.path());
  files.ensure_sealing_key(t0);
  std::ofstream(files.sealing_dir() / "0002.key") << "boltauth-created-at: 12\nnot a key\n";
  try {
    files.sealing_keys();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("0002.key"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SealingKeyDirectory(files.sealing_dir(), 3600, t0), std::runtime_error);
}

TEST(SealingKeyDirectoryTest, RotationSealsWithTheNewKeyAndTheOldOneOpensUntilRetentionEnds) {
  testing::TempDir dir;
  KeyFiles files(dir.path());
  files.ensure_sealing_key(t0);
  constexpr std::int64_t retention = 1000;
  SealingKeyDirectory source(files.sealing_dir(), retention, t0);
  const auto first = source.sealer(t0);
  EXPECT_EQ(first->sealing_key_id(), 1);
  EXPECT_EQ(source.sealer(t0), first) << "unchanged directory: the same sealer";
  const std::string old_token = first->seal(sample_payload(t0));

  const auto added = files.rotate_sealing(t0 + 10);
  EXPECT_EQ(added.number, 2);
  EXPECT_EQ(added.key.id, 2);
  EXPECT_EQ(mode_of(files.sealing_dir() / "0002.key"), 0600u);
  const auto rotated = source.sealer(t0 + 11);
  EXPECT_EQ(rotated->sealing_key_id(), 2) << "the new key seals";
  EXPECT_EQ(rotated->open(old_token), sample_payload(t0)) << "the old key still opens";
  const std::string new_token = rotated->seal(sample_payload(t0 + 11));

  const auto before_end = source.sealer(t0 + 10 + retention - 1);
  EXPECT_TRUE(before_end->open(old_token));
  const auto after_end = source.sealer(t0 + 10 + retention);
  EXPECT_FALSE(after_end->open(old_token)) << "retired at successor created_at + retention";
  EXPECT_EQ(after_end->open(new_token), sample_payload(t0 + 11));
  EXPECT_EQ(after_end->sealing_key_id(), 2);

  const auto schedule = sealing_schedule(files.sealing_key_files(), t0 + 10 + retention, retention);
  ASSERT_EQ(schedule.size(), 2u);
  EXPECT_EQ(schedule[0].state, SealingKeyStatus::State::retired);
  EXPECT_EQ(schedule[0].opens_until, t0 + 10 + retention);
  EXPECT_EQ(schedule[1].state, SealingKeyStatus::State::seals);
}

TEST(SealingKeyDirectoryTest, ReloadSeesARotationByAnotherInstanceAtOnce) {
  testing::TempDir dir;
  KeyFiles(dir.path()).ensure_sealing_key(t0);
  SealingKeyDirectory source(KeyFiles(dir.path()).sealing_dir(), 3600, t0);
  const auto before = source.sealer(t0);
  const auto added = KeyFiles(dir.path()).rotate_sealing(t0);
  // Within the same second the directory is not looked at again (hot path)...
  EXPECT_EQ(source.sealer(t0), before);
  // ... but reload() looks at once: a token named key 2, which this sealer lacks.
  const auto reloaded = source.reload(t0);
  EXPECT_EQ(reloaded->sealing_key_id(), added.key.id);
  EXPECT_EQ(source.sealer(t0), reloaded);
  // And a rotation becomes visible by itself one second later.
  KeyFiles(dir.path()).rotate_sealing(t0 + 1);
  EXPECT_EQ(source.sealer(t0 + 2)->sealing_key_id(), 3);
}

TEST(SealingKeyDirectoryTest, ForcedReloadsAreCappedPerSecond) {
  testing::TempDir dir;
  KeyFiles(dir.path()).ensure_sealing_key(t0);
  SealingKeyDirectory source(KeyFiles(dir.path()).sealing_dir(), 3600, t0);
  const auto before = source.sealer(t0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(source.reload(t0), before) << "tokens naming unknown ids";
  KeyFiles(dir.path()).rotate_sealing(t0);
  EXPECT_EQ(source.reload(t0), before) << "the fifth forced look within one second is skipped";
  EXPECT_EQ(source.reload(t0 + 1)->sealing_key_id(), 2) << "the next second looks again";
}

TEST(SealingKeyDirectoryTest, KeepsTheNewerOfTwoLiveKeysWithTheSameId) {
  std::vector<KeyFiles::SealingKeyFile> files;
  for (long n = 1; n <= 257; ++n) {
    KeyFiles::SealingKeyFile f;
    f.number = n;
    f.key.id = static_cast<std::uint8_t>(((n - 1) % 255) + 1);
    f.key.created_at = t0 + n;
    files.push_back(f);
  }
  const auto schedule = sealing_schedule(files, t0 + 300, 1'000'000);
  EXPECT_EQ(schedule[0].state, SealingKeyStatus::State::retired) << "key 1 (id 1) gave way to key 256 (id 1)";
  EXPECT_EQ(schedule[1].state, SealingKeyStatus::State::retired) << "key 2 (id 2) gave way to key 257 (id 2)";
  EXPECT_EQ(schedule[2].state, SealingKeyStatus::State::opens);
  EXPECT_EQ(schedule[255].state, SealingKeyStatus::State::opens);
  EXPECT_EQ(schedule[256].state, SealingKeyStatus::State::seals);
  std::vector<crypto::SealingKey> live;
  for (std::size_t i = 0; i < schedule.size(); ++i)
    if (schedule[i].state != SealingKeyStatus::State::retired) live.push_back(files[i].key);
  EXPECT_NO_THROW(crypto::TokenSealer{live}) << "no duplicate id reaches the sealer";
}

}  // namespace
}  // namespace boltauth::server
