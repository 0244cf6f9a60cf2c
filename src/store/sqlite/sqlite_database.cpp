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
#include "store/sqlite/sqlite_schema.hpp"

namespace boltauth::store::sqlite {
namespace {

using core::ports::StorageError;

// Creates the file with mode 0600 before SQLite sees it: SQLite creates -wal and -shm with the main
// file's mode, so all three stay private to the service user.
// True when this call created it.
bool create_private_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  const int err = errno;
  if (err == EEXIST) return false;
  std::string message = "cannot create SQLite database file '" + path.string() + "': " + std::strerror(err);
  if (err == ENOENT) message += " (does the parent directory exist?)";
  throw std::runtime_error(message);
}

// The deferred scope of the calling thread (CommitGate): which database it is for and what it joined.
struct DeferredScope {
  const SqliteDatabase* db = nullptr;
  core::ports::CommitGate::Ticket ticket;
};
thread_local DeferredScope t_deferred;

// A RESTART checkpoint runs under the writer lock: waiting longer than this for a reader (or another process)
// to leave the WAL is not worth stalling every write; the committer gives up and tries again later.
// The RESTART checkpoint runs with the writer lock held, so it waits for readers in short steps and gives up
// soon: SQLite's own busy handler sleeps 1, 2, 5, 10... ms, and every request queues behind that sleep.
constexpr auto kRestartWaitStep = std::chrono::microseconds(25);
constexpr auto kRestartWaitLimit = std::chrono::milliseconds(2);  // measured by the clock, not by counting sleeps
// Page size of a file this process creates (see the constructor).
constexpr int kNewFilePageSize = 1024;
// Default checkpoint thresholds in bytes of WAL, turned into frames by the file's page size.
constexpr std::int64_t kPassiveCheckpointBytes = 8LL << 20;
constexpr std::int64_t kRestartCheckpointBytes = 32LL << 20;

}  // namespace

int SqliteDatabase::latest_schema_version() { return SqliteSchema::latest_version(); }

