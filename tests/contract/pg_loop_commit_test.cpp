// The PostgreSQL adapter's batches on an I/O thread (PgDatabase::commit_on): the deferred writes of a loop's thread
// go in one batch per round trip on a connection of the thread's own, sent and settled on the loop, never before
// their transaction committed; one batch in flight at a time; a failed batch reaches each write's own scope only; a
// lost or stalled connection fails what was in flight and nothing else.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "contract/pg_test_support.hpp"
#include "contract/poll_loop.hpp"
#include "store/postgres/pg_connection.hpp"

namespace boltauth::contract {
namespace {

using core::ports::CommitGate;
using core::ports::ConsumeOutcome;
using store::postgres::PgConnection;
using store::postgres::PgParam;
using store::postgres::PgStatement;
using Settled = CommitGate::Settled;

class PgLoopCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(stores_.clients().insert(make_client("client-a")));
    db().commit_on(loop_);
    // The loop's connection opens with its first write.
    redeem_deferred(pending_grant("warm"), 0);
    ASSERT_TRUE(loop_.run([&] { return all_settled(1); }));
    ASSERT_EQ(outcome(0), Settled::durable);
    reset();
  }
  store::postgres::PgDatabase& db() { return stores_.db(); }
  std::int64_t pending_grant(const std::string& tag) {
    return stores_.grants().insert_grant(make_grant(tag, "client-a", t0));
  }
  /// Redeems `id` in a deferred scope of this thread and records how the scope settled, and on which thread.
  void redeem_deferred(std::int64_t id, int tag) {
    db().begin_deferred();
    EXPECT_EQ(stores_.grants().redeem(id, t0 + tag, t0 + 1000), ConsumeOutcome::consumed);
    const auto ticket = db().end_deferred();
    ASSERT_FALSE(ticket.empty());
    db().when_settled(ticket, [this, tag](Settled s) { record(tag, s); });
  }
  // Outcomes come from the loop's thread (this one) or, for writes the committer thread runs, from that thread.
  void record(int tag, Settled s) {
    std::lock_guard lock(mutex_);
    settled_[tag] = s;
    threads_[tag] = std::this_thread::get_id();
  }
  bool all_settled(std::size_t n) {
    std::lock_guard lock(mutex_);
    return settled_.size() == n;
  }
  Settled outcome(int tag) {
    std::lock_guard lock(mutex_);
    return settled_.at(tag);
  }
  std::thread::id thread_of(int tag) {
    std::lock_guard lock(mutex_);
    return threads_.at(tag);
  }
  void reset() {
    std::lock_guard lock(mutex_);
    settled_.clear();
    threads_.clear();
  }

  PgTestDatabase database_;
  PgStoreSet stores_{[&] {
    auto options = pg_options(database_.url(), 2);
    options.statement_timeout_ms = 100;  // the answer timeout: 5.1 s
    return options;
  }()};
  PollLoop loop_;
  std::mutex mutex_;
  std::map<int, Settled> settled_;
  std::map<int, std::thread::id> threads_;
};

TEST_F(PgLoopCommit, WritesDeferredTogetherGoInOneRoundTripAndSettleOnTheLoopOnceCommitted) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(pending_grant("g" + std::to_string(i)));
  auto before = PgConnection::executions();
  for (int i = 0; i < 10; ++i) redeem_deferred(ids[static_cast<std::size_t>(i)], i);
  // Nothing is sent while the handlers run: the batch waits for the loop.
  EXPECT_EQ(PgConnection::executions(), before);
  EXPECT_TRUE(all_settled(0));
  const auto seen = stores_.grants().find_grant(ids[0]);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->redeemed_at, std::nullopt) << "written before the batch was sent";

  before = PgConnection::executions();
  ASSERT_TRUE(loop_.run([&] { return all_settled(10); }));
  EXPECT_EQ(PgConnection::executions() - before, 1u) << "one batch, one round trip";
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(outcome(i), Settled::durable);
    EXPECT_EQ(thread_of(i), std::this_thread::get_id()) << "settled off the loop";
    const auto grant = stores_.grants().find_grant(ids[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(grant.has_value());
    EXPECT_EQ(grant->redeemed_at, t0 + i);
  }
}

TEST_F(PgLoopCommit, WritesDeferredWhileABatchIsInFlightGoInTheNextOne) {
  const auto a = pending_grant("a");
  const auto b = pending_grant("b");
  const auto c = pending_grant("c");
  const auto before = PgConnection::executions();
  redeem_deferred(a, 1);
  ASSERT_TRUE(loop_.run([&] { return PgConnection::executions() - before == 1; }));  // the first batch is out
  redeem_deferred(b, 2);
  redeem_deferred(c, 3);
  ASSERT_TRUE(loop_.run([&] { return all_settled(3); }));
  EXPECT_EQ(PgConnection::executions() - before, 2u) << "b and c share the second batch";
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(outcome(i), Settled::durable);
}

TEST_F(PgLoopCommit, TwoScopesConsumingOneRowSettleOneDurableAndOneConflict) {
  const auto id = pending_grant("g");
  redeem_deferred(id, 1);
  redeem_deferred(id, 2);
  ASSERT_TRUE(loop_.run([&] { return all_settled(2); }));
  EXPECT_EQ((outcome(1) == Settled::durable) + (outcome(2) == Settled::durable), 1);
  EXPECT_EQ((outcome(1) == Settled::conflict) + (outcome(2) == Settled::conflict), 1);
  const auto grant = stores_.grants().find_grant(id);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->redeemed_at, outcome(1) == Settled::durable ? t0 + 1 : t0 + 2);
}

