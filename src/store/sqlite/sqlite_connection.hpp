#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

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
  /// Ends an open transaction, if any, ignoring errors: the next BEGIN reports any real problem.
  void rollback_quietly() noexcept;
  /// Throws StorageError describing the connection's last error (`rc` is the failing result code).
  [[noreturn]] void fail(int rc, std::string_view context) const;

 private:
  friend class SqliteDatabase;
  friend class SqliteSchema;
  Connection(const std::filesystem::path& path, int busy_timeout_ms);

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> statements_;
};

}  // namespace boltauth::store::sqlite
