// The PostgreSQL adapter's CommitGate: inside a deferred scope a consuming write returns the outcome its caller's
// read predicts and runs later, batched by the committer thread; the scope is settled durable, conflict (the row
// was consumed by someone else first) or failed (nothing committed).
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "contract/pg_test_support.hpp"

namespace boltauth::contract {
namespace {

using core::ports::CommitGate;
using core::ports::ConsumeOutcome;
using Settled = CommitGate::Settled;

constexpr auto kSettleWithin = std::chrono::seconds(20);

/// Settles `ticket` and waits for the outcome.
Settled settle(CommitGate& gate, const CommitGate::Ticket& ticket) {
  auto promise = std::make_shared<std::promise<Settled>>();
  auto outcome = promise->get_future();
  gate.when_settled(ticket, [promise](Settled s) { promise->set_value(s); });
  if (outcome.wait_for(kSettleWithin) != std::future_status::ready) {
    ADD_FAILURE() << "not settled within 20 s";
    return Settled::failed;
  }
  return outcome.get();
}

/// Runs `fn` inside a deferred scope of `stores` and returns the scope's ticket.
template <class F>
CommitGate::Ticket in_scope(PgStoreSet& stores, F&& fn) {
  stores.db().begin_deferred();
  fn();
  return stores.db().end_deferred();
}

class PgDeferred : public ::testing::Test {
 protected:
  PgTestDatabase database_;
  PgStoreSet stores_{pg_options(database_.url(), 4)};
  std::int64_t pending_grant(std::string_view tag) {
    return stores_.grants().insert_grant(make_grant(tag, "client-a", t0));
  }
  void SetUp() override { ASSERT_TRUE(stores_.clients().insert(make_client("client-a"))); }
};

TEST_F(PgDeferred, AConsumingWriteInAScopeReturnsThePredictionAndIsDurableOnceSettled) {
  const auto id = pending_grant("g");
  ConsumeOutcome outcome = ConsumeOutcome::lost;
  const auto ticket = in_scope(stores_, [&] { outcome = stores_.grants().redeem(id, t0 + 1, t0 + 1000); });
  EXPECT_EQ(outcome, ConsumeOutcome::consumed);
  ASSERT_FALSE(ticket.empty());
  EXPECT_NE(ticket.scope, 0u);
  EXPECT_EQ(settle(stores_.db(), ticket), Settled::durable);
  const auto grant = stores_.grants().find_grant(id);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->redeemed_at, t0 + 1);
  EXPECT_EQ(grant->expires_at, t0 + 1000);
}

TEST_F(PgDeferred, TwoScopesConsumingOneRowSettleOneDurableAndOneConflict) {
  const auto id = pending_grant("g");
  const auto first = in_scope(stores_, [&] { stores_.grants().redeem(id, t0 + 1, t0 + 1000); });
  const auto second = in_scope(stores_, [&] { stores_.grants().redeem(id, t0 + 2, t0 + 2000); });
  const Settled a = settle(stores_.db(), first);
  const Settled b = settle(stores_.db(), second);
  EXPECT_EQ((a == Settled::durable) + (b == Settled::durable), 1);
  EXPECT_EQ((a == Settled::conflict) + (b == Settled::conflict), 1);
  // The winner's values are the row's.
  const auto grant = stores_.grants().find_grant(id);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->redeemed_at, a == Settled::durable ? t0 + 1 : t0 + 2);
}

TEST_F(PgDeferred, AWriteWhoseRowWasConsumedMeanwhileSettlesConflictAndChangesNothing) {
  const auto id = pending_grant("g");
  ASSERT_EQ(stores_.grants().redeem(id, t0 + 1, t0 + 1000), ConsumeOutcome::consumed);
  ASSERT_EQ(stores_.grants().rotate(id, 1, t0 + 2, t0 + 2000), ConsumeOutcome::consumed);
  // A rotation predicted from a read of generation 1, run after the row moved on.
  const auto ticket = in_scope(stores_, [&] { stores_.grants().rotate(id, 1, t0 + 3, t0 + 3000); });
  EXPECT_EQ(settle(stores_.db(), ticket), Settled::conflict);
  const auto grant = stores_.grants().find_grant(id);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->generation, 2);
  EXPECT_EQ(grant->expires_at, t0 + 2000);
}

