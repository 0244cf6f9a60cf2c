// The PostgreSQL read-ahead without waiting: many requests' reads in flight on one thread's connection at once, each
// answered with its own rows while its `done` runs (no further round trip), nothing held once it returned, and a
// broken connection answering every waiting request with nothing held (each then reads for itself).
#include <poll.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "contract/pg_test_support.hpp"
#include "contract/poll_loop.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_read_ahead.hpp"

namespace boltauth::contract {
namespace {

using store::postgres::PgConnection;
using store::postgres::PgReadAhead;

class PgReadAheadAsync : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(stores_.clients().insert(make_client("client-a")));
    for (int i = 0; i < kGrants; ++i)
      grants_.push_back(stores_.grants().insert_grant(make_grant("g" + std::to_string(i), "client-a", t0)));
  }
  static core::ports::ReadAheadKeys keys_of(std::int64_t grant) {
    core::ports::ReadAheadKeys keys;
    keys.client_id = "client-a";
    keys.grant_id = grant;
    keys.jti = 7;
    return keys;
  }

  static constexpr int kGrants = 24;
  PgTestDatabase database_;
  PgStoreSet stores_{pg_options(database_.url(), 2)};
  PgReadAhead read_ahead_{stores_.db()};
  PollLoop loop_;
  std::vector<std::int64_t> grants_;
};

TEST_F(PgReadAheadAsync, ManyReadsInFlightEachAnswerItsOwnRequestWithoutAnotherRoundTrip) {
  std::vector<std::int64_t> answered;  // the grant each `done` found, in the order they ran
  int round_trips_inside = 0;
  for (const std::int64_t grant : grants_) {
    const auto keys = keys_of(grant);
    const bool started = read_ahead_.prefetch_async(keys, loop_, [&, keys, grant] {
      const auto before = PgConnection::executions();
      read_ahead_.prefetch(keys);  // the request's own prefetch: already done
      const auto client = stores_.clients().find("client-a");
      const auto view = stores_.grants().find_grant_for_token(grant, 7);
      round_trips_inside += static_cast<int>(PgConnection::executions() - before);
      EXPECT_TRUE(client.has_value());
      ASSERT_TRUE(view.has_value());
      answered.push_back(view->grant.id);
      read_ahead_.forget();
    });
    ASSERT_TRUE(started);
  }
  ASSERT_TRUE(loop_.run([&] { return answered.size() == grants_.size(); }));
  EXPECT_EQ(answered, grants_);  // in order, each its own
  EXPECT_EQ(round_trips_inside, 0);
}

TEST_F(PgReadAheadAsync, NothingIsHeldOnceDoneReturnedAndOtherKeysStillRead) {
  bool ran = false;
  ASSERT_TRUE(read_ahead_.prefetch_async(keys_of(grants_[0]), loop_, [&] { ran = true; }));
  ASSERT_TRUE(loop_.run([&] { return ran; }));
  // `done` did not take the rows: they are gone with it. A later read goes to the database and sees a change.
  ASSERT_EQ(stores_.grants().redeem(grants_[0], t0 + 1, t0 + 1000), core::ports::ConsumeOutcome::consumed);
  const auto before = PgConnection::executions();
  const auto grant = stores_.grants().find_grant(grants_[0]);
  EXPECT_EQ(PgConnection::executions() - before, 1u);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->redeemed_at, t0 + 1);

  // Inside `done`, a prefetch of other keys reads for itself and answers those keys.
  bool other = false;
  ASSERT_TRUE(read_ahead_.prefetch_async(keys_of(grants_[1]), loop_, [&] {
    const auto at = PgConnection::executions();
    read_ahead_.prefetch(keys_of(grants_[2]));
    EXPECT_EQ(PgConnection::executions() - at, 1u);
    const auto view = stores_.grants().find_grant_for_token(grants_[2], 7);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->grant.id, grants_[2]);
    read_ahead_.forget();
    other = true;
  }));
  ASSERT_TRUE(loop_.run([&] { return other; }));
}

