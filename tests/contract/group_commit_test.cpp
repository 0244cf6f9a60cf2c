// Group commit semantics of the SQLite writer (issue 6): writes of one batch share one commit and one fsync;
// single use stays atomic inside a batch; nothing is answered before its batch is durable; a failed commit
// fails every member of the batch and keeps nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "contract/store_contract.hpp"
#include "core/ports/storage_error.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::contract {
namespace {

using core::ports::CommitGate;
using core::ports::ConsumeOutcome;
using store::sqlite::SqliteClientStore;
using store::sqlite::SqliteDatabase;
using store::sqlite::SqliteGrantStore;

/// Holds the committer before COMMIT while `held`, so the test decides which writes share a batch.
class CommitValve {
 public:
  void hold() {
    std::lock_guard lock(m_);
    held_ = true;
  }
  void release(bool fail = false) {
    {
      std::lock_guard lock(m_);
      held_ = false;
      fail_ = fail;
    }
    cv_.notify_all();
  }
  void reset_failure() {
    std::lock_guard lock(m_);
    fail_ = false;
  }
  void operator()() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return !held_; });
    if (fail_) throw std::runtime_error("injected commit failure");
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool held_ = false;
  bool fail_ = false;
};

struct Settled {
  std::mutex m;
  std::condition_variable cv;
  int count = 0;
  int durable = 0;
  void operator()(bool ok) {
    // Notified under the lock: the waiter may return and destroy this object as soon as it sees the count.
    std::lock_guard lock(m);
    ++count;
    durable += ok ? 1 : 0;
    cv.notify_all();
  }
  bool wait_for(int n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return count >= n; });
  }
};

class GroupCommit : public ::testing::Test {
 protected:
  GroupCommit() : db_({dir_.path() / "boltauth.db", 2, 2000}), clients_(db_), grants_(db_) {
    db_.set_commit_hook([this] { valve_(); });
    EXPECT_TRUE(clients_.insert(make_client("client-a")));
  }

  /// A redemption in a deferred scope on its own thread, as the HTTP layer runs it.
  std::pair<ConsumeOutcome, CommitGate::Ticket> redeem_deferred(std::int64_t id) {
    std::pair<ConsumeOutcome, CommitGate::Ticket> out{ConsumeOutcome::lost, {}};
    std::thread([&] {
      db_.begin_deferred();
      out.first = grants_.redeem(id, t0 + 1, t0 + 100);
      out.second = db_.end_deferred();
    }).join();
    return out;
  }

  bool redeemed(std::int64_t id) { return grants_.find_grant(id).value().redeemed_at.has_value(); }

  testing::TempDir dir_;
  CommitValve valve_;
  SqliteDatabase db_;
  SqliteClientStore clients_;
  SqliteGrantStore grants_;
};

TEST_F(GroupCommit, TwoRedemptionsOfOneCodeInOneBatchOneWinsAndNeitherIsAnsweredBeforeTheCommit) {
  const auto code = grants_.insert_grant(make_grant("c1", "client-a", t0));
  valve_.hold();
  const auto [first, first_ticket] = redeem_deferred(code);
  const auto [second, second_ticket] = redeem_deferred(code);
  EXPECT_EQ(first, ConsumeOutcome::consumed);
  EXPECT_EQ(second, ConsumeOutcome::lost);  // the writer connection sees the open batch: single use holds
  ASSERT_FALSE(first_ticket.empty());
  EXPECT_EQ(first_ticket.last, second_ticket.last) << "both joined one batch";
  EXPECT_FALSE(redeemed(code)) << "readers see nothing of a batch before its commit";

  Settled settled;
  db_.when_durable(first_ticket, std::ref(settled));
  db_.when_durable(second_ticket, std::ref(settled));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard lock(settled.m);
    EXPECT_EQ(settled.count, 0) << "settled before the commit";
  }
  valve_.release();
  ASSERT_TRUE(settled.wait_for(2));
  EXPECT_EQ(settled.durable, 2);
  EXPECT_TRUE(redeemed(code));
  EXPECT_EQ(grants_.find_grant(code).value().generation, 1);
}