TEST_F(PgLoopCommit, AFailingStatementFailsOnlyItsOwnScopeAndTheOthersStillCommit) {
  // A statement that fails for one parameter (division by zero) and changes its row for another.
  static const PgStatement update("UPDATE grants SET redeemed_at = $2 WHERE id = $1 AND 1 / $3 = 1");
  const auto good = pending_grant("good");
  const auto bad = pending_grant("bad");
  auto deferred = [&](std::int64_t id, std::int64_t divisor, int tag) {
    db().begin_deferred();
    EXPECT_EQ(db().batched_update(update, {PgParam(id), PgParam(t0 + tag), PgParam(divisor)}, id), 1);
    db().when_settled(db().end_deferred(), [this, tag](Settled s) { record(tag, s); });
  };
  deferred(good, 1, 1);
  deferred(bad, 0, 2);
  // The batch fails as a whole and nothing of it is kept; each write then runs again, alone, off the loop.
  ASSERT_TRUE(loop_.run([&] { return all_settled(2); }));
  EXPECT_EQ(outcome(1), Settled::durable);
  EXPECT_EQ(outcome(2), Settled::failed);
  const auto kept = stores_.grants().find_grant(good);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->redeemed_at, t0 + 1);
  const auto untouched = stores_.grants().find_grant(bad);
  ASSERT_TRUE(untouched.has_value());
  EXPECT_EQ(untouched->redeemed_at, std::nullopt);

  // The loop's batches go on afterwards.
  const auto later = pending_grant("later");
  redeem_deferred(later, 3);
  ASSERT_TRUE(loop_.run([&] { return all_settled(3); }, std::chrono::seconds(10)));
  EXPECT_EQ(outcome(3), Settled::durable);
}

TEST_F(PgLoopCommit, AConnectionTheServerEndedWhileIdleCostsTheNextWriteNothing) {
  const auto first = pending_grant("first");
  redeem_deferred(first, 1);
  ASSERT_TRUE(loop_.run([&] { return all_settled(1); }));
  // Every other backend ends (a restart, as the loop's connection sees it).
  auto control = db().open_connection();
  control->exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
      "pg_backend_pid()");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto next = pending_grant("next");
  redeem_deferred(next, 2);
  ASSERT_TRUE(loop_.run([&] { return all_settled(2); }));
  EXPECT_EQ(outcome(2), Settled::durable);
  const auto grant = stores_.grants().find_grant(next);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->redeemed_at, t0 + 2);
}

TEST_F(PgLoopCommit, ABatchWhoseServerStopsAnsweringFailsAfterTheAnswerTimeoutAndNothingElse) {
  record(1, Settled::durable);  // numbering as in the other tests
  const auto id = pending_grant("g");

  // Every backend of this database but the one asking stops running: the kernel keeps the connections up.
  auto control = db().open_connection();
  const auto backends = other_backends(*control);
  ASSERT_GE(backends.size(), 1u);
  StoppedProcesses stopped(backends);
  ASSERT_EQ(stopped.error(), "");

  const auto started = std::chrono::steady_clock::now();
  redeem_deferred(id, 2);
  EXPECT_FALSE(loop_.run([&] { return all_settled(2); }, std::chrono::milliseconds(4500)))
      << "settled without an answer";
  ASSERT_TRUE(loop_.run([&] { return all_settled(2); }, std::chrono::seconds(5)));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(outcome(2), Settled::failed);
  EXPECT_GE(waited, std::chrono::milliseconds(5000));
  EXPECT_LT(waited, std::chrono::milliseconds(8000));

  // Once the server runs again the loop commits again (through the committer thread until a new connection is
  // ready, a second after the failure at the earliest).
  stopped.resume();
  const auto again = pending_grant("again");
  redeem_deferred(again, 3);
  ASSERT_TRUE(loop_.run([&] { return all_settled(3); }, std::chrono::seconds(20)));
  EXPECT_EQ(outcome(3), Settled::durable);
}

TEST_F(PgLoopCommit, ClosingTheDatabaseSettlesWhatItsLoopsHeld) {
  auto other = std::make_unique<store::postgres::PgDatabase>(pg_options(database_.url(), 2));
  PollLoop loop;
  other->commit_on(loop);
  static const PgStatement update("UPDATE grants SET redeemed_at = $2 WHERE id = $1 AND redeemed_at IS NULL");
  const auto id = pending_grant("g");
  std::optional<Settled> settled;
  other->begin_deferred();
  EXPECT_EQ(other->batched_update(update, {PgParam(id), PgParam(t0 + 5)}, id), 1);
  other->when_settled(other->end_deferred(), [&](Settled s) { settled = s; });
  // The loop never runs again: the write, never sent, goes to the committer thread, which commits it.
  other.reset();
  ASSERT_TRUE(settled.has_value());
  EXPECT_EQ(*settled, Settled::durable);
  const auto grant = stores_.grants().find_grant(id);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->redeemed_at, t0 + 5);
}

}  // namespace
}  // namespace boltauth::contract