SqliteDatabase::SqliteDatabase(Options options) : options_(std::move(options)) {
  const std::string where = "SQLite database '" + options_.path.string() + "'";
  if (options_.path.empty()) throw std::runtime_error("SQLite database path is empty");
  if (options_.read_connections < 1) throw std::runtime_error(where + ": read_connections must be at least 1");
  if (options_.busy_timeout_ms < 0) throw std::runtime_error(where + ": busy_timeout_ms must not be negative");
  const bool created = create_private_file(options_.path);
  try {
    writer_ = open_connection();
    // A new file gets 1 KiB pages (SQLite's default is 4 KiB). A rotation changes one small row, and every page a
    // batch touches goes to the WAL whole: measured under refresh load, 1 KiB pages cut the bytes written per
    // refresh by a quarter (at the peak rate) to a half (at half of it), at the same throughput. The page size
    // of an existing file is kept (changing it needs a VACUUM outside WAL mode). Harmless if another process won
    // the race to create the file: SQLite ignores it once the file has content.
    if (created) writer_->exec("PRAGMA page_size=" + std::to_string(kNewFilePageSize));
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
    SqliteSchema::migrate(*writer_);
    {
      auto st = writer_->prepare("PRAGMA page_size");
      const std::int64_t page_size = st.step() ? std::max<std::int64_t>(512, st.column_int(0)) : 4096;
      limits_.passive_frames = static_cast<int>(kPassiveCheckpointBytes / page_size);
      limits_.restart_frames = static_cast<int>(kRestartCheckpointBytes / page_size);
    }
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
    sqlite3_busy_handler(
        checkpointer_->handle(),
        [](void*, int attempts) -> int {
          // One busy episode at a time per connection (the checkpointer's calls are serialized).
          thread_local std::chrono::steady_clock::time_point first;
          const auto now = std::chrono::steady_clock::now();
          if (attempts == 0) first = now;
          if (now - first >= kRestartWaitLimit) return 0;
          std::this_thread::sleep_for(kRestartWaitStep);
          return 1;
        },
        nullptr);
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
  // No memory-mapped reads: measured under refresh load, SQLite remapped the growing file often enough that
  // munmap and its TLB shootdowns took 9% of the server's time, and throughput rose by a third without it.
  connection->exec("PRAGMA mmap_size=0");
  // Applied by the connection that restarts the WAL (the writer, or a TRUNCATE): a grown WAL shrinks back.
  connection->exec("PRAGMA journal_size_limit=" + std::to_string(wal_size_limit));
  return connection;
}

void SqliteDatabase::write_kept(FunctionRef<bool(Connection&)> fn) {
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
      connection.rollback_quietly();
      txn_open_ = false;
    }
    throw;
  }
  if (!kept && members_ == 0) {
    // Rolled back and alone in the batch: nothing to make durable, and no reason to hold the write lock.
    connection.rollback_quietly();
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

bool SqliteDatabase::lock_if_own_open_batch(std::unique_lock<std::mutex>& lock) {
  if (t_deferred.db != this || t_deferred.ticket.empty()) return false;
  lock.lock();
  if (txn_open_ && t_deferred.ticket.last == open_batch_) return true;
  lock.unlock();  // committed (visible to readers) or failed (nothing to see)
  return false;
}

void SqliteDatabase::await_visible_commits() {
  std::unique_lock lock(write_mutex_);
  // Batches below open_batch_ are committed (visible to readers) or failed; those above done_batch_ are not yet
  // fsynced. Whatever the read saw is at most open_batch_ - 1.
  const std::uint64_t visible = open_batch_ - 1;
  if (visible <= done_batch_) return;
  if (t_deferred.db == this) {
    auto& ticket = t_deferred.ticket;
    if (ticket.first == 0) ticket.first = visible;
    ticket.last = std::max(ticket.last, visible);
    return;
  }
  durable_.wait(lock, [&] { return done_batch_ >= visible; });
  if (failed_batches_.count(visible) != 0) throw StorageError(commit_error_, false);
}

void SqliteDatabase::set_checkpoint_limits(CheckpointLimits limits) {
  std::lock_guard lock(write_mutex_);
  limits_ = limits;
}

void SqliteDatabase::checkpoint_loop() {
  std::unique_lock lock(checkpoint_mutex_);
  for (;;) {
    checkpoint_wake_.wait(lock, [&] { return checkpoint_stop_ || checkpoint_wanted_; });
    if (checkpoint_stop_) return;
    checkpoint_wanted_ = false;
    lock.unlock();
    {
      // PASSIVE: never waits on the writer or readers; synchronous=FULL on this connection syncs the WAL before
      // copying and the database file before the WAL may be reused. Under sustained load it never finishes the
      // WAL (the writer keeps appending), but it copies most frames outside the writer lock, which shortens
      // the committer's RESTART below.
      std::lock_guard connection_lock(checkpoint_connection_mutex_);
      sqlite3_wal_checkpoint_v2(checkpointer_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    lock.lock();
  }
}

void SqliteDatabase::restart_checkpoint() {
  // Called between COMMIT and the next BEGIN with the writer lock held, so no batch of ours appends meanwhile.
  // RESTART copies what the background checkpoint left, fsyncs the database file (synchronous=FULL on the
  // checkpointer) and waits, up to its short busy timeout, until no reader uses the WAL, so the writer's next
  // transaction starts the WAL over from its first frame: the WAL stays bounded under any sustained load.
  // Readers are short autocommit statements, so the wait is brief (at most 2 ms). A busy result (a reader or another
  // process held on) leaves the WAL as it is, and the committer tries again after a few more frames. A background
  // PASSIVE checkpoint may be copying and fsyncing right now: waiting for it here would stall every request behind the
  // writer lock, so try again a little later instead. Past twice the threshold it waits after all: the bound matters
  // more than one slow batch.
  std::unique_lock connection_lock(checkpoint_connection_mutex_, std::defer_lock);
  if (wal_frames_ >= 2 * limits_.restart_frames)
    connection_lock.lock();
  else
    connection_lock.try_lock();
  if (!connection_lock.owns_lock()) {
    restart_retry_frames_ = wal_frames_ + std::max(1, limits_.restart_frames / 64);
    return;
  }
  int log = 0;
  int copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(checkpointer_->handle(), nullptr, SQLITE_CHECKPOINT_RESTART, &log, &copied);
  if (rc == SQLITE_OK) {
    wal_frames_ = 0;
    restart_retry_frames_ = 0;
  } else {
    restart_retry_frames_ = wal_frames_ + std::max(1, limits_.restart_frames / 8);
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
      const int members = members_;
      const auto commit_start = std::chrono::steady_clock::now();
      if (ok) {
        try {
          writer_->exec("COMMIT");  // writes the WAL frames; synchronous=OFF, so no fsync under the lock
        } catch (const std::exception& e) {
          ok = false;
          error = e.what();
        }
      }
      if (!ok) writer_->rollback_quietly();
      txn_open_ = false;
      ++open_batch_;
      if (ok && wal_frames_ >= limits_.restart_frames && wal_frames_ >= restart_retry_frames_) restart_checkpoint();
      const bool checkpoint = ok && wal_frames_ >= limits_.passive_frames;
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
      if (metrics_) {
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - commit_start)
                .count();
        metrics_->commit_batch(static_cast<std::size_t>(std::max(members, 0)), micros, ok);
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
