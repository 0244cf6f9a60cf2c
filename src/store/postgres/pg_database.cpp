#include "store/postgres/pg_database.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "store/postgres/pg_async_link.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_schema.hpp"

namespace boltauth::store::postgres {
namespace {

// Serialization failures and deadlocks roll the whole transaction back, so rerunning it is safe; a few attempts
// get through any realistic contention.
constexpr int kTransactionAttempts = 5;

// A batch's statements, its answers and the server's work for them stay small (a few kB each way).
constexpr std::size_t kMaxBatch = 64;

}  // namespace

/// One batched_update call waiting for (or riding in) a batch.
struct PgDatabase::BatchOp {
  const PgStatement* statement;
  std::span<const PgParam> params;
  std::int64_t key;
  std::int64_t affected = 0;
  std::exception_ptr error;
  bool done = false;  // under Pool::batch_mutex
  // Its caller waits here, so that a batch's end wakes the callers it carried and the next leader only; waking
  // every waiting thread (notify_all) made those of the next batch wake, queue for the mutex and sleep again.
  std::condition_variable wake;
};

/// Idle connections, most recently used last (reused first: its statements are prepared and its pages warm), and
/// how many slots leases hold (with a connection or about to open one). idle + leased never exceeds `size`.
struct PgDatabase::Pool {
  PgConnectOptions connect;
  int size = 0;
  std::mutex mutex;
  std::condition_variable available;
  std::vector<std::unique_ptr<PgConnection>> idle;
  int leased = 0;
  // Group commit of batched_update: calls waiting for a batch (each wakes on its own BatchOp::wake), and whether
  // one is in flight.
  std::mutex batch_mutex;
  std::vector<BatchOp*> batch_queue;
  bool batch_in_flight = false;
};

/// One deferred write: its statement, and the scope it settles.
struct DeferredOp {
  const PgStatement* statement;
  std::vector<PgParam> params;  // self-contained copies (integers, NULLs)
  std::int64_t key;
  std::uint64_t scope;
};

/// The deferred scopes' queue and the committer thread that runs it (CommitGate).
struct PgDatabase::Deferred {
  using Op = DeferredOp;
  /// A scope's statements not yet run, what they found, and who to tell.
  struct Scope {
    int running = 0;
    bool failed = false;
    bool conflict = false;
    std::function<void(Settled)> done;
    Settled outcome() const noexcept {
      return failed ? Settled::failed : conflict ? Settled::conflict : Settled::durable;
    }
  };
  std::mutex mutex;
  std::condition_variable work;
  std::vector<Op> queue;         // for the next batch
  std::uint64_t next_batch = 1;  // the id of the batch the queue goes in
  std::uint64_t next_scope = 1;
  std::unordered_map<std::uint64_t, Scope> scopes;  // scopes with statements queued, running or unreported
  bool stop = false;
  std::thread thread;  // started by the first deferred statement
};

/// One I/O thread's deferred writes (PgDatabase::commit_on): queued while its handlers run, sent as one batch (one
/// implicit transaction, one round trip) on a connection of the thread's own once the loop is free, and settled when
/// the answer comes in, all on the loop's thread. One batch in flight at a time: what the handlers defer meanwhile
/// goes in the next, so batches grow with the load as the committer thread's do.
///
/// Failures: a batch that failed as a whole (a statement's error; nothing was kept) goes to the committer thread,
/// which runs it again and, if it fails again, each write alone, so that a failure reaches its own request only. A
/// batch whose answer was lost, or never came within the answer timeout, fails every write in it (the commit may or
/// may not have happened: 503 for each, as for a lone COMMIT whose answer was lost). Writes not sent yet go to the
/// committer thread. Either way the connection is dropped and opened again later, off the loop.
struct PgDatabase::LoopCommitter {
  LoopCommitter(PgDatabase& of, std::thread::id owner)
      : db(of), thread(owner), link([&of] {
          auto connection = of.open_connection();
          connection->enter_async({});
          return connection;
        }) {}

