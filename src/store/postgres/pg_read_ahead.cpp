#include "store/postgres/pg_read_ahead.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <variant>

#include "store/common/column_codec.hpp"
#include "store/postgres/pg_async_link.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_rows.hpp"

namespace boltauth::store::postgres {
namespace {

using core::model::Account;
using core::model::Client;
using core::model::Grant;
using core::ports::FailureWindow;
using core::ports::GrantView;

/// What one prefetch read, per key; each part is answered once (`has_*` cleared when taken).
struct Slot {
  const PgDatabase* db = nullptr;
  std::chrono::steady_clock::time_point at;
  bool has_client = false;
  std::string client_id;
  std::optional<Client> client;
  bool has_failures = false;
  std::string throttle_key;
  std::optional<FailureWindow> failures;
  bool has_grant = false;
  std::int64_t grant_id = 0;
  std::uint64_t jti = 0;
  std::optional<GrantView> view;
  bool has_account = false;
  std::optional<Account> account;  // of view->grant.sub
  bool has_client_grant = false;
  std::optional<Grant> client_grant;  // of client_id
  bool primed = false;                // filled by prefetch_async for the request running now, with `keys`
  core::ports::ReadAheadKeys keys;

  void clear() noexcept {
    db = nullptr;
    primed = false;
    has_client = has_failures = has_grant = has_account = has_client_grant = false;
  }
  bool answers(const PgDatabase& of) const noexcept {
    return db == &of && std::chrono::steady_clock::now() - at < std::chrono::seconds(1);
  }
};
thread_local Slot slot;

// One row whatever exists: each LEFT JOIN adds its row's columns, or NULLs when there is none (or no key: a NULL
// parameter matches nothing). Columns: client (kClientColumns) and failure window (2), then either the grant
// (kGrantColumns), whether the token is deny-listed (1) and the grant's account (kAccountColumns), or the client's
// client_credentials grant (kGrantColumns). One statement per shape, so that no execution pays for joins it does
// not need (PostgreSQL sets up every node of a plan at each execution).
constexpr int kFailuresAt = kClientColumns;
constexpr int kGrantAt = kFailuresAt + 2;
constexpr int kDeniedAt = kGrantAt + kGrantColumns;
constexpr int kAccountAt = kDeniedAt + 1;
constexpr int kClientGrantAt = kGrantAt;
const std::string client_part = "SELECT " + qualified(client_columns, "c") + ", f.window_start, f.failures";
const std::string client_from =
    " FROM (SELECT 1) AS one LEFT JOIN clients c ON c.id = $1::text LEFT JOIN auth_failures f ON f.key = $2::text";
const PgStatement client_sql(client_part + client_from);
const PgStatement grant_sql(
    client_part + ", g.id, " + qualified(grant_columns, "g") +
    ", EXISTS (SELECT 1 FROM denied_tokens d WHERE d.grant_id = g.id AND d.jti = $4::bigint), " +
    qualified(account_columns, "a") + client_from +
    " LEFT JOIN grants g ON g.id = $3::bigint LEFT JOIN accounts a ON a.sub = g.sub");
// `kind = 1` lets the planner use the partial unique index grants_client_credentials.
const PgStatement client_grant_sql(client_part + ", cg.id, " + qualified(grant_columns, "cg") + client_from +
                                   " LEFT JOIN grants cg ON cg.client_id = $1::text AND cg.kind = 1");

/// One prefetch's statement and parameters (which view the strings held here).
struct Query {
  explicit Query(const core::ports::ReadAheadKeys& k)
      : keys(k),
        client_id(k.client_id.empty() ? std::nullopt : std::optional<std::string>(k.client_id)),
        throttle_key(k.throttle_key.empty() ? std::nullopt : std::optional<std::string>(k.throttle_key)),
        jti(k.grant_id ? std::optional<std::int64_t>(common::encode_jti(k.jti)) : std::nullopt),
        client_grant(k.client_grant && client_id) {
    params[0] = client_id;
    params[1] = throttle_key;
    count = 2;
    if (client_grant) {
      statement = &client_grant_sql;
    } else if (k.grant_id) {
      statement = &grant_sql;
      params[2] = k.grant_id;
      params[3] = jti;
      count = 4;
    }
  }
  std::span<const PgParam> span() const noexcept { return {params.data(), count}; }

