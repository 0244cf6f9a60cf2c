// Server secrets in a shared database (DbKeyMaterial and its sources) on an in-memory SecretStore: the check
// record, race-free creation between nodes, rotations seen by other nodes, retention, and records that do not
// open.
#include "server/db_key_material.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <set>
#include <thread>

#include "core/ports/storage_error.hpp"

namespace boltauth::server {
namespace {

using core::ports::SecretRecord;

constexpr base::UnixSeconds t0 = 1'800'000'000;

/// What a database gives: insert-if-absent on (kind, number), records by number, a version that moves with
/// every insert. Counts its calls, can fail like a database that went away, and can run a hook right before an
/// insert (another node getting there first).
class MemorySecretStore final : public core::ports::SecretStore {
 public:
  bool insert_secret(const SecretRecord& record) override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mutex_);
      fail_if_down();
      hook.swap(before_insert_);  // once, and outside the lock: the hook uses this store too
    }
    if (hook) hook();
    std::lock_guard lock(mutex_);
    fail_if_down();
    ++inserts_;
    const bool added = rows_.try_emplace({record.kind, record.number}, record).second;
    if (added) ++version_;
    return added;
  }
  std::vector<SecretRecord> secrets(std::string_view kind) override {
    std::lock_guard lock(mutex_);
    fail_if_down();
    ++reads_;
    std::vector<SecretRecord> out;
    for (const auto& [key, r] : rows_)
      if (key.first == kind) out.push_back(r);  // the map orders them by number within a kind
    return out;
  }
  std::int64_t secrets_version() override {
    std::lock_guard lock(mutex_);
    fail_if_down();
    ++version_reads_;
    return version_;
  }

  // ---- for the tests ----
  /// Writes or replaces a record as a person with database access could (bumps the version).
  void put(const SecretRecord& record) {
    std::lock_guard lock(mutex_);
    rows_[{record.kind, record.number}] = record;
    ++version_;
  }
  SecretRecord get(const std::string& kind, std::int64_t number) {
    std::lock_guard lock(mutex_);
    return rows_.at({kind, number});
  }
  std::size_t count(const std::string& kind) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [key, r] : rows_) n += key.first == kind ? 1 : 0;
    return n;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return rows_.size();
  }
  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  void before_next_insert(std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    before_insert_ = std::move(hook);
  }
  struct Calls {
    int version_reads = 0;
    int reads = 0;
    int inserts = 0;
  };
  Calls take_calls() {
    std::lock_guard lock(mutex_);
    Calls c{version_reads_, reads_, inserts_};
    version_reads_ = reads_ = inserts_ = 0;
    return c;
  }

 private:
  void fail_if_down() const {
    if (down_) throw core::ports::StorageError("database unreachable", true);
  }

  std::mutex mutex_;
  std::map<std::pair<std::string, std::int64_t>, SecretRecord> rows_;
  std::int64_t version_ = 0;
  bool down_ = false;
  std::function<void()> before_insert_;
  int version_reads_ = 0;
  int reads_ = 0;
  int inserts_ = 0;
};

MasterKey master(std::uint8_t fill, std::string file = "/etc/boltauth/master.key") {
  MasterKey key;
  key.bytes.fill(fill);
  key.file = std::move(file);
  return key;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

crypto::SealedPayload sample_payload(base::UnixSeconds at) {
  crypto::SealedPayload p;
  p.kind = crypto::SealedKind::refresh_token;
  p.grant_id = 7;
  p.issued_at = at;
  p.expires_at = at + 60;
  p.jti = 99;
  return p;
}

std::size_t published(const core::KeyRing& ring) { return ring.jwks().at("keys").as_array().size(); }

// ---- the check record and a wrong master key ---------------------------------------------------------------

TEST(DbKeyMaterial, FirstOpenWritesACheckRecordThatTheSameKeyOpensAgain) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial first(store, master(1), random);
  ASSERT_EQ(store.count("check"), 1u);
  const SecretRecord check = store.get("check", 1);
  EXPECT_EQ(check.alg, "");
  EXPECT_EQ(check.sealed.find(DbKeyMaterial::kCheckText), std::string::npos) << "sealed, not in clear";
  EXPECT_EQ(SecretCipher(master(1)).open(check), std::string(DbKeyMaterial::kCheckText));
  EXPECT_NO_THROW(DbKeyMaterial again(store, master(1, "/elsewhere/copy.key"), random))
      << "the same key from another path";
  EXPECT_EQ(store.size(), 1u) << "a second open writes nothing";
}

