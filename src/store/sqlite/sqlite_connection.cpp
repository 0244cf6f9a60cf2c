#include "store/sqlite/sqlite_connection.hpp"

#include <sqlite3.h>

#include <climits>
#include <stdexcept>

#include "core/ports/storage_error.hpp"

namespace boltauth::store::sqlite {
namespace {

using core::ports::StorageError;

bool is_transient(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

int checked_size(std::string_view s) {
  if (s.size() > static_cast<std::size_t>(INT_MAX)) throw StorageError("sqlite: value too large", false);
  return static_cast<int>(s.size());
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Statement

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);  // ends the statement's implicit read transaction
  sqlite3_clear_bindings(stmt_);
}

void Statement::check_bind(int rc) const {
  if (rc != SQLITE_OK) connection_->fail(rc, sqlite3_sql(stmt_));
}

Statement& Statement::bind_text(int index, std::string_view value) {
  check_bind(sqlite3_bind_text(stmt_, index, value.data(), checked_size(value), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::bind_int(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::bind_optional_int(int index, const std::optional<std::int64_t>& value) {
  return value ? bind_int(index, *value) : bind_null(index);
}

Statement& Statement::bind_optional_text(int index, const std::optional<std::string>& value) {
  return value ? bind_text(index, *value) : bind_null(index);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  connection_->fail(rc, sqlite3_sql(stmt_));
}

int Statement::run() {
  while (step()) {
  }
  return sqlite3_changes(connection_->handle());
}

std::string Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  const int bytes = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(bytes));
}

std::int64_t Statement::column_int(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Statement::column_is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::optional<std::int64_t> Statement::column_optional_int(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_int(column);
}

std::optional<std::string> Statement::column_optional_text(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_text(column);
}

// ---------------------------------------------------------------------------------------------------------
// Connection

Connection::Connection(const std::filesystem::path& path, int busy_timeout_ms) {
  // NOMUTEX: a connection is only ever used by one thread at a time, the database object sees to that.
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw std::runtime_error("sqlite3_open_v2 failed: " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Statement Connection::prepare(std::string_view sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return Statement(*this, it->second);
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), checked_size(sql), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) fail(rc, sql);
  if (stmt == nullptr) throw StorageError("sqlite: empty statement", false);
  statements_.emplace(std::string(sql), stmt);
  return Statement(*this, stmt);
}

void Connection::exec_script(const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return;
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  throw StorageError("sqlite: " + message + " (code " + std::to_string(rc) + ")", is_transient(rc));
}

void Connection::fail(int rc, std::string_view context) const {
  // errmsg describes the connection's last error, which is `rc` unless something ran in between.
  const char* message = sqlite3_extended_errcode(db_) == rc ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  std::string what = "sqlite: ";
  what += message;
  what += " (code " + std::to_string(rc) + ") in: ";
  what += context.substr(0, 120);  // SQL text only; values are bound, so no secret reaches the message
  throw StorageError(what, is_transient(rc));
}

void Connection::rollback_quietly() noexcept {
  if (sqlite3_get_autocommit(db_) != 0) return;
  try {
    exec("ROLLBACK");
  } catch (...) {
    // Nothing more to do: the connection stays usable and the next BEGIN reports any real problem.
  }
}

}  // namespace boltauth::store::sqlite