  const core::ports::ReadAheadKeys& keys;
  std::optional<std::string> client_id;
  std::optional<std::string> throttle_key;
  std::optional<std::int64_t> jti;
  bool client_grant;
  const PgStatement* statement = &client_sql;
  std::array<PgParam, 4> params{nullptr, nullptr, nullptr, nullptr};
  std::size_t count = 0;
};

/// Puts what `q`'s statement answered into this thread's slot.
void fill(const PgDatabase& db, const Query& q, const PgResult& r) {
  slot.clear();
  const auto& keys = q.keys;
  if (r.rows() != 1) throw core::ports::StorageError("postgres: read-ahead answered no row", false);
  if (q.client_id) {
    slot.has_client = true;
    slot.client_id = *q.client_id;
    slot.client = r.is_null(0, 0) ? std::nullopt : std::optional<Client>(read_client(r, 0, 0));
  }
  if (q.throttle_key) {
    slot.has_failures = true;
    slot.throttle_key = *q.throttle_key;
    slot.failures =
        r.is_null(0, kFailuresAt)
            ? std::nullopt
            : std::optional<FailureWindow>(FailureWindow{r.int64(0, kFailuresAt), r.int64(0, kFailuresAt + 1)});
  }
  if (keys.grant_id && !q.client_grant) {
    slot.has_grant = true;
    slot.grant_id = *keys.grant_id;
    slot.jti = keys.jti;
    slot.view.reset();
    if (!r.is_null(0, kGrantAt)) {
      GrantView view;
      view.grant = read_grant(r, 0, kGrantAt);
      view.denied = r.boolean(0, kDeniedAt);
      view.account_exists = !r.is_null(0, kAccountAt);
      if (view.account_exists) {
        slot.has_account = true;
        slot.account = read_account(r, 0, kAccountAt);
        view.account_deactivate_at = slot.account->deactivate_at;
      }
      slot.view = std::move(view);
    }
  }
  if (q.client_grant) {
    slot.has_client_grant = true;
    slot.client_grant =
        r.is_null(0, kClientGrantAt) ? std::nullopt : std::optional<Grant>(read_grant(r, 0, kClientGrantAt));
  }
  slot.db = &db;
  slot.at = std::chrono::steady_clock::now();
}

std::atomic<std::uint64_t> next_serial{1};

}  // namespace

void PgReadAhead::prefetch(const core::ports::ReadAheadKeys& keys) {
  // The rows prefetch_async just handed to this request: nothing more to read.
  if (slot.primed && slot.answers(db_) && slot.keys == keys) {
    slot.primed = false;
    return;
  }
  slot.clear();
  const Query q(keys);
  db_.run([&](PgConnection& c) { fill(db_, q, c.run(*q.statement, q.span())); });
}

void PgReadAhead::forget() noexcept { slot.clear(); }

// --- without waiting ---------------------------------------------------------------------------------------------

/// One thread's pipelined connection and the requests whose reads are in flight on it, oldest first (PostgreSQL
/// answers in order). Touched by its own thread only.
struct PgReadAhead::Reader {
  struct Waiting {
    core::ports::ReadAheadKeys keys;
    std::function<void()> done;
    std::chrono::steady_clock::time_point sent;
  };

  Reader(PgDatabase& of, std::thread::id owner);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  void on_readable(std::uint64_t of_generation, bool ok);
  void await_answers();
  /// Arms the watchdog (once per connection at a time) when the connection has an answer timeout.
  void watch();
  /// The watchdog: a connection whose oldest waiting read went unanswered for the answer timeout is stuck (a server
  /// that stopped running answers nothing, and its kernel keeps the connection up): dropped, so its requests run.
  void on_watchdog(std::uint64_t of_generation);
  /// Drops the connection; every request still waiting runs later, with nothing read for it (it reads itself).
  void drop() noexcept;