TEST_F(PgReadAheadAsync, ABrokenConnectionAnswersEveryWaitingRequestWithNothingHeldAndIsReplaced) {
  // Warm up: the read-ahead's connection exists.
  bool warm = false;
  ASSERT_TRUE(read_ahead_.prefetch_async(keys_of(grants_[0]), loop_, [&] { warm = true; }));
  ASSERT_TRUE(loop_.run([&] { return warm; }));

  // The reads wait behind a lock, so that they are still unanswered when their connection is cut.
  auto locker = stores_.db().open_connection();
  locker->exec("BEGIN");
  locker->exec("LOCK TABLE clients IN ACCESS EXCLUSIVE MODE");
  int done = 0;
  int read_for_themselves = 0;
  for (int i = 0; i < 8; ++i) {
    const auto keys = keys_of(grants_[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(read_ahead_.prefetch_async(keys, loop_, [&, keys] {
      // Nothing held: a read of its own, which counts a round trip, or fails on a pool connection the cut ended.
      const auto before = PgConnection::executions();
      bool went = false;
      try {
        read_ahead_.prefetch(keys);
        went = PgConnection::executions() > before;
      } catch (const core::ports::StorageError&) {
        went = true;
      }
      if (went) ++read_for_themselves;
      read_ahead_.forget();
      ++done;
    }));
  }
  EXPECT_FALSE(loop_.run([&] { return done > 0; }, std::chrono::milliseconds(300))) << "answered through the lock";
  locker->exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
      "pg_backend_pid()");
  locker->exec("ROLLBACK");
  ASSERT_TRUE(loop_.run([&] { return done == 8; }));
  EXPECT_EQ(read_for_themselves, 8);

  // No new connection for a second after a failure (a request reads for itself meanwhile), then a new one.
  bool later = false;
  bool started = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!started && std::chrono::steady_clock::now() < deadline) {
    started = read_ahead_.prefetch_async(keys_of(grants_[1]), loop_, [&] {
      const auto before = PgConnection::executions();
      read_ahead_.prefetch(keys_of(grants_[1]));
      EXPECT_EQ(PgConnection::executions(), before);  // held again
      read_ahead_.forget();
      later = true;
    });
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(started);
  ASSERT_TRUE(loop_.run([&] { return later; }));
}

TEST_F(PgReadAheadAsync, AServerThatStopsAnsweringReleasesTheWaitingRequestsAfterTheAnswerTimeout) {
  // Statement timeout 100 ms: the connections give a server up 5.1 s after asking.
  auto options = pg_options(database_.url(), 2);
  options.statement_timeout_ms = 100;
  PgStoreSet stores(options);
  PgReadAhead read_ahead(stores.db());
  PollLoop loop;
  bool warm = false;
  ASSERT_TRUE(read_ahead.prefetch_async(keys_of(grants_[0]), loop, [&] { warm = true; }));
  ASSERT_TRUE(loop.run([&] { return warm; }));

  // Every backend of this database but the one asking stops running (a stalled server): their kernel still keeps
  // the connections up, so only a timeout of boltauth's own can tell.
  auto control = stores.db().open_connection();
  const auto backends = other_backends(*control);
  ASSERT_GE(backends.size(), 1u);
  StoppedProcesses stopped(backends);
  ASSERT_EQ(stopped.error(), "");

  int done = 0;
  bool held = false;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(read_ahead.prefetch_async(keys_of(grants_[static_cast<std::size_t>(i)]), loop, [&] {
      held = held || PgReadAhead::take_client(stores.db(), "client-a").has_value();
      ++done;
    }));
  }
  EXPECT_FALSE(loop.run([&] { return done > 0; }, std::chrono::milliseconds(4500))) << "a stopped server answered";
  ASSERT_TRUE(loop.run([&] { return done == 4; }, std::chrono::seconds(5)));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(5000));
  EXPECT_LT(waited, std::chrono::milliseconds(8000));
  EXPECT_FALSE(held) << "nothing is read for a request its server never answered";

  // Once the server runs again, a new connection reads ahead again (after the second a failure waits).
  stopped.resume();
  bool later = false;
  bool again = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!again && std::chrono::steady_clock::now() < deadline) {
    again = read_ahead.prefetch_async(keys_of(grants_[1]), loop,
                                      [&] { later = PgReadAhead::take_client(stores.db(), "client-a").has_value(); });
    if (!again) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(again);
  ASSERT_TRUE(loop.run([&] { return later; }));
}

// A reconnection never holds the loop's thread: against a server whose postmaster does not run, a connection attempt
// waits its whole connect timeout. On a cluster of its own, since its postmaster stops.
TEST(PgReadAheadReconnect, ANewConnectionIsOpenedOffTheLoopAndServesOnceTheServerRuns) {
  static testing::PgCluster cluster;
  PgTestDatabase database(cluster);
  PgStoreSet stores(pg_options(database.url(), 2));
  ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
  const std::int64_t grant = stores.grants().insert_grant(make_grant("g", "client-a", t0));
  core::ports::ReadAheadKeys keys;
  keys.client_id = "client-a";
  keys.grant_id = grant;
  keys.jti = 7;
  PgReadAhead read_ahead(stores.db());
  PollLoop loop;
  bool held = false;
  auto take = [&] { held = PgReadAhead::take_client(stores.db(), "client-a").has_value(); };
  ASSERT_TRUE(read_ahead.prefetch_async(keys, loop, take));
  ASSERT_TRUE(loop.run([&] { return held; }));

  // The postmaster stops (its parent's pid, from a backend's /proc entry), then every backend is ended: the
  // read-ahead's connection is gone, and a new one cannot be had until the postmaster runs again.
  auto control = stores.db().open_connection();
  const std::string backend = control->exec("SELECT pg_backend_pid()").text(0, 0);
  std::ifstream stat("/proc/" + backend + "/stat");
  std::string field;
  for (int i = 0; i < 4 && stat >> field; ++i) {
  }
  const pid_t postmaster = static_cast<pid_t>(std::stol(field));
  StoppedProcesses stopped({postmaster});
  ASSERT_EQ(stopped.error(), "");
  control->exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> "
      "pg_backend_pid()");
  control.reset();

  // The read-ahead notices the end of its connection (a request sent on it meanwhile runs with nothing read).
  bool noticed = false;
  const auto notice_by = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!noticed && std::chrono::steady_clock::now() < notice_by) {
    noticed = !read_ahead.prefetch_async(keys, loop, [] {});
    loop.run([] { return false; }, std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(noticed);
  // From then on every call returns at once, without a connection: one starts a new one on a thread of its own
  // (after the second a failure waits), the others find it still trying, while each request reads for itself.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  std::chrono::steady_clock::duration longest{};
  while (std::chrono::steady_clock::now() < until) {
    const auto at = std::chrono::steady_clock::now();
    EXPECT_FALSE(read_ahead.prefetch_async(keys, loop, [] {}));
    longest = std::max(longest, std::chrono::steady_clock::now() - at);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_LT(longest, std::chrono::milliseconds(500)) << "the loop's thread waited for the stopped server";

  // Once the postmaster runs again, a new connection reads ahead.
  stopped.resume();
  held = false;
  bool started = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!started && std::chrono::steady_clock::now() < deadline) {
    started = read_ahead.prefetch_async(keys, loop, take);
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(started);
  ASSERT_TRUE(loop.run([&] { return held; }));
}

}  // namespace
}  // namespace boltauth::contract