  /// True when a write deferred now can go in this thread's batches (a connection is ready). A connection that died
  /// while idle is found by send(), once per batch, not here once per write.
  bool ready() { return link.connect(); }
  void add(DeferredOp op) {
    queue.push_back(std::move(op));
    // Later, once the handlers the loop is running now have deferred theirs too: they go in the same batch.
    if (!posted && sent.empty()) {
      posted = true;
      loop->post([this, g = generation] { send(g); });
    }
  }
  /// Sends what is queued as one batch, unless one is in flight.
  void send(std::uint64_t of_generation) {
    if (of_generation == generation) posted = false;
    if (!sent.empty() || queue.empty()) return;
    if (!link.connection() || dropped_idle()) return drop();
    const std::size_t n = std::min(queue.size(), kMaxBatch);
    sent.assign(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.begin() + n));
    queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
    // One lock order for every batch of every node: no deadlock between batches.
    std::stable_sort(sent.begin(), sent.end(), [](const DeferredOp& a, const DeferredOp& b) { return a.key < b.key; });
    std::vector<PgBatchItem> items;
    items.reserve(sent.size());
    for (const DeferredOp& op : sent) items.push_back(PgBatchItem{op.statement, op.params});
    try {
      link.connection()->send_batch(items);
      sent_at = std::chrono::steady_clock::now();
      link.send_queued(*loop, [this] { drop(); });
    } catch (const std::exception&) {
      return drop();
    }
    await_answer();
    watch();
  }
  void await_answer() {
    if (reading) return;
    reading = true;
    loop->await(link.fd(), false, [this, g = generation](bool ok) { on_readable(g, ok); });
  }
  void on_readable(std::uint64_t of_generation, bool ok) {
    if (of_generation != generation) return;
    reading = false;
    if (!ok) return drop();
    std::optional<std::variant<std::vector<std::int64_t>, PgError>> answer;
    try {
      link.connection()->consume();
      answer = link.connection()->next_batch_answer();
    } catch (const PgError&) {
      return drop();
    }
    if (!answer) return await_answer();
    std::vector<DeferredOp> done = std::move(sent);
    sent.clear();
    const auto* affected = std::get_if<std::vector<std::int64_t>>(&*answer);
    if (db.metrics_)
      db.metrics_->commit_batch(
          done.size(),
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - sent_at).count(),
          affected != nullptr);
    if (affected == nullptr) {
      // Nothing of the batch was kept: the committer thread runs it again, and each write alone if need be.
      db.hand_to_committer_thread(std::move(done));
      return drop();  // a statement prepared in this batch may have failed: start afresh
    }
    db.settle(done, std::vector<std::optional<std::int64_t>>(affected->begin(), affected->end()));
    send(generation);  // what was deferred meanwhile
  }
  void watch() {
    if (watching || sent.empty() || !link.connection() || link.connection()->answer_timeout_ms() <= 0) return;
    const auto due = sent_at + std::chrono::milliseconds(link.connection()->answer_timeout_ms());
    const auto delay = std::chrono::ceil<std::chrono::milliseconds>(due - std::chrono::steady_clock::now());
    watching = true;
    loop->after(std::max(delay, std::chrono::milliseconds(1)), [this, g = generation] { on_watchdog(g); });
  }
  /// A batch unanswered for the answer timeout: the server stopped running (its kernel keeps the connection up).
  void on_watchdog(std::uint64_t of_generation) {
    if (of_generation != generation) return;
    watching = false;
    if (sent.empty() || !link.connection()) return;
    if (std::chrono::steady_clock::now() - sent_at >= std::chrono::milliseconds(link.connection()->answer_timeout_ms()))
      return drop();
    watch();  // that batch was answered: watch the one in flight now
  }
  /// A connection the server ended while it sat idle (a restart): replaced before the next batch, so that a restart
  /// costs the batches that were in flight, not the next one.
  bool dropped_idle() { return link.connection() && sent.empty() && !link.connection()->alive(); }
  /// Drops the connection: the batch in flight fails, the queue goes to the committer thread.
  void drop() noexcept {
    if (link.connection()) loop->forget(link.fd());
    link.close();
    ++generation;
    reading = watching = posted = false;
    abandon();
  }
  /// Settles what this committer holds without its loop: sent writes fail, queued ones go to the committer thread.
  void abandon() noexcept {
    try {
      std::vector<DeferredOp> lost = std::move(sent);
      sent.clear();
      db.settle(lost, std::vector<std::optional<std::int64_t>>(lost.size()));
      db.hand_to_committer_thread(std::move(queue));
      queue.clear();
    } catch (...) {
      // Out of memory: the scopes stay unsettled, as the committer thread's would.
    }
  }

  PgDatabase& db;
  const std::thread::id thread;
  core::ports::EventLoop* loop = nullptr;
  PgAsyncLink link;
  std::vector<DeferredOp> queue;  // for the next batch
  std::vector<DeferredOp> sent;   // the batch in flight, in the order sent
  std::chrono::steady_clock::time_point sent_at;
  bool posted = false;   // a send is posted to the loop
  bool reading = false;  // a readable wait is armed
  bool watching = false;
  std::uint64_t generation = 0;  // bumped by drop(): waits armed for an older connection do nothing
};