  PgDatabase& db;
  const std::thread::id thread;
  core::ports::EventLoop* loop = nullptr;
  PgAsyncLink link;  // the connection for the reads
  std::deque<Waiting> waiting;
  bool reading = false;          // a readable wait is armed
  bool watching = false;         // the watchdog is armed for this generation
  std::uint64_t generation = 0;  // bumped by drop(): waits armed for an older connection do nothing
};

namespace {
std::unique_ptr<PgConnection> open_for_reads(PgDatabase& db) {
  auto connection = db.open_connection();
  connection->enter_async({&client_sql, &grant_sql, &client_grant_sql});
  return connection;
}
}  // namespace

PgReadAhead::Reader::Reader(PgDatabase& of, std::thread::id owner)
    : db(of), thread(owner), link([&of] { return open_for_reads(of); }) {}

void PgReadAhead::Reader::await_answers() {
  if (reading) return;
  reading = true;
  loop->await(link.fd(), false, [this, g = generation](bool ok) { on_readable(g, ok); });
}

void PgReadAhead::Reader::watch() {
  if (watching || !link.connection() || link.connection()->answer_timeout_ms() <= 0 || waiting.empty()) return;
  const auto limit = std::chrono::milliseconds(link.connection()->answer_timeout_ms());
  const auto due = waiting.front().sent + limit;
  const auto delay = std::chrono::ceil<std::chrono::milliseconds>(due - std::chrono::steady_clock::now());
  watching = true;
  loop->after(std::max(delay, std::chrono::milliseconds(1)), [this, g = generation] { on_watchdog(g); });
}

void PgReadAhead::Reader::on_watchdog(std::uint64_t of_generation) {
  if (of_generation != generation) return;  // that connection is gone, and its watch with it
  watching = false;
  if (waiting.empty() || !link.connection()) return;
  const auto limit = std::chrono::milliseconds(link.connection()->answer_timeout_ms());
  if (std::chrono::steady_clock::now() - waiting.front().sent >= limit) return drop();
  watch();  // the reads that timed this watch were answered: watch the oldest one left
}

void PgReadAhead::Reader::on_readable(std::uint64_t of_generation, bool ok) {
  if (of_generation != generation) return;
  reading = false;
  if (!ok) return drop();
  try {
    link.connection()->consume();
    while (!waiting.empty()) {
      auto answer = link.connection()->next_answer();
      if (!answer) break;
      Waiting w = std::move(waiting.front());
      waiting.pop_front();
      bool misaligned = false;
      if (const auto* rows = std::get_if<PgResult>(&*answer)) {
        try {
          fill(db, Query(w.keys), *rows);
          // The rows must be the ones asked for (answers pair with requests by their order alone): anything else
          // is not used, and the request reads for itself.
          const bool client_ok = !slot.has_client || !slot.client || slot.client->id == w.keys.client_id;
          const bool grant_ok = !slot.has_grant || !slot.view || slot.view->grant.id == *w.keys.grant_id;
          const bool client_grant_ok =
              !slot.has_client_grant || !slot.client_grant || slot.client_grant->client_id == w.keys.client_id;
          misaligned = !client_ok || !grant_ok || !client_grant_ok;
          if (misaligned) slot.clear();
          slot.primed = !misaligned;
          slot.keys = w.keys;
        } catch (const std::exception&) {
          slot.clear();  // unreadable: the request reads for itself
        }
      }
      // A failed statement (std::get<PgError>) leaves nothing held: the request's own prefetch meets the failure
      // again, or not, and answers it as any read failure.
      w.done();
      slot.clear();                   // whatever the request did not take goes with it
      if (misaligned) return drop();  // never seen; the answers behind it cannot be trusted either
    }
  } catch (const PgError&) {
    return drop();
  }
  if (!waiting.empty() && link.connection()) await_answers();
}

void PgReadAhead::Reader::drop() noexcept {
  if (link.connection()) loop->forget(link.fd());
  link.close();
  ++generation;
  reading = watching = false;
  if (waiting.empty()) return;
  // Later, on the loop: the caller may be prefetch_async, whose own request the caller then runs itself.
  loop->post([orphans = std::make_shared<std::deque<Waiting>>(std::move(waiting))] {
    for (auto& w : *orphans) w.done();
  });
  waiting.clear();
}

PgReadAhead::PgReadAhead(PgDatabase& db) : db_(db), serial_(next_serial.fetch_add(1)) {}

PgReadAhead::~PgReadAhead() = default;

PgReadAhead::Reader& PgReadAhead::reader_of_this_thread() {
  thread_local const PgReadAhead* cached_owner = nullptr;
  thread_local std::uint64_t cached_serial = 0;
  thread_local Reader* cached = nullptr;
  if (cached_owner == this && cached_serial == serial_) return *cached;
  const auto me = std::this_thread::get_id();
  std::lock_guard lock(mutex_);
  Reader* found = nullptr;
  for (auto& r : readers_)
    if (r->thread == me) found = r.get();
  if (!found) found = readers_.emplace_back(std::make_unique<Reader>(db_, me)).get();
  cached_owner = this;
  cached_serial = serial_;
  cached = found;
  return *found;
}

bool PgReadAhead::prefetch_async(const core::ports::ReadAheadKeys& keys, core::ports::EventLoop& loop,
                                 std::function<void()> done) {
  db_.commit_on(loop);  // this thread's deferred writes too are sent and answered on `loop`
  Reader& r = reader_of_this_thread();
  if (r.loop != nullptr && r.loop != &loop) return false;  // one loop per thread
  r.loop = &loop;
  if (r.link.connection() && r.waiting.empty() && !r.link.connection()->alive())
    r.drop();  // ended while idle (a restart)
  // Without a connection the request reads for itself, through the pool, and fails or not as it would have.
  if (!r.link.connect()) return false;
  bool queued = false;
  try {
    const Query q(keys);
    r.link.connection()->send(*q.statement, q.span());
    r.waiting.push_back({keys, std::move(done), std::chrono::steady_clock::now()});
    queued = true;
    r.link.send_queued(loop, [&r] { r.drop(); });
  } catch (const PgError&) {
    if (queued) r.waiting.pop_back();  // this request: its caller runs it, the others run later (drop)
    r.drop();
    return false;
  }
  r.await_answers();
  r.watch();
  return true;
}

std::optional<std::optional<Client>> PgReadAhead::take_client(const PgDatabase& db, std::string_view id) {
  if (!slot.has_client || !slot.answers(db) || slot.client_id != id) return std::nullopt;
  slot.has_client = false;
  return std::move(slot.client);
}

std::optional<std::optional<FailureWindow>> PgReadAhead::take_failures(const PgDatabase& db, std::string_view key) {
  if (!slot.has_failures || !slot.answers(db) || slot.throttle_key != key) return std::nullopt;
  slot.has_failures = false;
  return slot.failures;
}

std::optional<std::optional<GrantView>> PgReadAhead::take_grant_view(const PgDatabase& db, std::int64_t id,
                                                                     std::uint64_t jti) {
  if (!slot.has_grant || !slot.answers(db) || slot.grant_id != id || slot.jti != jti) return std::nullopt;
  slot.has_grant = false;
  return slot.view;
}

std::optional<std::optional<Grant>> PgReadAhead::take_grant(const PgDatabase& db, std::int64_t id) {
  if (!slot.has_grant || !slot.answers(db) || slot.grant_id != id) return std::nullopt;
  slot.has_grant = false;
  if (!slot.view) return std::optional<Grant>();
  return std::optional<Grant>(slot.view->grant);
}

std::optional<std::optional<Grant>> PgReadAhead::take_client_grant(const PgDatabase& db, std::string_view client_id) {
  if (!slot.has_client_grant || !slot.answers(db) || slot.client_id != client_id) return std::nullopt;
  slot.has_client_grant = false;
  return std::move(slot.client_grant);
}

std::optional<std::optional<Account>> PgReadAhead::take_account(const PgDatabase& db, std::string_view sub) {
  // Only an account the prefetch found: a grant without one says nothing about `sub` (it may be another's).
  if (!slot.has_account || !slot.answers(db) || !slot.account || slot.account->sub != sub) return std::nullopt;
  slot.has_account = false;
  return std::move(slot.account);
}

}  // namespace boltauth::store::postgres