TEST(DbKeyMaterial, WrongMasterKeyIsRefusedWithAClearMessageAndWritesNothing) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  {
    DbKeyMaterial node(store, master(1), random);
    node.master_key(random);
    node.ensure_sealing_key(t0);
  }
  const std::size_t before = store.size();
  const std::string message =
      error_of([&] { DbKeyMaterial wrong(store, master(2, "/etc/boltauth/other.key"), random); });
  EXPECT_EQ(message,
            "the master key file /etc/boltauth/other.key does not open this database's secrets: use the file the "
            "database was set up with");
  EXPECT_EQ(store.size(), before) << "never new keys beside the database's own";
}

TEST(DbKeyMaterial, WrongMasterKeyIsRefusedEvenOnADatabaseWithOnlyItsCheckRecord) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  { DbKeyMaterial setup(store, master(1), random); }
  EXPECT_NE(
      error_of([&] { DbKeyMaterial wrong(store, master(2), random); }).find("does not open this database's secrets"),
      std::string::npos);
  EXPECT_EQ(store.size(), 1u);
}

TEST(DbKeyMaterial, AlteredCheckRecordIsRefusedLikeAWrongKey) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  { DbKeyMaterial setup(store, master(1), random); }
  SecretRecord check = store.get("check", 1);
  check.sealed.back() = static_cast<char>(check.sealed.back() ^ 1);
  store.put(check);
  EXPECT_NE(
      error_of([&] { DbKeyMaterial reopened(store, master(1), random); }).find("does not open this database's secrets"),
      std::string::npos);

  // A check record that opens but says something else (sealed by this key for another purpose) fails too.
  SecretRecord other = store.get("check", 1);
  other.sealed = SecretCipher(master(1)).seal(other, "not the check text", random);
  store.put(other);
  EXPECT_NE(
      error_of([&] { DbKeyMaterial reopened(store, master(1), random); }).find("does not open this database's secrets"),
      std::string::npos);
}

TEST(DbKeyMaterial, SecretsWithoutACheckRecordAreRefused) {
  for (const std::string kind : {"hash", "signing", "sealing"}) {
    MemorySecretStore store;
    base::SeededRandom random(1);
    SecretRecord r;
    r.kind = kind;
    r.number = 1;
    r.sealed = "whatever";
    store.put(r);
    const std::string message = error_of([&] { DbKeyMaterial node(store, master(1), random); });
    EXPECT_NE(message.find("holds server secrets (" + kind + ") but no check record"), std::string::npos) << message;
    EXPECT_EQ(store.count("check"), 0u) << "no check record written for a key nobody verified";
  }
}

// ---- creating keys -----------------------------------------------------------------------------------------

TEST(DbKeyMaterial, KeyedHashKeyIsCreatedOnceAndTheSameForEveryNode) {
  MemorySecretStore store;
  base::SeededRandom random_a(1);
  base::SeededRandom random_b(2);
  DbKeyMaterial a(store, master(1), random_a);
  DbKeyMaterial b(store, master(1), random_b);
  const auto key = a.master_key(random_a);
  EXPECT_EQ(b.master_key(random_b), key);
  EXPECT_EQ(a.master_key(random_a), key);
  EXPECT_EQ(store.count("hash"), 1u);
  EXPECT_NE(key, master(1).bytes) << "a random key of its own, not the master key file's";
  const SecretRecord r = store.get("hash", 1);
  EXPECT_EQ(r.sealed.find(std::string(key.begin(), key.end())), std::string::npos);
}

TEST(DbKeyMaterial, EnsureCreatesOneSigningKeyPerAlgOnceAndRotateAppends) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_signing_keys(2048, t0);
  node.ensure_signing_keys(2048, t0 + 5);
  auto keys = node.scheduled_keys();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].key->alg(), "RS256");
  EXPECT_EQ(keys[1].key->alg(), "ES256");
  EXPECT_EQ(keys[2].key->alg(), "EdDSA");
  EXPECT_EQ(keys[1].created_at, t0);
  EXPECT_EQ(keys[1].activates_at, t0);
  for (std::int64_t n = 1; n <= 3; ++n) {
    const SecretRecord r = store.get("signing", n);
    EXPECT_EQ(r.alg, keys[static_cast<std::size_t>(n - 1)].key->alg());
    EXPECT_EQ(r.sealed.find("PRIVATE KEY"), std::string::npos) << "the PEM is sealed";
  }
  const auto added = node.rotate("EdDSA", 2048, t0 + 10, 600);
  keys = node.scheduled_keys();
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[3].key->kid(), added.key->kid());
  EXPECT_EQ(keys[3].created_at, t0 + 10);
  EXPECT_EQ(keys[3].activates_at, t0 + 610);
  EXPECT_EQ(store.get("signing", 4).activates_at, t0 + 610);
}

