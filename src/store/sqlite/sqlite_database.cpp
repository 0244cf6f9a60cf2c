#include "store/sqlite/sqlite_database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <thread>

#include "core/ports/storage_error.hpp"

namespace boltauth::store::sqlite {
namespace {

using core::ports::StorageError;

// Ordered; entry i brings the schema to version i + 1. Never edit an applied entry: append a new one.
// Timestamps are Unix seconds. Foreign keys cascade so that deleting a client deletes its codes and grants,
// and deleting a grant deletes its tokens (ClientStore::remove).
const char* const migrations[] = {
    R"sql(
CREATE TABLE clients (
  id              TEXT PRIMARY KEY NOT NULL,
  publishable_key TEXT NOT NULL UNIQUE,
  name            TEXT NOT NULL,
  secret_hash     TEXT NOT NULL,
  redirect_uris   TEXT NOT NULL,  -- JSON array of strings
  grant_types     TEXT NOT NULL,  -- JSON array of strings
  created_at      INTEGER NOT NULL
);
CREATE TABLE accounts (
  sub            TEXT PRIMARY KEY NOT NULL,
  email          TEXT NOT NULL UNIQUE,  -- lower case
  email_verified INTEGER NOT NULL,
  first_name     TEXT NOT NULL,
  last_name      TEXT NOT NULL,
  phone          TEXT,
  phone_verified INTEGER NOT NULL,
  otp_code       TEXT,
  deactivate_at  INTEGER,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE TABLE codes (
  hash           TEXT PRIMARY KEY NOT NULL,
  client_id      TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  sub            TEXT NOT NULL,
  scope          TEXT NOT NULL,
  redirect_uri   TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  nonce          TEXT NOT NULL,
  state          TEXT NOT NULL,
  grant_id       TEXT NOT NULL,  -- the grant redemption creates; no FK, it does not exist before
  auth_time      INTEGER NOT NULL,
  issued_at      INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  used_at        INTEGER
);
CREATE INDEX codes_expires_at ON codes(expires_at);
CREATE INDEX codes_client_id ON codes(client_id);
CREATE TABLE grants (
  id         TEXT PRIMARY KEY NOT NULL,
  client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  sub        TEXT NOT NULL,
  auth_time  INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX grants_client_id ON grants(client_id);
CREATE TABLE tokens (
  hash       TEXT PRIMARY KEY NOT NULL,
  type       INTEGER NOT NULL,  -- 0 access, 1 refresh
  grant_id   TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  client_id  TEXT NOT NULL,     -- reached through grant_id; a second FK would cost an index on 10M rows
  sub        TEXT NOT NULL,
  scope      TEXT NOT NULL,
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  revoked_at INTEGER,
  next_hash  TEXT NOT NULL DEFAULT '',
  replayed   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_grant_id ON tokens(grant_id);
CREATE INDEX tokens_expires_at ON tokens(expires_at);
)sql",
    // 2: the sandbox endpoint finds a client by the keyed hash of its API key.
    R"sql(
CREATE INDEX clients_secret_hash ON clients(secret_hash);
)sql",
    // 3: authorization endpoint (issue 3)
    R"sql(
ALTER TABLE clients ADD COLUMN pkce_required INTEGER NOT NULL DEFAULT 1;
CREATE TABLE login_requests (
  id_hash            TEXT PRIMARY KEY NOT NULL,
  client_id          TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  redirect_uri       TEXT NOT NULL,
  redirect_uri_given INTEGER NOT NULL,
  scope              TEXT NOT NULL,
  state              TEXT NOT NULL,
  nonce              TEXT NOT NULL,
  code_challenge     TEXT NOT NULL,
  response_mode      TEXT NOT NULL,
  browser_hash       TEXT NOT NULL,
  email              TEXT NOT NULL DEFAULT '',
  otp_hash           TEXT NOT NULL DEFAULT '',
  otp_expires_at     INTEGER NOT NULL DEFAULT 0,
  otp_sent_at        INTEGER NOT NULL DEFAULT 0,
  attempts           INTEGER NOT NULL DEFAULT 0,
  created_at         INTEGER NOT NULL,
  expires_at         INTEGER NOT NULL
);
CREATE INDEX login_requests_expires_at ON login_requests(expires_at);
CREATE TABLE login_sessions (
  id_hash    TEXT PRIMARY KEY NOT NULL,
  sub        TEXT NOT NULL,
  auth_time  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX login_sessions_expires_at ON login_sessions(expires_at);
)sql",
    // 4: signing alg per client, janitor (issue 4)
    R"sql(
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256';
CREATE INDEX grants_revoked_at ON grants(revoked_at) WHERE revoked_at IS NOT NULL;
)sql",
};

constexpr int migration_count = static_cast<int>(sizeof(migrations) / sizeof(migrations[0]));

bool is_transient(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

int checked_size(std::string_view s) {
  if (s.size() > static_cast<std::size_t>(INT_MAX)) throw StorageError("sqlite: value too large", false);
  return static_cast<int>(s.size());
}

// Creates the file with mode 0600 before SQLite sees it: SQLite creates -wal and -shm with the main
// file's mode, so all three stay private to the service user.
void create_private_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  const int err = errno;
  if (err == EEXIST) return;
  std::string message = "cannot create SQLite database file '" + path.string() + "': " + std::strerror(err);
  if (err == ENOENT) message += " (does the parent directory exist?)";
  throw std::runtime_error(message);
}

void rollback_quietly(Connection& connection) noexcept {
  if (sqlite3_get_autocommit(connection.handle()) != 0) return;
  try {
    connection.exec("ROLLBACK");
  } catch (...) {
    // Nothing more to do: the connection stays usable and the next BEGIN reports any real problem.
  }
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

// ---------------------------------------------------------------------------------------------------------
// SqliteDatabase

namespace {

// The deferred scope of the calling thread (CommitGate): which database it is for and what it joined.
struct DeferredScope {
  const SqliteDatabase* db = nullptr;
  core::ports::CommitGate::Ticket ticket;
};
thread_local DeferredScope t_deferred;

// Past this many WAL frames (about 16 MiB of 4 KiB pages) a checkpoint runs, so the WAL stays small.
constexpr int kCheckpointFrames = 4000;

}  // namespace

int SqliteDatabase::latest_schema_version() { return migration_count; }

SqliteDatabase::SqliteDatabase(Options options) : options_(std::move(options)) {
  const std::string where = "SQLite database '" + options_.path.string() + "'";
  if (options_.path.empty()) throw std::runtime_error("SQLite database path is empty");
  if (options_.read_connections < 1) throw std::runtime_error(where + ": read_connections must be at least 1");
  if (options_.busy_timeout_ms < 0) throw std::runtime_error(where + ": busy_timeout_ms must not be negative");
  create_private_file(options_.path);
  try {
    writer_ = open_connection();
    // Changing the journal mode takes an exclusive lock and does not always wait on the busy handler,
    // so a second process starting at the same moment retries here.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.busy_timeout_ms);
    std::string mode;
    for (;;) {
      try {
        auto st = writer_->prepare("PRAGMA journal_mode=WAL");
        if (st.step()) mode = st.column_text(0);
        break;
      } catch (const StorageError& e) {
        if (!e.transient() || std::chrono::steady_clock::now() >= deadline) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (mode != "wal") throw std::runtime_error("journal_mode is '" + mode + "', expected 'wal'");
    migrate(*writer_);
    for (int i = 0; i < options_.read_connections; ++i) {
      readers_.push_back(open_connection());
      readers_.back()->exec("PRAGMA query_only=ON");  // a read connection must never write by mistake
      idle_readers_.push_back(readers_.back().get());
    }
    // Durability comes from the committer's fdatasync of the WAL, outside the writer lock; the checkpointer
    // keeps synchronous=FULL, so the database file is synced before a checkpointed WAL may be reused.
    writer_->exec("PRAGMA synchronous=OFF");
    sqlite3_wal_hook(
        writer_->handle(),
        [](void* self, sqlite3*, const char*, int frames) -> int {
          static_cast<SqliteDatabase*>(self)->wal_frames_ = frames;
          return SQLITE_OK;
        },
        this);  // replaces the automatic checkpoint on the writer
    checkpointer_ = open_connection();
    const std::filesystem::path wal = options_.path.string() + "-wal";
    wal_fd_ = ::open(wal.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (wal_fd_ < 0) throw std::runtime_error("cannot open '" + wal.string() + "': " + std::strerror(errno));
    // The writer never syncs, so SQLite never fsyncs the directory for a re-created -wal: do it once here, or
    // the WAL's directory entry (and every commit in it) might not survive a power loss (POSIX fsync(2)).
    auto dir = options_.path.parent_path();
    if (dir.empty()) dir = ".";
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
      const std::string why = std::strerror(errno);
      if (dir_fd >= 0) ::close(dir_fd);
      throw std::runtime_error("cannot fsync '" + dir.string() + "': " + why);
    }
    ::close(dir_fd);
  } catch (const std::exception& e) {
    if (wal_fd_ >= 0) ::close(wal_fd_);
    throw std::runtime_error("cannot open " + where + ": " + e.what());
  }
  committer_ = std::thread([this] { commit_loop(); });
  checkpointer_thread_ = std::thread([this] { checkpoint_loop(); });
}

SqliteDatabase::~SqliteDatabase() {
  {
    std::lock_guard lock(write_mutex_);
    stopping_ = true;
  }
  committer_wake_.notify_one();
  committer_.join();
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stop_ = true;
  }
  checkpoint_wake_.notify_one();
  checkpointer_thread_.join();
  // The writer runs synchronous=OFF and may be the last connection to close: SQLite's close-time checkpoint then
  // copies the WAL into the database and deletes it with that connection's sync setting. FULL makes it fsync
  // the database file first, so answered commits survive a power loss after a clean stop.
  try {
    writer_->exec("PRAGMA synchronous=FULL");
  } catch (const std::exception&) {
    // Closing anyway: the WAL stays and is recovered at the next open.
  }
  ::close(wal_fd_);
}

std::unique_ptr<Connection> SqliteDatabase::open_connection() {
  std::unique_ptr<Connection> connection(new Connection(options_.path, options_.busy_timeout_ms));
  connection->exec("PRAGMA foreign_keys=ON");
  connection->exec("PRAGMA synchronous=FULL");  // with WAL: every COMMIT is fsynced before it returns
  return connection;
}

void SqliteDatabase::migrate(Connection& connection) {
  // Each migration checks and applies itself under the write lock, so two processes opening a new file at
  // once apply it exactly once.
  for (int version = 1; version <= migration_count; ++version) {
    connection.exec("BEGIN IMMEDIATE");
    try {
      connection.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)");
      bool applied = false;
      {
        auto st = connection.prepare("SELECT 1 FROM schema_migrations WHERE version = ?1");
        st.bind_int(1, version);
        applied = st.step();
      }
      if (!applied) {
        connection.exec_script(migrations[version - 1]);
        auto st = connection.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
        st.bind_int(1, version).bind_int(2, static_cast<std::int64_t>(std::time(nullptr))).run();
      }
      connection.exec("COMMIT");
    } catch (...) {
      rollback_quietly(connection);
      throw;
    }
  }
  std::int64_t newest = 0;
  {
    auto st = connection.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (st.step()) newest = st.column_int(0);
  }
  if (newest > migration_count)
    throw std::runtime_error("schema version " + std::to_string(newest) + " is newer than this binary supports (" +
                             std::to_string(migration_count) + ")");
}

void SqliteDatabase::write(FunctionRef<bool(Connection&)> fn) {
  Connection& connection = *writer_;
  std::unique_lock lock(write_mutex_);
  if (wal_sync_failed_) throw StorageError(commit_error_, false);
  if (!txn_open_) {
    connection.exec("BEGIN IMMEDIATE");  // throws (busy, I/O): nothing joined, nothing to undo
    txn_open_ = true;
    members_ = 0;
  }
  const std::uint64_t batch = open_batch_;
  bool kept = false;
  try {
    connection.exec("SAVEPOINT batch_write");
    if (fn(connection)) {
      connection.exec("RELEASE batch_write");
      kept = true;
    } else {
      connection.exec("ROLLBACK TO batch_write");
      connection.exec("RELEASE batch_write");
    }
  } catch (...) {
    bool undone = false;
    if (sqlite3_get_autocommit(connection.handle()) == 0) {
      try {
        connection.exec("ROLLBACK TO batch_write");
        connection.exec("RELEASE batch_write");
        undone = true;
      } catch (...) {
      }
    }
    if (!undone && members_ > 0) {
      // Some errors (I/O, disk full) abort the whole transaction: every write of this batch is lost, so every
      // member fails; later writes start a new batch.
      failed_batches_.insert(batch);
      if (commit_error_.empty()) commit_error_ = "sqlite: the batch transaction was rolled back";
      aborted_upto_ = batch;
      ++open_batch_;
      committer_wake_.notify_one();
    }
    if (!undone || members_ == 0) {
      // Nothing of the batch is left to commit: end the transaction now rather than hold the write lock.
      rollback_quietly(connection);
      txn_open_ = false;
    }
    throw;
  }
  if (!kept && members_ == 0) {
    // Rolled back and alone in the batch: nothing to make durable, and no reason to hold the write lock.
    rollback_quietly(connection);
    txn_open_ = false;
    return;
  }
  ++members_;
  committer_wake_.notify_one();
  if (t_deferred.db == this) {
    auto& ticket = t_deferred.ticket;
    if (ticket.first == 0) ticket.first = batch;
    ticket.last = batch;
    return;
  }
  durable_.wait(lock, [&] { return done_batch_ >= batch; });
  if (failed_batches_.count(batch) != 0) throw StorageError(commit_error_, false);
}

void SqliteDatabase::checkpoint_loop() {
  std::unique_lock lock(checkpoint_mutex_);
  for (;;) {
    checkpoint_wake_.wait(lock, [&] { return checkpoint_stop_ || checkpoint_wanted_; });
    if (checkpoint_stop_) return;
    checkpoint_wanted_ = false;
    lock.unlock();
    // PASSIVE: never waits on the writer or readers; synchronous=FULL on this connection syncs the WAL before
    // copying and the database file before the WAL may be reused.
    sqlite3_wal_checkpoint_v2(checkpointer_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
}

void SqliteDatabase::set_commit_hook(std::function<void()> hook) {
  std::lock_guard lock(write_mutex_);
  commit_hook_ = std::move(hook);
}

void SqliteDatabase::begin_deferred() { t_deferred = DeferredScope{this, {}}; }

core::ports::CommitGate::Ticket SqliteDatabase::end_deferred() {
  const Ticket ticket = t_deferred.db == this ? t_deferred.ticket : Ticket{};
  t_deferred = DeferredScope{};
  return ticket;
}

bool SqliteDatabase::settled_ok(const Ticket& ticket) const {
  const auto it = failed_batches_.lower_bound(ticket.first);
  return it == failed_batches_.end() || *it > ticket.last;
}

void SqliteDatabase::when_durable(const Ticket& ticket, std::function<void(bool)> done) {
  std::unique_lock lock(write_mutex_);
  if (ticket.empty() || done_batch_ >= ticket.last) {
    const bool ok = ticket.empty() || settled_ok(ticket);
    lock.unlock();
    done(ok);
    return;
  }
  waiters_[ticket.last].push_back(Waiter{ticket, std::move(done)});
}

void SqliteDatabase::commit_loop() {
  std::unique_lock lock(write_mutex_);
  for (;;) {
    committer_wake_.wait(lock, [&] { return stopping_ || txn_open_ || aborted_upto_ > done_batch_; });
    if (txn_open_) {
      bool ok = true;
      std::string error;
      if (commit_hook_) {
        // Outside the lock: a test may hold the batch open here while writes join it.
        auto hook = commit_hook_;
        lock.unlock();
        try {
          hook();
        } catch (const std::exception& e) {
          ok = false;
          error = std::string("commit refused: ") + e.what();
        }
        lock.lock();
        // A write may have aborted the transaction meanwhile (its batch is then already failed).
        if (!txn_open_) continue;
      }
      const std::uint64_t batch = open_batch_;
      if (ok) {
        try {
          writer_->exec("COMMIT");  // writes the WAL frames; synchronous=OFF, so no fsync under the lock
        } catch (const std::exception& e) {
          ok = false;
          error = e.what();
        }
      }
      if (!ok) rollback_quietly(*writer_);
      txn_open_ = false;
      ++open_batch_;
      const bool checkpoint = ok && wal_frames_ >= kCheckpointFrames;
      lock.unlock();
      // The next batch runs on the writer meanwhile; this one is durable once its WAL frames are on disk.
      if (ok && ::fdatasync(wal_fd_) != 0) {
        ok = false;
        error = std::string("fdatasync of the WAL failed: ") + std::strerror(errno) +
                "; no write is accepted until a restart";
      }
      if (checkpoint) {
        {
          std::lock_guard checkpoint_lock(checkpoint_mutex_);
          checkpoint_wanted_ = true;
        }
        checkpoint_wake_.notify_one();
      }
      lock.lock();
      if (wal_sync_failed_) ok = false;  // sticky: see wal_sync_failed_
      if (!ok) {
        failed_batches_.insert(batch);
        if (!wal_sync_failed_) commit_error_ = error;
        if (error.rfind("fdatasync", 0) == 0) wal_sync_failed_ = true;
      }
      done_batch_ = std::max(done_batch_, batch);
    } else if (aborted_upto_ > done_batch_) {
      done_batch_ = aborted_upto_;
    } else {
      break;  // stopping, and nothing is open
    }
    std::vector<std::pair<std::function<void(bool)>, bool>> ready;
    while (!waiters_.empty() && waiters_.begin()->first <= done_batch_) {
      for (auto& waiter : waiters_.begin()->second)
        ready.emplace_back(std::move(waiter.done), settled_ok(waiter.ticket));
      waiters_.erase(waiters_.begin());
    }
    durable_.notify_all();
    if (!ready.empty()) {
      lock.unlock();
      for (auto& [done, ok] : ready) done(ok);
      lock.lock();
    }
  }
}

SqliteDatabase::ReadLease::ReadLease(SqliteDatabase& database) : db(database), connection(nullptr) {
  std::unique_lock lock(db.read_mutex_);
  db.reader_returned_.wait(lock, [&] { return !db.idle_readers_.empty(); });
  connection = db.idle_readers_.back();
  db.idle_readers_.pop_back();
}

SqliteDatabase::ReadLease::~ReadLease() {
  {
    std::lock_guard lock(db.read_mutex_);
    db.idle_readers_.push_back(connection);
  }
  db.reader_returned_.notify_one();
}

}  // namespace boltauth::store::sqlite
