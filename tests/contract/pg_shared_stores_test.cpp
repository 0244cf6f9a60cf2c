// The ports only PostgreSQL implements: failure counts shared by the nodes (ThrottleStore) and server secrets
// shared by the nodes (SecretStore).
#include <algorithm>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "contract/pg_test_support.hpp"

namespace boltauth::core::ports {
// The port's struct has no comparison; found by argument-dependent lookup from the assertions below.
inline bool operator==(const FailureWindow& a, const FailureWindow& b) {
  return a.window_start == b.window_start && a.failures == b.failures;
}
}  // namespace boltauth::core::ports

namespace boltauth::contract {
namespace {

using core::ports::ConsumeOutcome;
using core::ports::FailureWindow;
using core::ports::SecretRecord;

class PgSharedStores : public ::testing::Test {
 protected:
  PgTestDatabase database;
  PgStoreSet stores{pg_options(database.url(), 32)};
};

// --- ThrottleStore -----------------------------------------------------------------------------------------------

TEST_F(PgSharedStores, FailuresCountWithinTheWindowAndRestartAfterIt) {
  auto& t = stores.throttle();
  EXPECT_EQ(t.find_failures("k"), std::nullopt);
  EXPECT_EQ(t.record_failure("k", 1000, 60), (FailureWindow{1000, 1}));
  EXPECT_EQ(t.record_failure("k", 1030, 60), (FailureWindow{1000, 2}));
  EXPECT_EQ(t.record_failure("k", 1059, 60), (FailureWindow{1000, 3}));
  EXPECT_EQ(t.find_failures("k"), (FailureWindow{1000, 3}));
  EXPECT_EQ(t.record_failure("k", 1060, 60), (FailureWindow{1060, 1})) << "now == start + window: a new window";
  EXPECT_EQ(t.record_failure("k", 1061, 60), (FailureWindow{1060, 2}));
  EXPECT_EQ(t.record_failure("k", 900, 60), (FailureWindow{900, 1})) << "a window in the future (clock went back)";
  EXPECT_EQ(t.record_failure("other", 900, 60), (FailureWindow{900, 1})) << "keys are independent";
  EXPECT_EQ(t.find_failures("k"), (FailureWindow{900, 1}));
}

TEST_F(PgSharedStores, ClearFailuresForgetsOneKey) {
  auto& t = stores.throttle();
  t.record_failure("a", 1000, 60);
  t.record_failure("b", 1000, 60);
  t.clear_failures("a");
  t.clear_failures("never-seen");
  EXPECT_EQ(t.find_failures("a"), std::nullopt);
  EXPECT_EQ(t.find_failures("b"), (FailureWindow{1000, 1}));
  EXPECT_EQ(t.record_failure("a", 1001, 60), (FailureWindow{1001, 1}));
}

TEST_F(PgSharedStores, ClearRightAfterAFindThatSawNoWindowKeepsFailuresCountedMeanwhile) {
  auto& t = stores.throttle();
  store::postgres::PgThrottleStore other_node(stores.db());
  EXPECT_EQ(t.find_failures("k"), std::nullopt);
  // Another request counts a failure between this request's look and its success.
  std::thread([&] { other_node.record_failure("k", 1000, 60); }).join();
  t.clear_failures("k");
  EXPECT_EQ(t.find_failures("k"), (FailureWindow{1000, 1})) << "counted meanwhile: kept, not erased";
  t.clear_failures("k");
  EXPECT_EQ(t.find_failures("k"), std::nullopt) << "a success after a look that saw the window clears it";
  // Only the very next call, on this store, for the same key, skips.
  t.record_failure("k", 1000, 60);
  EXPECT_EQ(t.find_failures("j"), std::nullopt);
  t.clear_failures("k");
  EXPECT_EQ(t.find_failures("k"), std::nullopt) << "another key was looked up";
  t.record_failure("k", 1000, 60);
  EXPECT_EQ(t.find_failures("x"), std::nullopt);
  other_node.clear_failures("x");
  t.clear_failures("k");
  EXPECT_EQ(t.find_failures("k"), std::nullopt) << "another store's call came between";
}

TEST_F(PgSharedStores, PurgeFailuresDropsEndedWindowsOnly) {
  auto& t = stores.throttle();
  t.record_failure("old", 1000, 60);
  t.record_failure("edge", 1040, 60);
  t.record_failure("live", 1050, 60);
  EXPECT_EQ(t.purge_failures(1100, 60), 2);  // 1000 + 60 and 1040 + 60 <= 1100
  EXPECT_EQ(t.find_failures("old"), std::nullopt);
  EXPECT_EQ(t.find_failures("edge"), std::nullopt);
  EXPECT_EQ(t.find_failures("live"), (FailureWindow{1050, 1}));
  EXPECT_EQ(t.purge_failures(1100, 60), 0);
}

TEST_F(PgSharedStores, ThirtyTwoThreadsCountEveryFailureExactlyOnce) {
  constexpr int threads = 32;
  constexpr int per_thread = 10;
  std::mutex mutex;
  std::vector<std::int64_t> counts;
  const auto result = race(threads, [&](int) {
    for (int i = 0; i < per_thread; ++i) {
      const auto w = stores.throttle().record_failure("client|203.0.113.7", 5000, 60);
      EXPECT_EQ(w.window_start, 5000);
      std::lock_guard lock(mutex);
      counts.push_back(w.failures);
    }
    return ConsumeOutcome::consumed;
  });
  ASSERT_EQ(result.errors, 0);
  // Every call saw its own count: 1 .. 320, each once.
  std::sort(counts.begin(), counts.end());
  std::vector<std::int64_t> expected(threads * per_thread);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(counts, expected);
  EXPECT_EQ(stores.throttle().find_failures("client|203.0.113.7"), (FailureWindow{5000, threads * per_thread}));
}

TEST_F(PgSharedStores, FailureCountsLiveInAnUnloggedTable) {
  EXPECT_EQ(database.query("SELECT relpersistence FROM pg_class WHERE relname = 'auth_failures'"), "u");
}

// --- SecretStore -------------------------------------------------------------------------------------------------

SecretRecord secret(std::string kind, std::int64_t number, std::string sealed) {
  return SecretRecord{std::move(kind), number,        number % 2 == 0 ? "ES256" : "RS256",
                      1000 + number,   2000 + number, std::move(sealed)};
}

TEST_F(PgSharedStores, SecretsRoundTripEveryByteAndComeOrderedByNumber) {
  auto& s = stores.secrets();
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  ASSERT_TRUE(s.insert_secret(secret("signing", 2, every_byte)));
  ASSERT_TRUE(s.insert_secret(secret("signing", 1, std::string("\0\x01\xff", 3))));
  ASSERT_TRUE(s.insert_secret(secret("sealing", 1, "x")));
  ASSERT_TRUE(s.insert_secret(secret("signing", 10, "")));
  const std::vector<SecretRecord> expected = {secret("signing", 1, std::string("\0\x01\xff", 3)),
                                              secret("signing", 2, every_byte), secret("signing", 10, "")};
  EXPECT_EQ(s.secrets("signing"), expected);
  EXPECT_EQ(s.secrets("sealing"), std::vector<SecretRecord>{secret("sealing", 1, "x")});
  EXPECT_TRUE(s.secrets("hash").empty());
}

TEST_F(PgSharedStores, ATakenNumberIsRefusedAndTheFirstRecordKept) {
  auto& s = stores.secrets();
  ASSERT_TRUE(s.insert_secret(secret("signing", 1, "first")));
  EXPECT_FALSE(s.insert_secret(secret("signing", 1, "second")));
  EXPECT_EQ(s.secrets("signing"), std::vector<SecretRecord>{secret("signing", 1, "first")});
  EXPECT_TRUE(s.insert_secret(secret("sealing", 1, "another kind")));
}

TEST_F(PgSharedStores, ConcurrentInsertsOfOneNumberHaveExactlyOneWinner) {
  auto& s = stores.secrets();
  for (std::int64_t number = 1; number <= 5; ++number) {
    std::vector<char> won(32, 0);
    const auto result = race(32, [&](int thread) {
      const bool inserted = s.insert_secret(secret("signing", number, "node-" + std::to_string(thread)));
      won[static_cast<std::size_t>(thread)] = inserted ? 1 : 0;
      return inserted ? ConsumeOutcome::consumed : ConsumeOutcome::lost;
    });
    EXPECT_EQ(result.consumed, 1) << number;
    EXPECT_EQ(result.lost, 31) << number;
    const auto winner = std::find(won.begin(), won.end(), 1) - won.begin();
    const auto records = s.secrets("signing");
    ASSERT_EQ(records.size(), static_cast<std::size_t>(number));
    EXPECT_EQ(records.back(), secret("signing", number, "node-" + std::to_string(winner))) << "the winner's record";
  }
}

TEST_F(PgSharedStores, SecretsVersionChangesWithEveryAddedRecordOnly) {
  auto& s = stores.secrets();
  const auto v0 = s.secrets_version();
  ASSERT_TRUE(s.insert_secret(secret("signing", 1, "a")));
  const auto v1 = s.secrets_version();
  EXPECT_NE(v1, v0);
  EXPECT_EQ(s.secrets_version(), v1) << "stable while nothing changes";
  EXPECT_FALSE(s.insert_secret(secret("signing", 1, "b")));
  EXPECT_EQ(s.secrets_version(), v1) << "a refused insert changes nothing";
  ASSERT_TRUE(s.insert_secret(secret("sealing", 1, "c")));
  const auto v2 = s.secrets_version();
  EXPECT_NE(v2, v1);
  EXPECT_NE(v2, v0);
  // Another node (pool) sees the same version.
  store::postgres::PgDatabase other(pg_options(database.url(), 1));
  EXPECT_EQ(store::postgres::PgSecretStore(other).secrets_version(), v2);
}

}  // namespace
}  // namespace boltauth::contract