// Another node's insert lands between this node's read and its insert: this one's is refused, it reads again
// and takes the other's key instead of adding a second one.
TEST(DbKeyMaterial, LosingARaceTakesTheWinnersKey) {
  MemorySecretStore store;
  base::SeededRandom random_a(1);
  base::SeededRandom random_b(2);
  DbKeyMaterial a(store, master(1), random_a);
  DbKeyMaterial b(store, master(1), random_b);

  std::array<std::uint8_t, 32> winner_hash{};
  store.before_next_insert([&] { winner_hash = b.master_key(random_b); });
  EXPECT_EQ(a.master_key(random_a), winner_hash);
  EXPECT_EQ(store.count("hash"), 1u);

  store.before_next_insert([&] { b.ensure_sealing_key(t0 + 1); });
  a.ensure_sealing_key(t0);
  ASSERT_EQ(store.count("sealing"), 1u);
  EXPECT_EQ(a.sealing_key_files().at(0).key.created_at, t0 + 1) << "the winner's key";

  store.before_next_insert([&] { b.rotate("RS256", 2048, t0 + 1, 0); });
  a.ensure_signing_keys(2048, t0);
  const auto keys = a.scheduled_keys();
  ASSERT_EQ(keys.size(), 3u) << "one key per alg";
  EXPECT_EQ(keys[0].key->alg(), "RS256");
  EXPECT_EQ(keys[0].created_at, t0 + 1) << "the winner's RS256 key";

  // A rotation that loses takes the next number instead: both keys stay.
  store.before_next_insert([&] { b.rotate_sealing(t0 + 2); });
  const auto added = a.rotate_sealing(t0 + 3);
  EXPECT_EQ(added.number, 3);
  EXPECT_EQ(added.key.id, 3);
  ASSERT_EQ(store.count("sealing"), 3u);
  EXPECT_EQ(a.sealing_key_files().at(2).key.secret, added.key.secret);
}

TEST(DbKeyMaterial, EightThreadsOnTwoNodesStartingAtOnceEndWithOneKeyOfEachKind) {
  MemorySecretStore store;
  base::SeededRandom random_a(1);
  base::SeededRandom random_b(2);
  DbKeyMaterial a(store, master(1), random_a);
  DbKeyMaterial b(store, master(1), random_b);
  std::latch start(8);
  std::vector<std::array<std::uint8_t, 32>> hash_keys(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      DbKeyMaterial& node = i % 2 == 0 ? a : b;
      base::Random& random = i % 2 == 0 ? static_cast<base::Random&>(random_a) : random_b;
      start.arrive_and_wait();
      node.ensure_sealing_key(t0 + i);
      hash_keys[static_cast<std::size_t>(i)] = node.master_key(random);
      node.ensure_signing_keys(2048, t0 + i);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store.count("check"), 1u);
  EXPECT_EQ(store.count("hash"), 1u);
  EXPECT_EQ(store.count("sealing"), 1u);
  ASSERT_EQ(store.count("signing"), 3u);
  for (const auto& k : hash_keys) EXPECT_EQ(k, hash_keys[0]);
  std::set<std::string> algs;
  for (const auto& k : b.scheduled_keys()) algs.insert(k.key->alg());
  EXPECT_EQ(algs, (std::set<std::string>{"RS256", "ES256", "EdDSA"}));
  EXPECT_EQ(a.sealing_key_files().at(0).key.secret, b.sealing_key_files().at(0).key.secret);
}

TEST(DbKeyMaterial, ARecordMovedToAnotherNumberOrKindIsRefusedNamingIt) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_sealing_key(t0);
  SecretRecord moved = store.get("sealing", 1);
  moved.number = 2;
  store.put(moved);
  EXPECT_NE(error_of([&] { node.sealing_key_files(); }).find("sealing secret 2 does not open under the master key"),
            std::string::npos);

  SecretRecord as_hash = store.get("sealing", 1);
  as_hash.kind = "hash";
  store.put(as_hash);
  EXPECT_NE(error_of([&] { node.master_key(random); }).find("hash secret 1 does not open"), std::string::npos);
}

