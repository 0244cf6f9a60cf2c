#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/ports/commit_gate.hpp"
#include "core/ports/read_ahead.hpp"
#include "core/ports/store_metrics.hpp"

namespace boltauth::store::postgres {

class PgConnection;  // pg_connection.hpp: one libpq handle, used by one thread at a time
class PgParam;
class PgStatement;
struct DeferredOp;  // pg_database.cpp: one deferred write

struct PgOptions {
  std::string url;                   // postgresql://USER[:PASS]@HOST[:PORT]/DB[?params] (libpq URI)
  int connections = 16;              // pool size: requests that write wait for a free connection
  int connect_timeout_seconds = 5;   // per connection attempt
  int statement_timeout_ms = 10000;  // server-side statement_timeout of every pooled connection
};

/// `url` with any password replaced by "***" (for messages and logs); anything unparsable is returned as is
/// only when it contains no '@' (otherwise "postgresql://***").
std::string redact_url(std::string_view url);

/// A pool of connections to one PostgreSQL database, shared by every PostgreSQL store of a process.
///
/// Durability: every connection runs with synchronous_commit = on, and a write returns only once its COMMIT
/// returned, so an answer never rests on an unwritten change. Concurrent commits on several connections share
/// PostgreSQL's WAL flush (its own group commit), which is how many requests share one fsync here.
///
/// Consuming writes (batched_update) go further: those that threads of this process issue while another batch is
/// in flight wait for it and then go together, in one transaction sent in one round trip, so N requests cost one
/// round trip, one commit record and one WAL flush instead of N of each. Inside a deferred scope (CommitGate, below)
/// the caller does not wait at all: the batch is sent and the scope settled afterwards, by the committer thread or,
/// on an I/O thread that runs its own batches (commit_on), by that thread's event loop.
///
/// Failures: a connection that breaks (server restart, network) is dropped and replaced on next use; the
/// request that saw it fails with a transient StorageError (503 + Retry-After upstream), since a COMMIT whose
/// answer was lost may or may not have happened. Serialization failures and deadlocks are retried.
class PgDatabase final : public core::ports::CommitGate {
 public:
  /// Opens one connection at once so a wrong URL, password or unreachable server fails here, with a message that
  /// names the host and database but never the password. Does not migrate (see migrate()).
  explicit PgDatabase(PgOptions options);
  ~PgDatabase() override;
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  const PgOptions& options() const noexcept { return options_; }
  /// The URL with any password replaced by "***" (for messages and logs).
  std::string redacted_url() const;
  /// A new connection of its own for the caller, set up as the pooled ones (outside the pool). Throws PgError.
  std::unique_ptr<PgConnection> open_connection() const;

  /// Number of migrations this binary knows.
  static int latest_schema_version();
  /// The database's schema version (0: never migrated).
  int schema_version();
  /// Applies pending migrations, each in its own transaction, serialized between processes by an advisory lock.
  /// Idempotent. Returns {version before, version after}. Throws std::runtime_error when the database's schema is
  /// newer than this binary.
  std::pair<int, int> migrate();
  /// Throws std::runtime_error unless the schema is exactly latest_schema_version(): behind, the message says to
  /// run `boltauth migrate --store-url <redacted url>`; ahead, it refuses (this binary is older than the schema).
  void require_current_schema();

  /// Runs `fn(PgConnection&)` on a pooled connection in autocommit mode and returns what it returns.
  template <class F>
  auto run(F&& fn) -> std::invoke_result_t<F&, PgConnection&> {
    Lease lease(*this);
    return lease.call([&](PgConnection& c) { return fn(c); });
  }

  /// Runs `fn(PgConnection&)` inside BEGIN ... COMMIT and returns what it returns once COMMIT succeeded. If `fn`
  /// throws, the transaction is rolled back and the exception rethrown. A serialization failure or deadlock
  /// reruns `fn` (a few times), so `fn` must not have effects outside the connection.
  template <class F>
  auto transaction(F&& fn) -> std::invoke_result_t<F&, PgConnection&> {
    using R = std::invoke_result_t<F&, PgConnection&>;
    if constexpr (std::is_void_v<R>) {
      transaction_impl([&](PgConnection& c) { fn(c); });
    } else {
      std::optional<R> out;
      transaction_impl([&](PgConnection& c) { out.emplace(fn(c)); });
      return std::move(*out);
    }
  }