TEST_F(PgDeferred, AScopeThatWroteNothingHasAnEmptyTicketAndSettlesAtOnce) {
  const auto id = pending_grant("g");
  const auto ticket = in_scope(stores_, [&] { EXPECT_TRUE(stores_.grants().find_grant(id).has_value()); });
  EXPECT_TRUE(ticket.empty());
  bool called = false;
  stores_.db().when_settled(ticket, [&](Settled s) {
    called = true;
    EXPECT_EQ(s, Settled::durable);
  });
  EXPECT_TRUE(called);
}

TEST_F(PgDeferred, OutsideAScopeAConsumingWriteStillReturnsItsRealOutcome) {
  const auto id = pending_grant("g");
  const auto ticket = in_scope(stores_, [] {});
  EXPECT_TRUE(ticket.empty());
  EXPECT_EQ(stores_.grants().redeem(id, t0 + 1, t0 + 1000), ConsumeOutcome::consumed);
  EXPECT_EQ(stores_.grants().redeem(id, t0 + 1, t0 + 1000), ConsumeOutcome::lost);
}

TEST_F(PgDeferred, ManyScopesFromManyThreadsEachSettleOnceWithTheRightOutcome) {
  // 8 threads x 50 scopes; every other scope consumes a row an earlier scope of the same thread consumed.
  constexpr int kThreads = 8;
  constexpr int kScopes = 50;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kThreads * kScopes / 2; ++i) ids.push_back(pending_grant("g" + std::to_string(i)));
  std::atomic<int> durable{0};
  std::atomic<int> conflict{0};
  std::atomic<int> other{0};
  std::atomic<int> calls{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int s = 0; s < kScopes; ++s) {
          const auto id = ids[static_cast<std::size_t>((t * kScopes + s) / 2)];
          const auto ticket = in_scope(stores_, [&] { stores_.grants().redeem(id, t0 + 1, t0 + 1000); });
          stores_.db().when_settled(ticket, [&](Settled settled) {
            ++calls;
            ++(settled == Settled::durable ? durable : settled == Settled::conflict ? conflict : other);
          });
        }
      });
  }
  const auto deadline = std::chrono::steady_clock::now() + kSettleWithin;
  while (calls.load() < kThreads * kScopes && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(calls.load(), kThreads * kScopes);
  EXPECT_EQ(durable.load(), kThreads * kScopes / 2);
  EXPECT_EQ(conflict.load(), kThreads * kScopes / 2);
  EXPECT_EQ(other.load(), 0);
  for (const auto id : ids) EXPECT_EQ(stores_.grants().find_grant(id)->redeemed_at, t0 + 1);
}

TEST(PgDeferredLifetime, ClosingTheDatabaseRunsAndSettlesWhatIsQueued) {
  PgTestDatabase database;
  std::int64_t id = 0;
  auto promise = std::make_shared<std::promise<Settled>>();
  auto outcome = promise->get_future();
  {
    PgStoreSet stores(pg_options(database.url(), 2));
    ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
    id = stores.grants().insert_grant(make_grant("g", "client-a", t0));
    const auto ticket = in_scope(stores, [&] { stores.grants().redeem(id, t0 + 1, t0 + 1000); });
    stores.db().when_settled(ticket, [promise](Settled s) { promise->set_value(s); });
  }
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(outcome.get(), Settled::durable);
  PgStoreSet stores(pg_options(database.url(), 1));
  EXPECT_EQ(stores.grants().find_grant(id)->redeemed_at, t0 + 1);
}

}  // namespace
}  // namespace boltauth::contract