TEST(DbKeyMaterial, SigningRecordWhoseAlgColumnLiesIsRefused) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  SecretRecord r;
  r.kind = "signing";
  r.number = 1;
  r.alg = "RS256";  // authenticated, so only a writer holding the master key could do this: still refused
  r.created_at = r.activates_at = t0;
  r.sealed = SecretCipher(master(1)).seal(r, crypto::SigningKey::generate_ed25519().private_pem(), random);
  store.put(r);
  EXPECT_NE(error_of([&] { node.scheduled_keys(); }).find("says RS256 but holds an EdDSA key"), std::string::npos);
}

// ---- the key source ----------------------------------------------------------------------------------------

TEST(DbKeySource, RotationOnOneNodeIsSeenByAnothersRingAfterThePollSecond) {
  MemorySecretStore store;
  base::SeededRandom random_a(1);
  base::SeededRandom random_b(2);
  DbKeyMaterial a(store, master(1), random_a);
  DbKeyMaterial b(store, master(1), random_b);
  a.ensure_signing_keys(2048, t0 - 10);
  const auto source = b.key_source(3600);
  const auto before = source->ring(t0);
  EXPECT_EQ(published(*before), 3u);
  EXPECT_EQ(source->ring(t0), before) << "unchanged, same instant: the same ring";

  const auto added = a.rotate("ES256", 2048, t0, 100);
  EXPECT_EQ(source->ring(t0), before) << "within the second already polled, the store is not asked again";
  const auto after = source->ring(t0 + 1);
  EXPECT_EQ(published(*after), 4u) << "published from the next second on";
  EXPECT_NE(after->signing_key("ES256")->kid(), added.key->kid()) << "not signing before its activation";
  EXPECT_EQ(source->ring(t0 + 100)->signing_key("ES256")->kid(), added.key->kid()) << "signs after the delay";
  EXPECT_EQ(published(*source->ring(t0 + 100 + 3600)), 3u) << "the old key is unpublished";
}

TEST(DbKeySource, ARotationThroughTheSameMaterialIsSeenAtOnce) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_signing_keys(2048, t0 - 10);
  const auto source = node.key_source(3600);
  EXPECT_EQ(published(*source->ring(t0)), 3u);
  const auto added = node.rotate("ES256", 2048, t0, 100);
  const auto after = source->ring(t0);
  EXPECT_EQ(published(*after), 4u) << "this node's own rotation: published within the same second";
  EXPECT_EQ(source->ring(t0), after) << "and looked for once";
  EXPECT_EQ(source->ring(t0 + 100)->signing_key("ES256")->kid(), added.key->kid());
}

TEST(DbSealerSource, ARotationThroughTheSameMaterialSealsAtOnce) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_sealing_key(t0);
  const auto source = node.sealer_source(3600, t0);
  const auto before = source->sealer(t0);
  const auto added = node.rotate_sealing(t0);
  EXPECT_EQ(source->sealer(t0)->sealing_key_id(), added.key.id) << "without waiting for the next second";
}

TEST(DbKeySource, AsksTheStoreAtMostOncePerSecondAndReadsRecordsOnlyWhenTheyChanged) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_signing_keys(2048, t0 - 10);
  node.ensure_sealing_key(t0 - 10);
  const auto source = node.key_source(3600);
  const auto first = source->ring(t0);
  store.take_calls();
  for (int i = 0; i < 1000; ++i) source->ring(t0);
  auto calls = store.take_calls();
  EXPECT_EQ(calls.version_reads, 0);
  EXPECT_EQ(calls.reads, 0);

  EXPECT_EQ(source->ring(t0 + 1), first);
  source->ring(t0 + 1);
  calls = store.take_calls();
  EXPECT_EQ(calls.version_reads, 1) << "one cheap look in a new second";
  EXPECT_EQ(calls.reads, 0) << "no records read: nothing changed";

  node.rotate_sealing(t0 + 1);  // another kind moves the version
  store.take_calls();
  EXPECT_EQ(source->ring(t0 + 2), first) << "the same signing keys, the same ring";
  calls = store.take_calls();
  EXPECT_EQ(calls.version_reads, 1);
  EXPECT_EQ(calls.reads, 1);
}

