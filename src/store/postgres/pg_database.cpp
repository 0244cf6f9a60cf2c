#include "store/postgres/pg_database.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_schema.hpp"

namespace boltauth::store::postgres {
namespace {

// Serialization failures and deadlocks roll the whole transaction back, so rerunning it is safe; a few attempts
// get through any realistic contention.
constexpr int kTransactionAttempts = 5;

}  // namespace

/// Idle connections, most recently used last (reused first: its statements are prepared and its pages warm), and
/// how many slots leases hold (with a connection or about to open one). idle + leased never exceeds `size`.
struct PgDatabase::Pool {
  PgConnectOptions connect;
  int size = 0;
  std::mutex mutex;
  std::condition_variable available;
  std::vector<std::unique_ptr<PgConnection>> idle;
  int leased = 0;
};

PgDatabase::PgDatabase(PgOptions options) : options_(std::move(options)), pool_(std::make_unique<Pool>()) {
  if (options_.url.empty()) throw std::invalid_argument("postgres: no database URL");
  if (options_.connections < 1) throw std::invalid_argument("postgres: the pool needs at least one connection");
  pool_->connect.url = options_.url;
  pool_->connect.connect_timeout_seconds = options_.connect_timeout_seconds;
  pool_->connect.statement_timeout_ms = options_.statement_timeout_ms;
  pool_->size = options_.connections;
  // Fail here, not on the first request, when the URL, the password or the server is wrong.
  pool_->idle.push_back(PgConnection::open(pool_->connect));
}

PgDatabase::~PgDatabase() = default;

std::string PgDatabase::redacted_url() const { return redact_url(options_.url); }

int PgDatabase::latest_schema_version() { return PgSchema::latest_version(); }

int PgDatabase::schema_version() {
  return run([](PgConnection& c) { return PgSchema::current_version(c); });
}

std::pair<int, int> PgDatabase::migrate() {
  // A connection of its own, without statement_timeout: waiting for another process's migration, or a migration
  // rewriting a large table, may take longer than any request should. Closing it releases the advisory lock
  // whatever happened.
  PgConnectOptions connect = pool_->connect;
  connect.statement_timeout_ms = 0;
  connect.application_name = "boltauth migrate";
  const auto connection = PgConnection::open(connect);
  try {
    return PgSchema::migrate(*connection);
  } catch (const core::ports::StorageError&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error("postgres database " + redacted_url() + ": " + e.what());
  }
}

void PgDatabase::require_current_schema() {
  const int current = schema_version();
  const int latest = latest_schema_version();
  if (current == latest) return;
  if (current < latest)
    throw std::runtime_error("postgres database " + redacted_url() + " has schema version " + std::to_string(current) +
                             ", this binary needs " + std::to_string(latest) + ": run `boltauth migrate --store-url " +
                             redacted_url() + "`");
  throw std::runtime_error("postgres database " + redacted_url() + " has schema version " + std::to_string(current) +
                           ", newer than this binary supports (" + std::to_string(latest) +
                           "): refusing to use it; upgrade boltauth");
}

bool PgDatabase::ping() noexcept {
  try {
    static const PgStatement select_one("SELECT 1");
    return run([](PgConnection& c) { return c.run(select_one).rows() == 1; });
  } catch (...) {
    return false;
  }
}

void PgDatabase::transaction_impl(const std::function<void(PgConnection&)>& fn) {
  static const PgStatement begin("BEGIN");
  static const PgStatement commit("COMMIT");
  for (int attempt = 1;; ++attempt) {
    try {
      Lease lease(*this);
      lease.call([&](PgConnection& c) {
        c.run(begin);
        try {
          fn(c);
          // COMMIT of a transaction that already failed (an error `fn` caught) answers ROLLBACK, not an error.
          if (c.run(commit).command() != "COMMIT")
            throw PgError("postgres: transaction on " + c.describe() + " was rolled back", "", false, false);
        } catch (...) {
          c.rollback_quietly();
          throw;
        }
      });
      return;
    } catch (const PgError& e) {
      if (!e.retryable() || attempt >= kTransactionAttempts) throw;
      // Let the transaction that won move on before trying again.
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt));
    }
  }
}

// --- Lease -------------------------------------------------------------------------------------------------------

PgDatabase::Lease::Lease(PgDatabase& db) : db_(db) {
  Pool& pool = *db_.pool_;
  std::unique_lock lock(pool.mutex);
  // Every holder is bounded by statement_timeout or connect_timeout, so the wait is too.
  pool.available.wait(
      lock, [&] { return !pool.idle.empty() || pool.leased + static_cast<int>(pool.idle.size()) < pool.size; });
  ++pool.leased;
  if (!pool.idle.empty()) {
    connection_ = pool.idle.back().release();  // owned by this lease until it goes back
    pool.idle.pop_back();
  }
}

PgDatabase::Lease::~Lease() {
  Pool& pool = *db_.pool_;
  std::unique_ptr<PgConnection> connection(connection_);
  if (connection && (!connection->usable() || connection->in_transaction())) connection.reset();
  {
    std::lock_guard lock(pool.mutex);
    --pool.leased;
    if (connection) pool.idle.push_back(std::move(connection));
  }
  pool.available.notify_one();
}

void PgDatabase::Lease::ensure_connected() {
  // A connection the server ended while it sat idle (a restart) is replaced before use, so a restart costs the
  // requests that were in flight, not the next one on each pooled connection.
  if (connection_ != nullptr && !connection_->alive()) {
    delete connection_;
    connection_ = nullptr;
  }
  if (connection_ == nullptr) connection_ = PgConnection::open(db_.pool_->connect).release();
}

void PgDatabase::Lease::on_failure() {
  if (connection_ == nullptr) return;
  // run() leaves nothing open; a transaction still open here failed half-way and must not leak into the next lease.
  connection_->rollback_quietly();
  if (!connection_->usable()) {
    delete connection_;
    connection_ = nullptr;
  }
}

}  // namespace boltauth::store::postgres