namespace {
// The deferred scope open on this thread, if any.
struct OpenScope {
  const PgDatabase* db = nullptr;
  core::ports::CommitGate::Ticket ticket;
};
thread_local OpenScope t_scope;
std::atomic<std::uint64_t> next_serial{1};
}  // namespace

PgDatabase::PgDatabase(PgOptions options)
    : options_(std::move(options)),
      pool_(std::make_unique<Pool>()),
      deferred_(std::make_unique<Deferred>()),
      serial_(next_serial.fetch_add(1)) {
  if (options_.url.empty()) throw std::invalid_argument("postgres: no database URL");
  if (options_.connections < 1) throw std::invalid_argument("postgres: the pool needs at least one connection");
  pool_->connect.url = options_.url;
  pool_->connect.connect_timeout_seconds = options_.connect_timeout_seconds;
  pool_->connect.statement_timeout_ms = options_.statement_timeout_ms;
  // A statement the server runs ends by its statement_timeout and answers with an error; a server that does not
  // run (a stalled disk, stopped processes) answers nothing. Five seconds past the statement timeout, a request
  // gives its connection up and gets a transient error (503) instead of waiting for ever.
  pool_->connect.answer_timeout_ms = options_.statement_timeout_ms > 0 ? options_.statement_timeout_ms + 5000 : 0;
  pool_->size = options_.connections;
  // Fail here, not on the first request, when the URL, the password or the server is wrong.
  pool_->idle.push_back(PgConnection::open(pool_->connect));
}

std::unique_ptr<PgConnection> PgDatabase::open_connection() const { return PgConnection::open(pool_->connect); }

PgDatabase::~PgDatabase() {
  // Statements already queued still run and their scopes are settled: a held answer is never dropped unsettled.
  // The loops are gone by now (their servers stopped first): what their committers still hold goes to the
  // committer thread (not sent yet) or fails (sent, its answer never read).
  for (auto& committer : loop_committers_) committer->abandon();
  {
    std::lock_guard lock(deferred_->mutex);
    deferred_->stop = true;
  }
  deferred_->work.notify_one();
  if (deferred_->thread.joinable()) deferred_->thread.join();
}

void PgDatabase::begin_deferred() { t_scope = OpenScope{this, {}}; }

core::ports::CommitGate::Ticket PgDatabase::end_deferred() {
  const Ticket ticket = t_scope.db == this ? t_scope.ticket : Ticket{};
  t_scope = OpenScope{};
  return ticket;
}

void PgDatabase::when_durable(const Ticket& ticket, std::function<void(bool)> done) {
  when_settled(ticket, [done = std::move(done)](Settled settled) { done(settled == Settled::durable); });
}

void PgDatabase::when_settled(const Ticket& ticket, std::function<void(Settled)> done) {
  if (ticket.empty()) return done(Settled::durable);
  Deferred& d = *deferred_;
  std::unique_lock lock(d.mutex);
  const auto it = d.scopes.find(ticket.scope);
  if (it == d.scopes.end()) {
    // Settled and reported already (a ticket used twice): nothing is known of it any more.
    lock.unlock();
    return done(Settled::failed);
  }
  if (it->second.running > 0) {
    it->second.done = std::move(done);
    return;
  }
  const Settled outcome = it->second.outcome();
  d.scopes.erase(it);
  lock.unlock();
  done(outcome);
}

std::int64_t PgDatabase::defer(const PgStatement& statement, std::initializer_list<PgParam> params, std::int64_t key) {
  Deferred& d = *deferred_;
  Deferred::Op op{&statement, std::vector<PgParam>(params), key, 0};
  if (LoopCommitter* committer = loop_committer_here(); committer != nullptr && committer->ready()) {
    {
      std::lock_guard lock(d.mutex);
      if (t_scope.ticket.scope == 0) t_scope.ticket.scope = d.next_scope++;
      op.scope = t_scope.ticket.scope;
      ++d.scopes[op.scope].running;
    }
    committer->add(std::move(op));
    // Batches settle by scope (when_settled), not by number: any nonzero one marks the ticket as not empty.
    if (t_scope.ticket.first == 0) t_scope.ticket.first = 1;
    t_scope.ticket.last = std::max<std::uint64_t>(t_scope.ticket.last, 1);
    return 1;
  }
  std::uint64_t batch = 0;
  {
    std::lock_guard lock(d.mutex);
    if (!d.thread.joinable()) d.thread = std::thread([this] { run_committer(); });
    if (t_scope.ticket.scope == 0) t_scope.ticket.scope = d.next_scope++;
    op.scope = t_scope.ticket.scope;
    ++d.scopes[op.scope].running;
    batch = d.next_batch;
    d.queue.push_back(std::move(op));
  }
  d.work.notify_one();
  if (t_scope.ticket.first == 0) t_scope.ticket.first = batch;
  t_scope.ticket.last = batch;
  return 1;
}