TEST(DbKeySource, DecryptsOnlyRecordsItHasNotLoaded) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_signing_keys(2048, t0 - 10);
  const auto source = node.key_source(3600);
  const auto before = source->ring(t0);
  // Spoil a record the source has loaded: were it decrypted again, the poll would fail and keep the old ring.
  SecretRecord spoiled = store.get("signing", 1);
  spoiled.sealed.back() = static_cast<char>(spoiled.sealed.back() ^ 1);
  store.put(spoiled);
  const auto added = node.rotate("EdDSA", 2048, t0, 0);
  const auto after = source->ring(t0 + 1);
  EXPECT_EQ(published(*after), 4u);
  EXPECT_EQ(after->signing_key("EdDSA")->kid(), added.key->kid());
  EXPECT_EQ(after->signing_key("RS256")->kid(), before->signing_key("RS256")->kid());
}

TEST(DbKeySource, KeepsSigningWhenTheStoreIsAwayOrANewRecordDoesNotOpen) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_signing_keys(2048, t0 - 10);
  const auto source = node.key_source(3600);
  const auto before = source->ring(t0);
  store.set_down(true);
  EXPECT_EQ(source->ring(t0 + 1), before);
  store.set_down(false);

  SecretRecord foreign;
  foreign.kind = "signing";
  foreign.number = 4;
  foreign.alg = "ES256";
  foreign.sealed = "not sealed by us";
  store.put(foreign);
  EXPECT_EQ(published(*source->ring(t0 + 2)), 3u) << "the keys loaded before";
  EXPECT_THROW(node.scheduled_keys(), std::runtime_error) << "while the listing names the bad record";
}

TEST(DbKeySource, NoSigningKeyIsAnError) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  EXPECT_THROW(node.key_source(3600), std::runtime_error);
  EXPECT_THROW(node.sealer_source(3600, t0), std::runtime_error);
}

// ---- the sealer source -------------------------------------------------------------------------------------

TEST(DbSealerSource, RotationSealsWithTheNewKeyAndTheOldOneOpensUntilRetentionEnds) {
  MemorySecretStore store;
  base::SeededRandom random_a(1);
  base::SeededRandom random_b(2);
  DbKeyMaterial a(store, master(1), random_a);
  DbKeyMaterial b(store, master(1), random_b);
  a.ensure_sealing_key(t0);
  constexpr std::int64_t retention = 1000;
  const auto source = b.sealer_source(retention, t0);
  const auto first = source->sealer(t0);
  EXPECT_EQ(first->sealing_key_id(), 1);
  EXPECT_EQ(source->sealer(t0), first) << "unchanged: the same sealer";
  const std::string old_token = first->seal(sample_payload(t0));

  const auto added = a.rotate_sealing(t0 + 10);
  EXPECT_EQ(added.number, 2);
  EXPECT_EQ(added.key.id, 2);
  const auto rotated = source->sealer(t0 + 11);
  EXPECT_EQ(rotated->sealing_key_id(), 2) << "the new key seals";
  EXPECT_EQ(rotated->open(old_token), sample_payload(t0)) << "the old key still opens";
  const std::string new_token = rotated->seal(sample_payload(t0 + 11));

  EXPECT_TRUE(source->sealer(t0 + 10 + retention - 1)->open(old_token));
  const auto after_end = source->sealer(t0 + 10 + retention);
  EXPECT_FALSE(after_end->open(old_token)) << "retired at successor created_at + retention";
  EXPECT_EQ(after_end->open(new_token), sample_payload(t0 + 11));

  const auto schedule = sealing_schedule(b.sealing_key_files(), t0 + 10 + retention, retention);
  ASSERT_EQ(schedule.size(), 2u);
  EXPECT_EQ(schedule[0].state, SealingKeyStatus::State::retired);
  EXPECT_EQ(schedule[0].opens_until, t0 + 10 + retention);
  EXPECT_EQ(schedule[1].state, SealingKeyStatus::State::seals);
}

TEST(DbSealerSource, ReloadForAnUnknownKeyIdSeesAnotherNodesRotationAtOnce) {
  MemorySecretStore store;
  base::SeededRandom random_a(1);
  base::SeededRandom random_b(2);
  DbKeyMaterial a(store, master(1), random_a);
  DbKeyMaterial b(store, master(1), random_b);
  a.ensure_sealing_key(t0);
  const auto source = b.sealer_source(3600, t0);
  const auto before = source->sealer(t0);
  const auto added = a.rotate_sealing(t0);
  EXPECT_EQ(source->sealer(t0), before) << "within the second: the store is not asked";
  const auto reloaded = source->reload(t0);  // a token named key 2, which this sealer lacks
  EXPECT_EQ(reloaded->sealing_key_id(), added.key.id);
  EXPECT_EQ(source->sealer(t0), reloaded);
  a.rotate_sealing(t0 + 1);
  EXPECT_EQ(source->sealer(t0 + 2)->sealing_key_id(), 3) << "and by itself one second later";
}

