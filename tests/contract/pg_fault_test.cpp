// Failures of the server itself, on a cluster these tests own (the shared one must stay up): a restart while
// requests run, a server that is down, and a crash right after a write returned.
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "contract/pg_test_support.hpp"
#include "store/postgres/pg_connection.hpp"

namespace boltauth::contract {
namespace {

using core::ports::ConsumeOutcome;
using core::ports::StorageError;
using store::postgres::PgConnection;
using store::postgres::PgError;

/// One cluster for this process's fault tests, started on first use.
testing::PgCluster& own_cluster() {
  static testing::PgCluster cluster;
  return cluster;
}

class PgFault : public ::testing::Test {
 protected:
  void SetUp() override {
    // A test that failed half-way may have left it stopped.
    try {
      own_cluster().query(own_cluster().maintenance_url(), "SELECT 1");
    } catch (const std::exception&) {
      own_cluster().start();
    }
  }
};

TEST_F(PgFault, ARestartFailsWhatIsInFlightTransientlyAndThePoolRecoversByItself) {
  PgTestDatabase database(own_cluster());
  PgStoreSet stores(pg_options(database.url(), 4));
  ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
  const auto id = stores.grants().insert_grant(make_grant("g", "client-a", t0));
  // Every pooled connection open and warm.
  std::vector<std::jthread> warm;
  for (int i = 0; i < 4; ++i)
    warm.emplace_back([&] { stores.db().run([](PgConnection& c) { c.exec("SELECT pg_sleep(0.1)"); }); });
  warm.clear();

  // A statement in flight when the server goes down fails with a transient error (503 upstream), never a permanent
  // one and never a hang.
  auto in_flight = std::async(std::launch::async, [&] {
    try {
      stores.db().run([](PgConnection& c) { c.exec("SELECT pg_sleep(30)"); });
      return std::string("completed");
    } catch (const StorageError& e) {
      return std::string(e.transient() ? "transient: " : "permanent: ") + e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  own_cluster().stop();
  const auto outcome = in_flight.get();
  EXPECT_EQ(outcome.rfind("transient: ", 0), 0u) << outcome;

  // While the server is down: transient errors, fast.
  const auto started = std::chrono::steady_clock::now();
  try {
    stores.grants().find_grant(id);
    ADD_FAILURE() << "read from a stopped server";
  } catch (const StorageError& e) {
    EXPECT_TRUE(e.transient()) << e.what();
  }
  EXPECT_FALSE(stores.db().ping());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));

  own_cluster().start();
  // Back up: the same pool serves again without a process restart. Connections the server ended while idle are
  // found dead when leased and replaced, so not even the first calls fail.
  for (int i = 0; i < 20; ++i) EXPECT_NO_THROW(stores.grants().find_grant(id)) << i;
  EXPECT_TRUE(stores.db().ping());
  EXPECT_EQ(stores.grants().redeem(id, t0 + 1, t0 + 100), ConsumeOutcome::consumed);
  EXPECT_EQ(stores.grants().redeem(id, t0 + 1, t0 + 100), ConsumeOutcome::lost);
}

TEST_F(PgFault, RequestsRunningThroughARestartFailTransientlyOrSucceedAndNothingIsDoubleSpent) {
  PgTestDatabase database(own_cluster());
  PgStoreSet stores(pg_options(database.url(), 8));
  ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
  const auto id = stores.grants().insert_grant(make_grant("g", "client-a", t0));
  ASSERT_EQ(stores.grants().redeem(id, t0 + 1, t0 + 100000), ConsumeOutcome::consumed);

  // Eight threads rotate one grant in a loop while the server restarts under them. Each rotation that reports
  // `consumed` advanced the generation exactly once; failures are transient only.
  std::atomic<bool> stop{false};
  std::atomic<int> consumed{0};
  std::atomic<int> transient{0};
  std::atomic<int> permanent{0};
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&] {
        while (!stop) {
          try {
            const auto generation = stores.grants().find_grant(id).value().generation;
            if (stores.grants().rotate(id, generation, t0 + 2, t0 + 100000) == ConsumeOutcome::consumed) ++consumed;
          } catch (const StorageError& e) {
            ++(e.transient() ? transient : permanent);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    own_cluster().restart();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
  }
  EXPECT_EQ(permanent.load(), 0);
  EXPECT_GT(transient.load(), 0) << "the restart was seen";
  // A rotation whose COMMIT answer was lost in the restart may have happened without being counted.
  const auto generation = stores.grants().find_grant(id).value().generation;
  EXPECT_GE(generation, 1 + consumed.load());
  EXPECT_LE(generation, 1 + consumed.load() + transient.load());
  EXPECT_GT(consumed.load(), 0);
}

TEST_F(PgFault, ADeferredBatchThatCannotCommitSettlesFailedAndTheNextOneCommits) {
  using Settled = core::ports::CommitGate::Settled;
  PgTestDatabase database(own_cluster());
  PgStoreSet stores(pg_options(database.url(), 2));
  ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
  const auto id = stores.grants().insert_grant(make_grant("g", "client-a", t0));
  auto settle = [&](const core::ports::CommitGate::Ticket& ticket) {
    std::promise<Settled> promise;
    auto outcome = promise.get_future();
    stores.db().when_settled(ticket, [&promise](Settled s) { promise.set_value(s); });
    EXPECT_EQ(outcome.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return outcome.get();
  };
  own_cluster().stop();
  stores.db().begin_deferred();
  EXPECT_EQ(stores.grants().redeem(id, t0 + 1, t0 + 1000), ConsumeOutcome::consumed) << "the prediction";
  auto ticket = stores.db().end_deferred();
  // No answer may rest on it: the transport turns `failed` into 503 + Retry-After.
  EXPECT_EQ(settle(ticket), Settled::failed);
  own_cluster().start();
  EXPECT_FALSE(stores.grants().find_grant(id)->redeemed_at.has_value()) << "nothing of the failed batch was kept";
  stores.db().begin_deferred();
  stores.grants().redeem(id, t0 + 2, t0 + 1000);
  ticket = stores.db().end_deferred();
  EXPECT_EQ(settle(ticket), Settled::durable);
  EXPECT_EQ(stores.grants().find_grant(id)->redeemed_at, t0 + 2);
}

TEST_F(PgFault, AWriteThatReturnedSurvivesACrash) {
  PgTestDatabase database(own_cluster());
  std::int64_t id = 0;
  std::int64_t pending = 0;
  {
    PgStoreSet stores(pg_options(database.url(), 2));
    ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
    id = stores.grants().insert_grant(make_grant("g", "client-a", t0));
    ASSERT_EQ(stores.grants().redeem(id, t0 + 1, t0 + 1000), ConsumeOutcome::consumed);
    ASSERT_EQ(stores.grants().rotate(id, 1, t0 + 2, t0 + 2000), ConsumeOutcome::consumed);
    stores.grants().deny_token(id, 0x8000'0000'0000'0001ULL, t0 + 3600);
    pending = stores.grants().insert_grant(make_grant("p", "client-a", t0));
    ASSERT_TRUE(stores.secrets().insert_secret({"sealing", 1, "", t0, t0, "sealed-bytes"}));
    // Immediate stop: the server dies like a crash (no shutdown checkpoint); only what its WAL fsync kept remains.
    own_cluster().stop();
  }
  own_cluster().start();
  PgStoreSet stores(pg_options(database.url(), 2));
  const auto g = stores.grants().find_grant(id);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->generation, 2);
  EXPECT_EQ(g->expires_at, t0 + 2000);
  EXPECT_TRUE(stores.grants().is_denied(id, 0x8000'0000'0000'0001ULL));
  EXPECT_TRUE(stores.grants().find_grant(pending).has_value());
  EXPECT_EQ(stores.clients().find("client-a"), make_client("client-a"));
  EXPECT_EQ(stores.secrets().secrets("sealing").size(), 1u);
  EXPECT_EQ(stores.grants().rotate(id, 1, t0 + 3, t0 + 3000), ConsumeOutcome::lost) << "single use survives";
  // Ids handed out before the crash are not handed out again.
  EXPECT_GT(stores.grants().insert_grant(make_grant("n", "client-a", t0)), pending);
}

TEST_F(PgFault, ThrottleCountsMayBeLostInACrashButTheStoreKeepsWorking) {
  PgTestDatabase database(own_cluster());
  {
    PgStoreSet stores(pg_options(database.url(), 1));
    stores.throttle().record_failure("k", 1000, 60);
    own_cluster().stop();
  }
  own_cluster().start();
  PgStoreSet stores(pg_options(database.url(), 1));
  // UNLOGGED: crash recovery empties the table (the port allows it; throttling just starts over).
  EXPECT_EQ(stores.throttle().find_failures("k"), std::nullopt);
  EXPECT_EQ(stores.throttle().record_failure("k", 1001, 60).failures, 1);
}

}  // namespace
}  // namespace boltauth::contract