TEST_F(GroupCommit, FindGrantInsideADeferredScopeSeesTheCallersOwnOpenBatch) {
  valve_.hold();
  std::optional<core::model::Grant> own;
  std::int64_t id = 0;
  CommitGate::Ticket ticket;
  std::thread([&] {
    db_.begin_deferred();
    id = grants_.insert_grant(make_grant("c1", "client-a", t0));
    own = grants_.find_grant(id);  // uncommitted: only the writer sees it
    ticket = db_.end_deferred();
  }).join();
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->nonce, "nonce-c1");
  EXPECT_FALSE(grants_.find_grant(id).has_value()) << "another thread read the open batch";
  Settled settled;
  db_.when_durable(ticket, std::ref(settled));
  valve_.release();
  ASSERT_TRUE(settled.wait_for(1));
  EXPECT_EQ(settled.durable, 1);
  EXPECT_EQ(grants_.find_grant(id), own);
}

TEST_F(GroupCommit, AFailedCommitFailsEveryMemberOfTheBatchAndKeepsNothing) {
  const auto one = grants_.insert_grant(make_grant("c1", "client-a", t0));
  const auto two = grants_.insert_grant(make_grant("c2", "client-a", t0));
  valve_.hold();
  const auto [r1, t1] = redeem_deferred(one);
  const auto [r2, t2] = redeem_deferred(two);
  EXPECT_EQ(r1, ConsumeOutcome::consumed);
  EXPECT_EQ(r2, ConsumeOutcome::consumed);
  // A synchronous write joins the same batch and must throw rather than return.
  std::atomic<bool> sync_threw{false};
  std::thread sync_writer([&] {
    try {
      clients_.insert(make_client("client-b"));
    } catch (const core::ports::StorageError&) {
      sync_threw = true;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it join the held batch
  Settled settled;
  db_.when_durable(t1, std::ref(settled));
  db_.when_durable(t2, std::ref(settled));
  valve_.release(/*fail=*/true);
  sync_writer.join();
  ASSERT_TRUE(settled.wait_for(2));
  EXPECT_EQ(settled.durable, 0) << "a member of a failed batch was reported durable";
  EXPECT_TRUE(sync_threw.load());
  valve_.reset_failure();
  EXPECT_FALSE(redeemed(one));
  EXPECT_FALSE(redeemed(two));
  EXPECT_FALSE(clients_.find("client-b"));
  // The writer recovers: the next batch commits.
  EXPECT_EQ(grants_.redeem(one, t0 + 2, t0 + 100), ConsumeOutcome::consumed);
  EXPECT_TRUE(redeemed(one));
}

TEST_F(GroupCommit, ASynchronousWriteReturnsOnlyOnceItsBatchIsCommitted) {
  valve_.hold();
  std::atomic<bool> returned{false};
  std::thread writer([&] {
    clients_.insert(make_client("client-b"));
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(returned.load()) << "returned before its commit";
  EXPECT_FALSE(clients_.find("client-b"));
  valve_.release();
  writer.join();
  EXPECT_TRUE(returned.load());
  EXPECT_TRUE(clients_.find("client-b"));
}

TEST_F(GroupCommit, ManyConcurrentDeferredWritesShareFewBatchesAndAllSettleDurable) {
  std::vector<std::int64_t> codes;
  for (int i = 0; i < 64; ++i)
    codes.push_back(grants_.insert_grant(make_grant("k" + std::to_string(i), "client-a", t0)));
  valve_.hold();
  Settled settled;
  std::uint64_t lowest = ~0ULL;
  std::uint64_t highest = 0;
  for (int i = 0; i < 64; ++i) {
    auto [outcome, ticket] = redeem_deferred(codes[static_cast<std::size_t>(i)]);
    EXPECT_EQ(outcome, ConsumeOutcome::consumed);
    lowest = std::min(lowest, ticket.first);
    highest = std::max(highest, ticket.last);
    db_.when_durable(ticket, std::ref(settled));
  }
  EXPECT_EQ(lowest, highest) << "64 writes while the committer waited: one batch";
  valve_.release();
  ASSERT_TRUE(settled.wait_for(64));
  EXPECT_EQ(settled.durable, 64);
  // Settled tickets answer at once.
  Settled late;
  db_.when_durable({lowest, highest}, std::ref(late));
  EXPECT_TRUE(late.wait_for(1));
  EXPECT_EQ(late.durable, 1);
}

}  // namespace
}  // namespace boltauth::contract