TEST(DbSealerSource, ForcedReloadsAreCappedPerSecond) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  base::SeededRandom other_random(2);
  DbKeyMaterial node(store, master(1), random);
  DbKeyMaterial other_node(store, master(1), other_random);
  node.ensure_sealing_key(t0);
  const auto source = node.sealer_source(3600, t0);
  const auto before = source->sealer(t0);
  store.take_calls();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(source->reload(t0), before) << "tokens naming unknown ids";
  EXPECT_EQ(store.take_calls().version_reads, 4);
  other_node.rotate_sealing(t0);
  store.take_calls();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(source->reload(t0), before) << "past four forced looks in one second";
  EXPECT_EQ(store.take_calls().version_reads, 0);
  EXPECT_EQ(source->reload(t0 + 1)->sealing_key_id(), 2) << "the next second looks again";
}

TEST(DbSealerSource, KeysNumberedPast255ReuseIdsAndOnlyTheNewerOpens) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_sealing_key(t0);
  for (base::UnixSeconds i = 2; i <= 257; ++i) node.rotate_sealing(t0 + i);
  const auto keys = node.sealing_key_files();
  ASSERT_EQ(keys.size(), 257u);
  EXPECT_EQ(keys[254].key.id, 255);
  EXPECT_EQ(keys[255].key.id, 1) << "key 256";
  EXPECT_EQ(keys[256].key.id, 2) << "key 257";
  const auto schedule = sealing_schedule(keys, t0 + 300, 1'000'000);
  EXPECT_EQ(schedule[0].state, SealingKeyStatus::State::retired);
  EXPECT_EQ(schedule[2].state, SealingKeyStatus::State::opens);
  const auto source = node.sealer_source(1'000'000, t0 + 300);
  EXPECT_EQ(source->sealer(t0 + 300)->sealing_key_id(), 2) << "no two live keys share an id";
}

TEST(DbSealerSource, KeepsSealingWhenTheStoreIsAway) {
  MemorySecretStore store;
  base::SeededRandom random(1);
  DbKeyMaterial node(store, master(1), random);
  node.ensure_sealing_key(t0);
  const auto source = node.sealer_source(3600, t0);
  const auto before = source->sealer(t0);
  store.set_down(true);
  EXPECT_EQ(source->sealer(t0 + 1), before);
  EXPECT_EQ(source->reload(t0 + 1), before);
  store.set_down(false);
  node.rotate_sealing(t0 + 2);
  EXPECT_EQ(source->sealer(t0 + 2)->sealing_key_id(), 2);
}

// Request threads reading while another node rotates: every reader gets a usable sealer and ring at each
// instant, and all of them see the last rotation once its second has passed.
TEST(DbSealerSource, ConcurrentReadersAndRotationsAgree) {
  MemorySecretStore store;
  base::SeededRandom random_a(1);
  base::SeededRandom random_b(2);
  DbKeyMaterial a(store, master(1), random_a);
  DbKeyMaterial b(store, master(1), random_b);
  a.ensure_signing_keys(2048, t0);
  a.ensure_sealing_key(t0);
  const auto sealers = b.sealer_source(3600, t0);
  const auto keys = b.key_source(3600);
  std::atomic<base::UnixSeconds> now{t0};
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&, i] {
      while (!stop.load()) {
        const base::UnixSeconds t = now.load();
        const auto sealer = i == 0 ? sealers->reload(t) : sealers->sealer(t);
        const auto ring = keys->ring(t);
        if (!sealer || !ring || ring->algs().size() != 3 ||
            sealer->open(sealer->seal(sample_payload(t))) != sample_payload(t))
          ++bad;
      }
    });
  }
  for (int r = 0; r < 20; ++r) {
    a.rotate_sealing(now.load());
    now.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(sealers->sealer(now.load() + 1)->sealing_key_id(), 21);
  EXPECT_EQ(keys->ring(now.load() + 1)->algs().size(), 3u);
}

}  // namespace
}  // namespace boltauth::server