  /// Runs `statement` (one UPDATE whose row count decides, autocommit semantics) and returns the rows it changed,
  /// batched with the calls of other threads (group commit): the first caller runs a batch of every call waiting
  /// while no batch is in flight, as one transaction in one round trip (pipeline mode), ordered by `key` (the row's
  /// id, so that batches of several nodes lock rows in one order and never deadlock); the others wait for the
  /// batch that carries their call. Returns only once that transaction committed (durably). A failure of one
  /// statement reruns each call of the batch alone, so it reaches its own caller only; a lost connection fails
  /// every call of the batch with a transient StorageError (as for a lone COMMIT whose answer was lost).
  /// `params` must stay valid until the call returns, which they do when written inline in the call.
  std::int64_t batched_update(const PgStatement& statement, std::initializer_list<PgParam> params, std::int64_t key);

  /// True when a connection answers `SELECT 1` (readiness).
  bool ping() noexcept;
  /// Reports every batched_update batch's size and round-trip latency to `metrics` (null: nothing). Set it
  /// before serving.
  void set_metrics(core::ports::StoreMetrics* metrics) noexcept { metrics_ = metrics; }
  /// True when the server accepts writes: not a standby, and new transactions are not read-only by default.
  bool writable() noexcept;

  // CommitGate. Inside a deferred scope on the calling thread, batched_update() does not wait: it queues its
  // statement for this database's committer thread and returns 1, the outcome the caller's read predicts (a
  // consuming write is only issued for a row its caller just read as consumable). The committer runs what is
  // queued as one transaction in one round trip (as batched_update's batches) while the callers go on; a scope is
  // settled `durable` once that transaction committed and every statement of the scope changed its row, `conflict`
  // when one changed none (another request consumed it first: nothing of it was kept), `failed` when the
  // transaction did not commit. A write outside a scope still returns only once durable.
  void begin_deferred() override;
  Ticket end_deferred() override;
  void when_durable(const Ticket& ticket, std::function<void(bool)> done) override;
  void when_settled(const Ticket& ticket, std::function<void(Settled)> done) override;

  /// The calling thread runs `loop` (an I/O thread; PgReadAhead tells): from now on, its deferred writes go in
  /// batches on a connection of the thread's own in pipeline mode, sent and answered on the loop, instead of
  /// through the committer thread and back (two thread wake-ups per batch fewer). Batches of one thread never
  /// overlap: what the thread defers while one is in flight goes in the next. Until that connection is ready
  /// (after a failure: off the loop's thread, a second later at the earliest), the committer thread carries them
  /// as before. One loop per thread; a thread already tied to another loop keeps using the committer thread.
  void commit_on(core::ports::EventLoop& loop);

 private:
  struct Deferred;
  struct LoopCommitter;  // one I/O thread's batches (commit_on)
  /// The committer of the calling thread when it runs its loop's batches (commit_on), else null.
  LoopCommitter* loop_committer_here() noexcept;
  /// Queues `ops` for the committer thread (their scopes already count them).
  void hand_to_committer_thread(std::vector<DeferredOp>&& ops);
  /// Settles the scopes of `ops` by what each found (`affected[i]`; nullopt: failed) and reports the scopes that
  /// are done. Callbacks run on the calling thread, outside the lock.
  void settle(const std::vector<DeferredOp>& ops, const std::vector<std::optional<std::int64_t>>& affected);
  std::int64_t defer(const PgStatement& statement, std::initializer_list<PgParam> params, std::int64_t key);
  void run_committer() noexcept;
  core::ports::StoreMetrics* metrics_ = nullptr;
  struct Pool;
  class Lease {
   public:
    explicit Lease(PgDatabase& db);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    /// Calls `fn` on the leased connection; a broken connection is marked for replacement and the failure
    /// becomes a transient StorageError.
    template <class F>
    auto call(F&& fn) -> std::invoke_result_t<F&, PgConnection&> {
      ensure_connected();
      try {
        return fn(*connection_);
      } catch (...) {
        on_failure();
        throw;
      }
    }

   private:
    void ensure_connected();
    void on_failure();
    PgDatabase& db_;
    PgConnection* connection_ = nullptr;
  };
  void transaction_impl(const std::function<void(PgConnection&)>& fn);
  struct BatchOp;
  /// Runs `batch` (execute_batch) and reports its size and round trip to the metrics.
  void run_batch(std::vector<BatchOp*>& batch) noexcept;
  void execute_batch(std::vector<BatchOp*>& batch) noexcept;

  PgOptions options_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<Deferred> deferred_;  // after pool_: its thread runs batches on the pool until it is joined
  const std::uint64_t serial_;          // tells this instance from a later one at the same address (thread caches)
  std::mutex loop_committers_mutex_;
  // After pool_: their connection threads open connections with pool_'s settings until they are joined.
  std::vector<std::unique_ptr<LoopCommitter>> loop_committers_;
};

}  // namespace boltauth::store::postgres
