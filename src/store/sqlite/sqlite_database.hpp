#pragma once
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

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

/// The SQLite file behind every SQLite store: one writer connection and a small pool of read connections.
///
/// Writes are group-committed (architecture.md): concurrent write() calls queue up; whichever caller finds
/// the writer idle becomes the leader and runs every queued write in one `BEGIN IMMEDIATE` transaction,
/// each inside its own SAVEPOINT so that one write's rollback or failure leaves the others intact, then
/// commits once (one fsync). Every caller returns only after that commit. An uncontended write is a
/// transaction of its own, with no added wait.
///
/// Reads check out a read connection and run autocommit statements, so each read sees every commit made
/// before it, including other processes' (the CLI writes while a server runs).
class SqliteDatabase {
 public:
  struct Options {
    std::filesystem::path path;
    int read_connections = 4;
    int busy_timeout_ms = 10000;
  };

  /// Opens (creating with mode 0600) the file and applies pending migrations. Throws std::runtime_error
  /// with a message naming the file when it cannot be opened or migrated.
  explicit SqliteDatabase(Options options);
  ~SqliteDatabase();
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

  /// Runs `fn` inside a write transaction and returns once it is durably committed. `fn` returns true to
  /// keep its changes, false to roll them back (nothing it wrote is kept). If `fn` throws, its changes are
  /// rolled back and the exception is rethrown here; if the commit fails, StorageError is thrown. `fn`
  /// may run on another caller's thread; it must only touch the connection it is given, and must not call
  /// write() (that would wait on itself).
  void write(FunctionRef<bool(Connection&)> fn);

 private:
  struct PendingWrite;
  struct ReadLease {
    explicit ReadLease(SqliteDatabase& db);
    ~ReadLease();
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;
    SqliteDatabase& db;
    Connection* connection;
  };

  std::unique_ptr<Connection> open_connection();
  void migrate(Connection& connection);
  void run_batch(const std::vector<PendingWrite*>& batch) noexcept;

  Options options_;

  std::unique_ptr<Connection> writer_;
  std::mutex write_mutex_;
  std::vector<PendingWrite*> write_queue_;
  bool writer_busy_ = false;

  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex read_mutex_;
  std::condition_variable reader_returned_;
  std::vector<Connection*> idle_readers_;
};

}  // namespace boltauth::store::sqlite