void PgDatabase::run_committer() noexcept {
  Deferred& d = *deferred_;
  std::unique_lock lock(d.mutex);
  for (;;) {
    d.work.wait(lock, [&] { return d.stop || !d.queue.empty(); });
    if (d.queue.empty()) return;  // stopping, and nothing is left to run
    std::vector<Deferred::Op> ops = std::move(d.queue);
    d.queue.clear();
    ++d.next_batch;
    lock.unlock();
    std::vector<std::unique_ptr<BatchOp>> runs;
    runs.reserve(ops.size());
    for (const auto& op : ops)
      runs.push_back(std::unique_ptr<BatchOp>(
          new BatchOp{op.statement, std::span<const PgParam>(op.params), op.key, 0, nullptr, false, {}}));
    for (std::size_t at = 0; at < runs.size(); at += kMaxBatch) {
      std::vector<BatchOp*> batch;
      for (std::size_t i = at; i < std::min(runs.size(), at + kMaxBatch); ++i) batch.push_back(runs[i].get());
      run_batch(batch);
    }
    std::vector<std::optional<std::int64_t>> affected(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (!runs[i]->error) affected[i] = runs[i]->affected;
    settle(ops, affected);
    lock.lock();
  }
}

void PgDatabase::settle(const std::vector<DeferredOp>& ops, const std::vector<std::optional<std::int64_t>>& affected) {
  Deferred& d = *deferred_;
  std::vector<std::pair<std::function<void(Settled)>, Settled>> reports;
  {
    std::lock_guard lock(d.mutex);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto it = d.scopes.find(ops[i].scope);
      Deferred::Scope& scope = it->second;
      if (!affected[i]) {
        scope.failed = true;
      } else if (*affected[i] != 1) {
        if (!scope.conflict && metrics_) metrics_->write_conflict();
        scope.conflict = true;
      }
      if (--scope.running == 0 && scope.done) {
        reports.emplace_back(std::move(scope.done), scope.outcome());
        d.scopes.erase(it);
      }
    }
  }
  // Outside the lock: a callback only hands the answer back to its connection's thread, or to the worker pool.
  for (auto& [done, outcome] : reports) done(outcome);
}

void PgDatabase::hand_to_committer_thread(std::vector<DeferredOp>&& ops) {
  if (ops.empty()) return;
  Deferred& d = *deferred_;
  {
    std::lock_guard lock(d.mutex);
    if (!d.thread.joinable()) d.thread = std::thread([this] { run_committer(); });
    for (auto& op : ops) d.queue.push_back(std::move(op));
  }
  ops.clear();
  d.work.notify_one();
}

namespace {
// The loop committer of the calling thread, for the database with this serial (commit_on).
struct LoopCommitterCache {
  std::uint64_t serial = 0;
  const void* loop = nullptr;
  void* committer = nullptr;
};
thread_local LoopCommitterCache t_loop_committer;
}  // namespace

void PgDatabase::commit_on(core::ports::EventLoop& loop) {
  if (t_loop_committer.serial == serial_ && t_loop_committer.loop == &loop) return;  // known already (either way)
  const auto me = std::this_thread::get_id();
  LoopCommitter* found = nullptr;
  {
    std::lock_guard lock(loop_committers_mutex_);
    for (auto& c : loop_committers_)
      if (c->thread == me) found = c.get();
    if (!found) found = loop_committers_.emplace_back(std::make_unique<LoopCommitter>(*this, me)).get();
  }
  if (found->loop == nullptr) found->loop = &loop;
  t_loop_committer = {serial_, &loop, found->loop == &loop ? found : nullptr};
}

PgDatabase::LoopCommitter* PgDatabase::loop_committer_here() noexcept {
  return t_loop_committer.serial == serial_ ? static_cast<LoopCommitter*>(t_loop_committer.committer) : nullptr;
}

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
  connect.answer_timeout_ms = 0;
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

