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

// Forward declarations keep sqlite3.h out of everything that only wires the stores together.
struct sqlite3;
struct sqlite3_stmt;

namespace boltauth::store::sqlite {

class Connection;

/// A cached prepared statement checked out for one use. Reset (and unbound) on destruction, so no
/// statement ever keeps a read transaction open between requests. Every failure throws
/// core::ports::StorageError.
class Statement {
 public:
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : connection_(other.connection_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQL (?1, ?2, ...).
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_int(int index, std::int64_t value);
  Statement& bind_bool(int index, bool value) { return bind_int(index, value ? 1 : 0); }
  Statement& bind_null(int index);
  Statement& bind_optional_int(int index, const std::optional<std::int64_t>& value);
  Statement& bind_optional_text(int index, const std::optional<std::string>& value);

  /// Steps once; true when a row is available.
  bool step();
  /// Steps to completion and returns the number of rows changed (sqlite3_changes).
  int run();

  // Columns are 0-based, as in the C API.
  std::string column_text(int column) const;
  std::int64_t column_int(int column) const;
  bool column_bool(int column) const { return column_int(column) != 0; }
  bool column_is_null(int column) const;
  std::optional<std::int64_t> column_optional_int(int column) const;
  std::optional<std::string> column_optional_text(int column) const;

 private:
  friend class Connection;
  Statement(Connection& connection, sqlite3_stmt* stmt) : connection_(&connection), stmt_(stmt) {}
  void check_bind(int rc) const;

  Connection* connection_;
  sqlite3_stmt* stmt_;
};

/// One sqlite3 handle and its statement cache. Used by one thread at a time (the database hands it out).
class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Returns the cached statement for `sql`, preparing it (persistently) on first use. Each SQL text may
  /// be checked out once at a time.
  Statement prepare(std::string_view sql);
  /// Runs one statement that takes no parameters; returns sqlite3_changes.
  int exec(std::string_view sql) { return prepare(sql).run(); }
  /// Runs a script of several statements (migrations); not cached.
  void exec_script(const std::string& sql);

  sqlite3* handle() const noexcept { return db_; }
  /// Throws StorageError describing the connection's last error (`rc` is the failing result code).
  [[noreturn]] void fail(int rc, std::string_view context) const;

 private:
  friend class SqliteDatabase;
  Connection(const std::filesystem::path& path, int busy_timeout_ms);

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> statements_;
};

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

  /// Runs `fn` inside the open write transaction. `fn` returns true to keep its changes, false to roll them
  /// back (nothing it wrote is kept). If `fn` throws, its changes are rolled back and the exception is
  /// rethrown here. Outside a deferred scope it returns once durably committed, and throws StorageError if
  /// the commit fails. `fn` runs on the calling thread under the writer lock: it must only touch the
  /// connection it is given, and must not call write(). Never call it from a when_durable() callback.
  void write(FunctionRef<bool(Connection&)> fn);

  /// Test hook: runs on the committer thread, outside the writer lock, before each COMMIT (writes may still
  /// join the batch meanwhile); throwing makes that commit fail. Set it before writing.
  void set_commit_hook(std::function<void()> hook);

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
  void migrate(Connection& connection);
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
  std::map<std::uint64_t, std::vector<Waiter>> waiters_;  // by ticket.last
  int wal_frames_ = 0;                                    // WAL size after the last commit (sqlite3_wal_hook)
  bool stopping_ = false;
  std::thread committer_;
  // Checkpoints run on their own thread, so their two fsyncs never delay a batch's commit.
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
