#pragma once
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ports/commit_gate.hpp"
#include "core/ports/store_metrics.hpp"
#include "store/sqlite/sqlite_connection.hpp"

namespace boltauth::store::sqlite {

/// What a write function returns when it may roll back: its value, and whether its changes are kept.
template <class T>
struct Kept {
  using value_type = T;
  T value;
  bool keep = true;
};
/// `return keep(v);` keeps the write's changes; `return rollback(v);` undoes them and still hands back `v`.
template <class T>
Kept<std::decay_t<T>> keep(T&& value) {
  return {std::forward<T>(value), true};
}
template <class T>
Kept<std::decay_t<T>> rollback(T&& value) {
  return {std::forward<T>(value), false};
}

namespace detail {
template <class T>
inline constexpr bool is_kept = false;
template <class T>
inline constexpr bool is_kept<Kept<T>> = true;
}  // namespace detail

/// A non-owning reference to a callable, so a write can be queued without allocating.
template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): used like std::function
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

/// The SQLite file behind every SQLite store: one writer connection, a committer thread and a small pool of
/// read connections.
///
/// Writes are group-committed (architecture.md, issue 6): a write runs at once on the writer connection, on
/// the caller's thread, inside the open transaction (`BEGIN IMMEDIATE`, opened by the first write of a batch)
/// and its own SAVEPOINT, so one write's rollback or failure leaves the others intact, and single use stays a
/// conditional UPDATE on one connection (two redemptions of one code in one batch: one wins). The committer
/// thread commits the open batch as soon as the previous one is durable: COMMIT writes the WAL frames (the
/// writer runs with synchronous=OFF), then one fdatasync of the WAL file makes the whole batch durable outside
/// any lock, while the next batch already runs. Checkpoints run on a separate connection with synchronous=FULL,
/// so the database file is fsynced before SQLite may reuse the WAL.
///
/// A plain write() returns once its batch is durable (the GrantStore contract). Inside a deferred scope
/// (CommitGate) it returns once executed, and the transport holds the answer until when_durable() fires.
///
/// Reads check out a read connection and run autocommit statements, so each read sees every commit made
/// before it, including other processes' (the CLI writes while a server runs). Uncommitted writes of the open
/// batch are seen only by the writer connection, which is where every single-use check runs.
class SqliteDatabase final : public core::ports::CommitGate {
 public:
  struct Options {
    std::filesystem::path path;
    int read_connections = 4;
    int busy_timeout_ms = 10000;
  };

  /// A WAL that grew past this (a burst, another process's long transaction) is cut back to it when it next
  /// restarts. Above the steady-state size (restart_frames), so the steady state reuses its blocks in place.
  static constexpr std::int64_t wal_size_limit = 64LL << 20;

  /// Opens (creating with mode 0600) the file and applies pending migrations. Throws std::runtime_error
  /// with a message naming the file when it cannot be opened or migrated.
  explicit SqliteDatabase(Options options);
  /// Commits what is open, releases every waiter, then closes.
  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  const Options& options() const noexcept { return options_; }

  /// Number of migrations this binary knows; the schema version after opening.
  static int latest_schema_version();

  /// Runs `fn` on a read connection. Thread-safe; waits while every read connection is busy.
  template <class F>
  auto read(F&& fn) -> std::invoke_result_t<F&, Connection&> {
    ReadLease lease(*this);
    return fn(*lease.connection);
  }

  /// Runs `fn(Connection&)` inside the open write transaction and returns what it returns. The write's changes
  /// are kept, unless `fn` returns a Kept<T> (see keep() and rollback()): then they are kept iff `keep`, and
  /// write() returns the T. If `fn` throws, its changes are rolled back and the exception is rethrown here.
  /// Outside a deferred scope it returns once durably committed, and throws StorageError if the commit fails
  /// (a rolled-back write that is alone in its batch returns at once: there is nothing to make durable).
  /// `fn` runs on the calling thread under the writer lock: it must only touch the connection it is given, and
  /// must not call write(). Never call it from a when_durable() callback.
  template <class F>
  auto write(F&& fn) {
    using R = std::invoke_result_t<F&, Connection&>;
    if constexpr (std::is_void_v<R>) {
      write_kept([&](Connection& c) {
        fn(c);
        return true;
      });
    } else if constexpr (detail::is_kept<R>) {
      std::optional<typename R::value_type> out;
      write_kept([&](Connection& c) {
        R result = fn(c);
        out.emplace(std::move(result.value));
        return result.keep;
      });
      return std::move(*out);
    } else {
      std::optional<R> out;
      write_kept([&](Connection& c) {
        out.emplace(fn(c));
        return true;
      });
      return std::move(*out);
    }
  }