bool PgDatabase::writable() noexcept {
  try {
    static const PgStatement query(
        "SELECT NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off'");
    return run([](PgConnection& c) {
      auto result = c.run(query);
      return result.rows() == 1 && result.boolean(0, 0);
    });
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

std::int64_t PgDatabase::batched_update(const PgStatement& statement, std::initializer_list<PgParam> params,
                                        std::int64_t key) {
  if (t_scope.db == this &&
      std::all_of(params.begin(), params.end(), [](const PgParam& p) { return p.self_contained(); }))
    return defer(statement, params, key);
  BatchOp op{&statement, std::span<const PgParam>(params.begin(), params.size()), key, 0, nullptr, false, {}};
  Pool& pool = *pool_;
  std::unique_lock lock(pool.batch_mutex);
  pool.batch_queue.push_back(&op);
  while (!op.done) {
    if (pool.batch_in_flight) {
      op.wake.wait(lock);
      continue;
    }
    // Lead the next batch: everything waiting, oldest first (this call is among them unless the queue is longer
    // than a batch, in which case it goes in a later one).
    pool.batch_in_flight = true;
    const auto n = static_cast<std::ptrdiff_t>(std::min(pool.batch_queue.size(), kMaxBatch));
    std::vector<BatchOp*> batch(pool.batch_queue.begin(), pool.batch_queue.begin() + n);
    pool.batch_queue.erase(pool.batch_queue.begin(), pool.batch_queue.begin() + n);
    lock.unlock();
    run_batch(batch);
    lock.lock();
    pool.batch_in_flight = false;
    // Under the lock: a caller that sees `done` returns, and its BatchOp (with `wake`) is gone.
    for (BatchOp* done : batch) {
      done->done = true;
      if (done != &op) done->wake.notify_one();
    }
    // The oldest waiting call leads the next batch, unless a new caller takes the lead first and carries it.
    if (!pool.batch_queue.empty()) pool.batch_queue.front()->wake.notify_one();
  }
  if (op.error) std::rethrow_exception(op.error);
  return op.affected;
}

void PgDatabase::run_batch(std::vector<BatchOp*>& batch) noexcept {
  const auto start = std::chrono::steady_clock::now();
  execute_batch(batch);
  if (!metrics_) return;
  const bool ok = std::none_of(batch.begin(), batch.end(), [](const BatchOp* b) { return b->error != nullptr; });
  metrics_->commit_batch(
      batch.size(),
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count(), ok);
}

void PgDatabase::execute_batch(std::vector<BatchOp*>& batch) noexcept {
  auto alone = [this](BatchOp& op) {
    try {
      op.affected = run([&](PgConnection& c) { return c.run(*op.statement, op.params).affected(); });
    } catch (...) {
      op.error = std::current_exception();
    }
  };
  if (batch.size() == 1) return alone(*batch.front());
  // One lock order for every batch of every node: no deadlock between batches.
  std::stable_sort(batch.begin(), batch.end(), [](const BatchOp* a, const BatchOp* b) { return a->key < b->key; });
  std::vector<PgBatchItem> items;
  items.reserve(batch.size());
  for (const BatchOp* op : batch) items.push_back(PgBatchItem{op->statement, op->params});
  try {
    const auto affected = run([&](PgConnection& c) { return c.run_batch(items); });
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->affected = affected[i];
  } catch (const PgError& e) {
    if (e.connection_lost()) {
      // The COMMIT may or may not have happened: every caller gets the transient failure a lone call would, each
      // its own copy (callers on other threads catch and free it; one shared object would be freed by whichever
      // thread is last, through a reference count ThreadSanitizer cannot see).
      for (BatchOp* op : batch) op->error = std::make_exception_ptr(e);
    } else {
      // Nothing of the batch was kept: each call runs again alone, and a failure reaches only its own caller.
      for (BatchOp* op : batch) alone(*op);
    }
  } catch (const core::ports::StorageError& e) {
    for (BatchOp* op : batch) op->error = std::make_exception_ptr(core::ports::StorageError(e.what(), e.transient()));
  } catch (const std::exception& e) {
    // Anything else (out of memory) fails the whole batch: a transient storage failure for each caller.
    for (BatchOp* op : batch)
      op->error = std::make_exception_ptr(core::ports::StorageError(std::string("postgres: ") + e.what(), true));
  } catch (...) {
    for (BatchOp* op : batch)
      op->error = std::make_exception_ptr(core::ports::StorageError("postgres: batch failed", true));
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