  /// Like read(), except when the calling thread's deferred scope has joined the batch that is still open: then
  /// `fn` runs on the writer (under the writer lock), so the caller sees its own uncommitted writes.
  template <class F>
  auto read_own(F&& fn) -> std::invoke_result_t<F&, Connection&> {
    std::unique_lock<std::mutex> lock(write_mutex_, std::defer_lock);
    if (lock_if_own_open_batch(lock)) return fn(*writer_);
    return read(std::forward<F>(fn));
  }

  /// Like read(), for an answer that must not rest on a commit a power cut could take back: a read connection
  /// sees a batch as soon as its COMMIT ran, before its fdatasync. If such a batch is in flight, the caller waits
  /// for it (inside a deferred scope, its ticket joins that batch instead), and fails as that batch fails.
  template <class F>
  auto read_durable(F&& fn) -> std::invoke_result_t<F&, Connection&> {
    auto result = read(std::forward<F>(fn));
    await_visible_commits();
    return result;
  }

  /// Checkpoint thresholds in WAL frames (tests lower them; the defaults are 8 MiB and 32 MiB of WAL in frames of
  /// the file's page size). Past `passive_frames` the checkpointer thread
  /// copies frames in the background; past `restart_frames` the committer, between COMMIT and the next BEGIN,
  /// runs a RESTART checkpoint so the WAL starts over (see commit_loop()).
  struct CheckpointLimits {
    int passive_frames = 2000;
    int restart_frames = 8000;
  };
  void set_checkpoint_limits(CheckpointLimits limits);

  /// Test hook: runs on the committer thread, outside the writer lock, before each COMMIT (writes may still
  /// join the batch meanwhile); throwing makes that commit fail. Set it before writing.
  void set_commit_hook(std::function<void()> hook);
  /// Reports every batch's size and commit latency to `metrics` (null: nothing). Set it before writing.
  void set_metrics(core::ports::StoreMetrics* metrics) noexcept { metrics_ = metrics; }

  // CommitGate
  void begin_deferred() override;
  Ticket end_deferred() override;
  void when_durable(const Ticket& ticket, std::function<void(bool durable)> done) override;

 private:
  struct ReadLease {
    explicit ReadLease(SqliteDatabase& db);
    ~ReadLease();
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;
    SqliteDatabase& db;
    Connection* connection;
  };
  struct Waiter {
    Ticket ticket;
    std::function<void(bool)> done;
  };

  std::unique_ptr<Connection> open_connection();
  void write_kept(FunctionRef<bool(Connection&)> fn);
  bool lock_if_own_open_batch(std::unique_lock<std::mutex>& lock);
  void await_visible_commits();
  void restart_checkpoint();  // under write_mutex_, no transaction open
  void commit_loop();
  void checkpoint_loop();
  bool settled_ok(const Ticket& ticket) const;  // under write_mutex_, once done_batch_ >= ticket.last

  Options options_;

  std::unique_ptr<Connection> writer_;
  std::unique_ptr<Connection> checkpointer_;
  int wal_fd_ = -1;
  std::mutex write_mutex_;
  std::condition_variable committer_wake_;
  std::condition_variable durable_;
  bool txn_open_ = false;           // the writer holds an open transaction for batch open_batch_
  int members_ = 0;                 // writes kept in the open transaction so far
  std::uint64_t open_batch_ = 1;    // the batch writes join now
  std::uint64_t done_batch_ = 0;    // every batch up to this one is settled (durable or failed)
  std::uint64_t aborted_upto_ = 0;  // newest batch whose transaction SQLite rolled back by itself
  std::set<std::uint64_t> failed_batches_;
  /// A failed fdatasync of the WAL is permanent: COMMIT already made that batch visible, and after a write-back
  /// error Linux may report the next fdatasync as successful without the lost pages. From then on no batch is
  /// reported durable and every write fails; a restart recovers from what is on disk.
  bool wal_sync_failed_ = false;
  std::string commit_error_;  // why the newest failed commit failed
  std::function<void()> commit_hook_;
  core::ports::StoreMetrics* metrics_ = nullptr;
  std::map<std::uint64_t, std::vector<Waiter>> waiters_;  // by ticket.last
  int wal_frames_ = 0;                                    // WAL size after the last commit (sqlite3_wal_hook)
  CheckpointLimits limits_;
  int restart_retry_frames_ = 0;  // after a RESTART checkpoint gave up (busy), wait for this many frames
  // The checkpointer connection is shared by the background PASSIVE checkpoints and the committer's RESTART.
  std::mutex checkpoint_connection_mutex_;
  bool stopping_ = false;
  std::thread committer_;
  // Background (PASSIVE) checkpoints run on their own thread, so their copying and fsyncs do not delay a
  // batch's commit; the committer's RESTART then has little left to copy.
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_thread_;

  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex read_mutex_;
  std::condition_variable reader_returned_;
  std::vector<Connection*> idle_readers_;
};

}  // namespace boltauth::store::sqlite
