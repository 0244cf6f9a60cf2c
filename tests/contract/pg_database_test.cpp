// What only the PostgreSQL adapter promises: the pool, session settings, migrations, error classification and
// messages, transactions, and single use under many concurrent connections.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "contract/pg_test_support.hpp"
#include "store/common/column_codec.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_schema.hpp"

namespace boltauth::contract {
namespace {

using core::ports::ConsumeOutcome;
using core::ports::StorageError;
using store::postgres::PgConnection;
using store::postgres::PgDatabase;
using store::postgres::PgError;
using store::postgres::PgStatement;

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// The message of what `fn` throws (fails the test when it does not throw `E`).
template <class E, class F>
std::string thrown_message(F&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "nothing thrown";
  return "";
}

std::string first_value(PgDatabase& db, const std::string& sql) {
  return db.run([&](PgConnection& c) { return c.exec(sql).text(0, 0); });
}

// --- the test cluster itself ------------------------------------------------------------------------------------

TEST(PgClusterSupport, CreatesDistinctEmptyDatabasesAndDropsThem) {
  auto& cluster = testing::PgCluster::shared();
  const auto a = cluster.create_database();
  const auto b = cluster.create_database();
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("postgresql://boltauth@127.0.0.1:" + std::to_string(cluster.port()) + "/")) << a;
  for (const auto& url : {a, b}) {
    EXPECT_EQ(cluster.query(url, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"), "0")
        << "never migrated";
    EXPECT_EQ(cluster.query(url, "SHOW fsync"), "on");
  }
  cluster.query(a, "CREATE TABLE marker (x int)");
  EXPECT_EQ(cluster.query(b, "SELECT to_regclass('marker') IS NULL"), "t") << "databases are separate";
  cluster.drop_database(a);
  EXPECT_THROW(cluster.query(a, "SELECT 1"), std::runtime_error);
  cluster.drop_database(b);
}

// --- migrations --------------------------------------------------------------------------------------------------

TEST(PgDatabase, MigrateIsIdempotentAndRecordsEachVersionOnce) {
  PgTestDatabase database;
  PgDatabase db(pg_options(database.url()));
  const int latest = PgDatabase::latest_schema_version();
  ASSERT_GE(latest, 1);
  EXPECT_EQ(db.schema_version(), 0);
  EXPECT_EQ(db.migrate(), std::make_pair(0, latest));
  EXPECT_EQ(db.migrate(), std::make_pair(latest, latest));
  EXPECT_EQ(db.schema_version(), latest);
  EXPECT_NO_THROW(db.require_current_schema());
  EXPECT_EQ(database.query("SELECT count(*), max(version) FROM schema_version"),
            std::to_string(latest) + "|" + std::to_string(latest));
  // A second process (another pool) sees the same and changes nothing.
  PgDatabase other(pg_options(database.url()));
  EXPECT_EQ(other.migrate(), std::make_pair(latest, latest));
}

TEST(PgDatabase, ConcurrentMigrationsApplyEachVersionOnce) {
  PgTestDatabase database;
  constexpr int processes = 6;
  std::vector<std::pair<int, int>> results(processes);
  {
    std::barrier start(processes);
    std::vector<std::jthread> threads;
    for (int i = 0; i < processes; ++i)
      threads.emplace_back([&, i] {
        PgDatabase db(pg_options(database.url(), 1));
        start.arrive_and_wait();
        results[static_cast<std::size_t>(i)] = db.migrate();
      });
  }
  const int latest = PgDatabase::latest_schema_version();
  int from_zero = 0;
  for (const auto& [before, after] : results) {
    EXPECT_EQ(after, latest);
    from_zero += before == 0 ? 1 : 0;
  }
  EXPECT_EQ(from_zero, 1) << "exactly one process applied the migrations";
  EXPECT_EQ(database.query("SELECT count(*) FROM schema_version"), std::to_string(latest));
}

TEST(PgDatabase, RefusesASchemaNewerThanTheBinary) {
  PgTestDatabase database;
  PgDatabase db(pg_options(database.url()));
  db.migrate();
  const int newer = PgDatabase::latest_schema_version() + 1;
  database.query("INSERT INTO schema_version VALUES (" + std::to_string(newer) + ", 0)");
  EXPECT_EQ(db.schema_version(), newer);
  const auto migrate_message = thrown_message<std::runtime_error>([&] { db.migrate(); });
  EXPECT_TRUE(contains(migrate_message, "newer")) << migrate_message;
  EXPECT_TRUE(contains(migrate_message, std::to_string(newer))) << migrate_message;
  const auto require_message = thrown_message<std::runtime_error>([&] { db.require_current_schema(); });
  EXPECT_TRUE(contains(require_message, "newer")) << require_message;
  EXPECT_TRUE(contains(require_message, "upgrade boltauth")) << require_message;
  // Nothing was changed by the refused migration.
  EXPECT_EQ(database.query("SELECT count(*) FROM schema_version"), std::to_string(newer));
}

TEST(PgDatabase, RequireCurrentSchemaNamesTheMigrateCommandWithoutThePassword) {
  PgTestDatabase database;
  const auto url = database.cluster().password_url(database.url(), testing::PgCluster::password);
  PgDatabase db(pg_options(url));
  const auto message = thrown_message<std::runtime_error>([&] { db.require_current_schema(); });
  EXPECT_TRUE(contains(message, "boltauth migrate --store-url")) << message;
  EXPECT_TRUE(contains(message, db.redacted_url())) << message;
  EXPECT_TRUE(contains(message, "version 0")) << message;
  EXPECT_FALSE(contains(message, testing::PgCluster::password)) << message;
  db.migrate();
  EXPECT_NO_THROW(db.require_current_schema());
}

TEST(PgDatabase, MigrationOneIsTheWholeV2Schema) {
  PgTestDatabase database;
  PgDatabase db(pg_options(database.url()));
  db.migrate();
  EXPECT_EQ(
      database.query("SELECT string_agg(relname || ':' || relpersistence::text, ',' ORDER BY relname) FROM pg_class "
                     "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"),
      "accounts:p,addresses:p,auth_failures:u,clients:p,denied_tokens:p,grants:p,idempotency_keys:p,"
      "login_requests:p,login_sessions:p,schema_version:p,secrets:p");
  // Indexes serving cascades, the janitor's expiry scans and client_credentials' one row per client.
  const auto indexes = database.query(
      "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'");
  for (const char* name :
       {"grants_by_client", "grants_client_credentials", "login_requests_by_client", "denied_tokens_expires_at",
        "login_requests_expires_at", "login_sessions_expires_at", "clients_secret_hash", "addresses_by_sub",
        "addresses_one_default", "idempotency_keys_created_at"})
    EXPECT_TRUE(contains(indexes, name)) << name << " in " << indexes;
  // No index on a column a rotation changes: a refresh is a HOT update.
  EXPECT_EQ(database.query("SELECT count(*) FROM pg_indexes WHERE tablename = 'grants' AND (indexdef LIKE "
                           "'%generation%' OR indexdef LIKE '%expires_at%' OR indexdef LIKE '%rotated_at%')"),
            "0");
}

TEST(PgDatabase, ADatabaseOfVersionThreeMigratesToAddressBooksAndKeepsItsRows) {
  PgTestDatabase database;
  PgDatabase db(pg_options(database.url()));
  // Version 3 is the schema the release before address books and Idempotency-Keys left.
  db.run([](PgConnection& c) {
    c.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    for (int version = 1; version <= 3; ++version) {
      c.exec(store::postgres::PgSchema::migration(version));
      c.exec("INSERT INTO schema_version (version, applied_at) VALUES ($1, 0)", {version});
    }
  });
  ASSERT_EQ(db.schema_version(), 3);
  store::postgres::PgClientStore clients(db);
  store::postgres::PgAccountStore accounts(db);
  ASSERT_TRUE(clients.insert(make_client("client-a")));
  // The row as that release wrote it (today's adapter also writes the email digest column added since).
  db.run([](PgConnection& c) {
    c.exec(
        "INSERT INTO accounts (sub, email, email_verified, first_name, last_name, phone, phone_verified, otp_hash, "
        "deactivate_at, created_at, updated_at) VALUES ('sub-1', 'a@example.com', true, 'Ada', 'Lovelace', NULL, "
        "false, NULL, NULL, 100, 100)");
  });
  EXPECT_THROW(db.require_current_schema(), std::runtime_error);

  EXPECT_EQ(db.migrate(), std::make_pair(3, PgDatabase::latest_schema_version()));
  // Rows written before the digest was kept get it when a node starts.
  EXPECT_EQ(accounts.fill_email_sha256(), 1u);
  EXPECT_EQ(accounts.find_by_email_sha256(store::common::email_sha256_hex("a@example.com"))->sub, "sub-1");
  EXPECT_EQ(clients.find("client-a"), make_client("client-a"));
  EXPECT_EQ(accounts.find("sub-1")->email, "a@example.com");
  store::postgres::PgAddressStore addresses(db);
  auto address = make_address("addr-1", "sub-1", t0);
  EXPECT_EQ(addresses.add(address, 10), core::ports::AddressStore::AddResult::added);
  EXPECT_TRUE(address.is_default);
  EXPECT_TRUE(store::postgres::PgIdempotencyStore(db).claim("client-a", "key-1", "hash", t0));
}

// --- connections, settings, messages -----------------------------------------------------------------------------

TEST(PgDatabase, EveryConnectionCommitsSynchronouslyWithTheConfiguredTimeout) {
  PgTestDatabase database;
  auto options = pg_options(database.url());
  options.statement_timeout_ms = 4321;
  PgDatabase db(options);
  EXPECT_EQ(first_value(db, "SHOW synchronous_commit"), "on");
  EXPECT_EQ(first_value(db, "SHOW statement_timeout"), "4321ms");
  EXPECT_EQ(first_value(db, "SHOW application_name"), "boltauth");
  EXPECT_EQ(first_value(db, "SHOW client_encoding"), "UTF8");
  EXPECT_TRUE(db.ping());
}

TEST(PgDatabase, ServerWideAsynchronousCommitIsOverriddenPerConnection) {
  // A database configured for asynchronous commit must not make boltauth answer before its writes are flushed.
  PgTestDatabase database;
  database.query("ALTER DATABASE " + database.url().substr(database.url().rfind('/') + 1) +
                 " SET synchronous_commit = off");
  PgDatabase db(pg_options(database.url()));
  EXPECT_EQ(first_value(db, "SHOW synchronous_commit"), "on");
}

TEST(PgDatabase, AWrongPortFailsFastWithATransientErrorWithoutThePassword) {
  const std::string secret = "s3cret-never-shown";
  // Port 1 on loopback: nothing listens there (tcpmux), so the connection is refused at once.
  const std::string url = "postgresql://boltauth:" + secret + "@127.0.0.1:1/postgres";
  const auto started = std::chrono::steady_clock::now();
  try {
    PgDatabase db(pg_options(url));
    FAIL() << "connected to port 1";
  } catch (const StorageError& e) {
    EXPECT_TRUE(e.transient()) << e.what();
    EXPECT_FALSE(contains(e.what(), secret)) << e.what();
    EXPECT_TRUE(contains(e.what(), "127.0.0.1:1/postgres")) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

// A database host that vanishes without closing its connections must cost a request seconds, not the ~15 minutes
// the kernel retransmits for: the kernel's settings on the connection's socket are what decides that.
TEST(PgConnection, TcpConnectionsGiveUpOnASilentHostAndTheUrlMayOverride) {
  PgTestDatabase database;
  ASSERT_TRUE(contains(database.url(), "127.0.0.1")) << "the test needs a TCP connection: " << database.url();
  auto option = [](const PgConnection& c, int level, int name) {
    int value = -1;
    socklen_t size = sizeof value;
    EXPECT_EQ(::getsockopt(c.socket(), level, name, &value, &size), 0) << std::strerror(errno);
    return value;
  };
  store::postgres::PgConnectOptions options;
  options.url = database.url();
  const auto c = PgConnection::open(options);
  EXPECT_EQ(option(*c, SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(option(*c, IPPROTO_TCP, TCP_KEEPIDLE), 5);
  EXPECT_EQ(option(*c, IPPROTO_TCP, TCP_KEEPINTVL), 2);
  EXPECT_EQ(option(*c, IPPROTO_TCP, TCP_KEEPCNT), 3);
  EXPECT_EQ(option(*c, IPPROTO_TCP, TCP_USER_TIMEOUT), 10000);
  EXPECT_EQ(c->exec("SELECT 1").text(0, 0), "1");

  // The URL's own settings win over these defaults.
  options.url += std::string(contains(options.url, "?") ? "&" : "?") + "keepalives_idle=30&tcp_user_timeout=0";
  const auto tuned = PgConnection::open(options);
  EXPECT_EQ(option(*tuned, IPPROTO_TCP, TCP_KEEPIDLE), 30);
  EXPECT_EQ(option(*tuned, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
  EXPECT_EQ(option(*tuned, IPPROTO_TCP, TCP_KEEPCNT), 3);
}

TEST(PgDatabase, AWrongPasswordFailsWithoutEchoingItAndTheRightOneConnects) {
  PgTestDatabase database;
  const std::string wrong = "not-the-password-4711";
  const auto url = database.cluster().password_url(database.url(), wrong);
  try {
    PgDatabase db(pg_options(url));
    FAIL() << "connected with a wrong password";
  } catch (const StorageError& e) {
    EXPECT_FALSE(contains(e.what(), wrong)) << e.what();
    EXPECT_TRUE(contains(e.what(), "password authentication failed")) << e.what();
    EXPECT_TRUE(contains(e.what(), testing::PgCluster::password_user)) << e.what();
  }
  PgDatabase db(pg_options(database.cluster().password_url(database.url(), testing::PgCluster::password)));
  EXPECT_TRUE(db.ping());
  EXPECT_FALSE(contains(db.redacted_url(), testing::PgCluster::password)) << db.redacted_url();
}

TEST(PgDatabase, RedactedUrlHidesEveryFormOfPassword) {
  using store::postgres::redact_url;
  EXPECT_EQ(redact_url("postgresql://u:pw@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(redact_url("postgres://u:p%40w@h/db?sslmode=require"), "postgres://u:***@h/db?sslmode=require");
  EXPECT_EQ(redact_url("postgresql://u@h/db?password=pw&sslmode=require"),
            "postgresql://u@h/db?password=***&sslmode=require");
  EXPECT_EQ(redact_url("host=h password='p w' dbname=db"), "host=h password=*** dbname=db");
  EXPECT_EQ(redact_url("host=h password=pw dbname=db"), "host=h password=*** dbname=db");
  EXPECT_EQ(redact_url("postgresql://u@h/db"), "postgresql://u@h/db");
}

TEST(PgDatabase, StatementTimeoutIsTransientAndTheConnectionStaysUsable) {
  PgTestDatabase database;
  auto options = pg_options(database.url(), 1);
  options.statement_timeout_ms = 100;
  PgDatabase db(options);
  try {
    db.run([](PgConnection& c) { c.exec("SELECT pg_sleep(2)"); });
    FAIL() << "the statement ran past its timeout";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.transient()) << e.what();
    EXPECT_EQ(e.sqlstate(), "57014");
    EXPECT_FALSE(e.connection_lost());
    EXPECT_TRUE(contains(e.what(), "SQLSTATE 57014")) << e.what();
  }
  const auto pid = first_value(db, "SELECT pg_backend_pid()");
  EXPECT_EQ(first_value(db, "SELECT pg_backend_pid()"), pid) << "the one pooled connection was kept";
}

TEST(PgDatabase, ConstraintViolationsArePermanentAndNamedBySqlstate) {
  PgTestDatabase database;
  PgStoreSet stores(pg_options(database.url()));
  try {
    stores.grants().insert_grant(make_grant("g", "no-such-client", t0));
    FAIL() << "stored a grant of an unknown client";
  } catch (const PgError& e) {
    EXPECT_FALSE(e.transient()) << e.what();
    EXPECT_EQ(e.sqlstate(), "23503");
    EXPECT_TRUE(contains(e.what(), "SQLSTATE 23503")) << e.what();
  }
  ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
  stores.logins().insert_request(make_login_request("r1", "client-a"));
  try {
    stores.logins().insert_request(make_login_request("r1", "client-a"));
    FAIL() << "stored a login request twice";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.unique_violation()) << e.what();
    EXPECT_FALSE(e.transient());
  }
  EXPECT_TRUE(stores.db().ping());
}

TEST(PgDatabase, TransactionKeepsNothingWhenItsFunctionThrows) {
  PgTestDatabase database;
  PgStoreSet stores(pg_options(database.url(), 1));
  ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
  EXPECT_THROW(stores.db().transaction([](PgConnection& c) {
    c.exec("UPDATE clients SET name = 'changed'");
    throw std::logic_error("callback failed");
  }),
               std::logic_error);
  // A statement that fails inside the transaction, caught by the function: COMMIT must not report success.
  EXPECT_THROW(stores.db().transaction([](PgConnection& c) {
    c.exec("UPDATE clients SET name = 'changed'");
    try {
      c.exec("SELECT 1/0");
    } catch (const PgError&) {
    }
  }),
               PgError);
  EXPECT_EQ(stores.clients().find("client-a"), make_client("client-a"));
  EXPECT_EQ(stores.db().transaction([](PgConnection& c) { return c.exec("SELECT 41 + 1").int64(0, 0); }), 42);
  EXPECT_EQ(database.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = "
                           "'idle in transaction'"),
            "0");
}

TEST(PgDatabase, TransactionRerunsADeadlockVictim) {
  PgTestDatabase database;
  PgStoreSet stores(pg_options(database.url(), 2));
  ASSERT_TRUE(stores.clients().insert(make_client("a")));
  ASSERT_TRUE(stores.clients().insert(make_client("b")));
  std::atomic<int> calls{0};
  std::barrier both_locked(2);
  std::atomic<bool> first_round{true};
  const auto lock_both = [&](const char* first, const char* second) {
    stores.db().transaction([&](PgConnection& c) {
      ++calls;
      c.exec("UPDATE clients SET name = name || '+' WHERE id = $1", {first});
      if (first_round.load()) both_locked.arrive_and_wait();  // each holds one row and wants the other's
      first_round = false;
      c.exec("UPDATE clients SET name = name || '+' WHERE id = $1", {second});
    });
  };
  {
    std::jthread one([&] { EXPECT_NO_THROW(lock_both("a", "b")); });
    std::jthread two([&] { EXPECT_NO_THROW(lock_both("b", "a")); });
  }
  // The victim ran again; on a loaded machine (TSan, parallel tests) its rerun can meet the winner again and be
  // rerun once more, so the count is a floor. What must hold exactly is below.
  EXPECT_GE(calls.load(), 3) << "the deadlock victim ran again";
  // Each committed transaction appended once to each row; the victim's failed attempts left nothing.
  EXPECT_EQ(stores.clients().find("a")->name, "Shop a++");
  EXPECT_EQ(stores.clients().find("b")->name, "Shop b++");
}

TEST(PgDatabase, ThePoolNeverOpensMoreConnectionsThanConfigured) {
  PgTestDatabase database;
  PgDatabase db(pg_options(database.url(), 3));
  std::atomic<int> peak{0};
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&] {
        for (int j = 0; j < 3; ++j)
          db.run([&](PgConnection& c) {
            c.exec("SELECT pg_sleep(0.05)");
            const auto open = c.exec(
                                   "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                                   "application_name = 'boltauth'")
                                  .int64(0, 0);
            int seen = peak.load();
            while (open > seen && !peak.compare_exchange_weak(seen, static_cast<int>(open))) {
            }
          });
      });
  }
  EXPECT_GE(peak.load(), 2);
  EXPECT_LE(peak.load(), 3);
}

// --- single use under many connections ---------------------------------------------------------------------------

TEST(PgDatabase, ThirtyTwoConcurrentRedeemsAndRotationsHaveExactlyOneWinner) {
  PgTestDatabase database;
  PgStoreSet stores(pg_options(database.url(), 32));
  ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
  for (int round = 0; round < 3; ++round) {
    const auto id = stores.grants().insert_grant(make_grant("g" + std::to_string(round), "client-a", t0));
    auto result = race(32, [&](int thread) { return stores.grants().redeem(id, t0 + 1 + thread % 3, t0 + 1000); });
    EXPECT_EQ(result.consumed, 1);
    EXPECT_EQ(result.lost, 31);
    for (int generation = 1; generation <= 3; ++generation) {
      result =
          race(32, [&](int thread) { return stores.grants().rotate(id, generation, t0 + 10 + thread, t0 + 2000); });
      EXPECT_EQ(result.consumed, 1) << "generation " << generation;
      EXPECT_EQ(result.lost, 31) << "generation " << generation;
    }
    // The previous generation's grace replay, raced against a rotation of the current one: one of them wins.
    result = race(32, [&](int thread) {
      return thread % 2 == 0 ? stores.grants().replay(id, 4, t0, t0 + 50, t0 + 3000)
                             : stores.grants().rotate(id, 4, t0 + 50, t0 + 3000);
    });
    EXPECT_EQ(result.consumed, 1);
    EXPECT_EQ(stores.grants().find_grant(id).value().generation, 5);
  }
}

/// A table of `rows` counters at 0, and the UPDATE that bumps one of them. It divides by $2: 0 makes that one call
/// fail (22012, permanent).
const PgStatement& counters(PgTestDatabase& database, int rows) {
  database.query("CREATE TABLE counters (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)");
  database.query("INSERT INTO counters SELECT g, 0 FROM generate_series(1, " + std::to_string(rows) + ") g");
  static const PgStatement bump("UPDATE counters SET v = v + 1 WHERE id = $1 AND 1 / $2 = 1");
  return bump;
}

// A server that stops answering (a stalled disk, stopped processes) keeps its TCP connections alive, and its
// statement_timeout never fires: the client gives the connection up after its own answer timeout.
TEST(PgConnection, AServerThatStopsAnsweringCostsTheAnswerTimeoutNotForever) {
  PgTestDatabase database;
  store::postgres::PgConnectOptions options;
  options.url = database.url();
  options.answer_timeout_ms = 700;
  const auto c = PgConnection::open(options);
  const auto batch_connection = PgConnection::open(options);
  const PgStatement& bump = counters(database, 1);
  const std::array<store::postgres::PgParam, 2> params{store::postgres::PgParam(std::int64_t{1}),
                                                       store::postgres::PgParam(std::int64_t{1})};
  const std::array<store::postgres::PgBatchItem, 1> items{
      store::postgres::PgBatchItem{&bump, std::span<const store::postgres::PgParam>(params)}};
  ASSERT_EQ(batch_connection->run_batch(items), std::vector<std::int64_t>{1});  // prepared: only the batch waits
  const pid_t backend = static_cast<pid_t>(std::stol(c->exec("SELECT pg_backend_pid()").text(0, 0)));
  const pid_t batch_backend =
      static_cast<pid_t>(std::stol(batch_connection->exec("SELECT pg_backend_pid()").text(0, 0)));
  const StoppedProcesses stopped({backend, batch_backend});
  ASSERT_EQ(stopped.error(), "");

  auto started = std::chrono::steady_clock::now();
  try {
    (void)c->exec("SELECT 1");
    FAIL() << "a stopped server answered";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.transient()) << e.what();
    EXPECT_TRUE(e.connection_lost()) << e.what();
    EXPECT_TRUE(contains(e.what(), "no answer")) << e.what();
  }
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(650));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_FALSE(c->usable());

  // A batch whose answer never comes has an unknown outcome: a lost connection, never a success.
  started = std::chrono::steady_clock::now();
  try {
    (void)batch_connection->run_batch(items);
    FAIL() << "a stopped server answered a batch";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.connection_lost()) << e.what();
  }
  waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(650));
  EXPECT_LT(waited, std::chrono::seconds(5));
}

// The pool's connections wait five seconds past the statement timeout, then the pool replaces the connection.
TEST(PgDatabase, ThePoolGivesAStoppedServerUpAndConnectsAgainOnceItRuns) {
  PgTestDatabase database;
  auto options = pg_options(database.url(), 1);
  options.statement_timeout_ms = 100;
  PgDatabase db(options);
  const pid_t backend = static_cast<pid_t>(std::stol(first_value(db, "SELECT pg_backend_pid()")));
  StoppedProcesses stopped({backend});
  ASSERT_EQ(stopped.error(), "");
  const auto started = std::chrono::steady_clock::now();
  const std::string message = thrown_message<StorageError>([&] { (void)first_value(db, "SELECT 1"); });
  const auto waited = std::chrono::steady_clock::now() - started;
  stopped.resume();
  EXPECT_TRUE(contains(message, "within 5100 ms")) << message;
  EXPECT_GE(waited, std::chrono::milliseconds(5000));
  EXPECT_LT(waited, std::chrono::seconds(10));
  EXPECT_EQ(first_value(db, "SELECT 2"), "2");
  EXPECT_NE(first_value(db, "SELECT pg_backend_pid()"), std::to_string(backend));
}

TEST(PgDatabase, BatchedUpdatesShareCommitsAndAFailureReachesOnlyItsCaller) {
  PgTestDatabase database;
  PgDatabase db(pg_options(database.url(), 4));
  const PgStatement& bump = counters(database, 32);
  constexpr int threads = 32;
  // Every thread bumps its own row at once; `failing` (or none: -1) divides by zero. Returns {updated, failed}.
  auto round = [&](int failing) {
    std::barrier start(threads);
    std::atomic<int> updated{0}, failed{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        start.arrive_and_wait();
        const std::int64_t id = 32 - t;  // the batch orders by key, not by arrival
        try {
          updated += static_cast<int>(db.batched_update(bump, {id, t == failing ? 0 : 1}, id));
        } catch (const PgError& e) {
          EXPECT_EQ(e.sqlstate(), "22012");
          EXPECT_FALSE(e.transient());
          ++failed;
        }
      });
    }
    for (auto& th : pool) th.join();
    return std::make_pair(updated.load(), failed.load());
  };
  EXPECT_EQ(round(-1), std::make_pair(threads, 0));
  // Calls that waited together committed together: fewer transactions than calls.
  EXPECT_LT(std::stoi(database.query("SELECT count(DISTINCT xmin::text) FROM counters")), threads);
  EXPECT_EQ(round(7), std::make_pair(threads - 1, 1));
  // Every other call applied exactly once, even those whose batch failed and ran again alone.
  EXPECT_EQ(database.query("SELECT sum(v), count(*) FILTER (WHERE v = 1) FROM counters"), "63|1");
  // An unknown row changes nothing and is no error.
  EXPECT_EQ(db.batched_update(bump, {std::int64_t{1000}, 1}, 1000), 0);
}

TEST(PgConnection, ABatchIsOneTransactionKeptWholeOrNotAtAll) {
  PgTestDatabase database;
  PgDatabase db(pg_options(database.url(), 1));
  const PgStatement& bump = counters(database, 4);
  using store::postgres::PgBatchItem;
  using store::postgres::PgParam;
  auto batch = [&](std::vector<std::array<PgParam, 2>> params) {
    return db.run([&](PgConnection& c) {
      std::vector<PgBatchItem> items;
      for (const auto& p : params) items.push_back(PgBatchItem{&bump, std::span<const PgParam>(p)});
      auto affected = c.run_batch(items);
      EXPECT_FALSE(c.in_transaction()) << "the Sync ended the transaction";
      return affected;
    });
  };
  const std::int64_t one = 1, zero = 0;
  EXPECT_EQ(batch({{std::int64_t{1}, one}, {std::int64_t{2}, one}, {std::int64_t{99}, one}, {std::int64_t{3}, one}}),
            (std::vector<std::int64_t>{1, 1, 0, 1}));
  // No BEGIN was sent, yet the three rows were written by one transaction.
  EXPECT_EQ(database.query("SELECT count(DISTINCT xmin::text), sum(v) FROM counters WHERE id <= 3"), "1|3");
  // The third statement fails: the first two, already run, are rolled back with it, and the fourth never runs.
  const auto message = thrown_message<PgError>([&] {
    batch({{std::int64_t{1}, one}, {std::int64_t{2}, one}, {std::int64_t{3}, zero}, {std::int64_t{4}, one}});
  });
  EXPECT_TRUE(contains(message, "division by zero")) << message;
  EXPECT_EQ(database.query("SELECT string_agg(v::text, ',' ORDER BY id) FROM counters"), "1,1,1,0");
  // The connection goes on (one connection in the pool: the same one) with nothing left open.
  EXPECT_EQ(batch({{std::int64_t{4}, one}, {std::int64_t{4}, one}}), (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(database.query("SELECT string_agg(v::text, ',' ORDER BY id) FROM counters"), "1,1,1,2");
}

TEST(PgDatabase, GrantIdsKeepGrowingAcrossPurgesAndReopens) {
  PgTestDatabase database;
  std::int64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    PgStoreSet stores(pg_options(database.url()));
    stores.clients().insert(make_client("client-a"));
    const auto id = stores.grants().insert_grant(make_grant("g", "client-a", t0));
    EXPECT_GT(id, last);
    last = id;
    stores.grants().revoke_grant(id, t0);
    core::run_janitor(stores.purge(), t0 + 1, 10);
    EXPECT_EQ(stores.grants().find_grant(id), std::nullopt);
  }
}

// Tuples a table handed out by sequential scans and by index and row-address fetches (pg_stat_user_tables).
const std::string kTuplesRead = "coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)";
long long table_stat(PgTestDatabase& database, const std::string& table, const std::string& column) {
  return std::stoll(database.query("SELECT " + column + " FROM pg_stat_user_tables WHERE relname = '" + table + "'"));
}
// Counters reach pg_stat_user_tables when a backend goes idle, at most once a second unless forced: the tests below
// give the stores a pool of one connection, whose backend is the one measured.
void flush_table_stats(PgStoreSet& stores) {
  stores.db().run([](PgConnection& c) { c.exec("SELECT pg_stat_force_next_flush()"); });
}

// The janitor walks the grants in id order, a batch at a time, and each batch must read only its own rows: a DELETE
// joined with its batch was planned as a sequential scan of the whole table, so a pass cost rows x batches row
// reads, which with 800,000 grants kept the database's CPU busy for minutes every janitor interval, on every node.
TEST(PgDatabase, AJanitorPassReadsEachGrantAboutOnce) {
  PgTestDatabase database;
  PgStoreSet stores(pg_options(database.url(), 1));
  stores.clients().insert(make_client("client-a"));
  constexpr int kGrants = 20000;
  constexpr int kBatch = 500;
  // Live grants (an hour left) and every tenth one revoked: the pass deletes those and keeps the rest.
  database.query(
      "INSERT INTO grants (kind, client_id, sub, scope, redirect_uri, code_challenge, nonce, state, auth_time, "
      "created_at, code_expires_at, redeemed_at, generation, replayed, access_floor, expires_at, revoked_at, salt) "
      "SELECT 0, 'client-a', 'sub', 'openid', 'https://a.example/cb', '', '', '', 1, 1, 2, 2, 0, false, 0, " +
      std::to_string(t0 + 3600) + ", CASE WHEN i % 10 = 0 THEN 1 END, 0 FROM generate_series(1, " +
      std::to_string(kGrants) + ") AS i; ANALYZE grants");
  // Deny-list entries the same way (the other expiry-indexed kinds share the statement's shape).
  database.query("INSERT INTO denied_tokens SELECT i, i, CASE WHEN i % 10 = 0 THEN 1 ELSE " +
                 std::to_string(t0 + 3600) + " END FROM generate_series(1, " + std::to_string(kGrants) +
                 ") AS i; ANALYZE denied_tokens");
  // Tuples read from a table, and rows deleted from it.
  auto stat = [&](const std::string& column, const std::string& table = "grants") {
    return table_stat(database, table, column);
  };
  const std::string& reads = kTuplesRead;
  auto flush_stats = [&] { flush_table_stats(stores); };
  flush_stats();
  const long long read_before = stat(reads), deleted_before = stat("n_tup_del");
  const long long denied_read_before = stat(reads, "denied_tokens");
  const auto counts = core::run_janitor(stores.purge(), t0, kBatch);
  EXPECT_EQ(counts.grants, kGrants / 10);
  EXPECT_EQ(counts.denied_tokens, kGrants / 10);
  flush_stats();
  // The deletions are counted: the statistics of the pass were flushed, so its reads are counted too.
  EXPECT_EQ(stat("n_tup_del") - deleted_before, kGrants / 10);
  EXPECT_EQ(stat("n_tup_del", "denied_tokens"), kGrants / 10);
  // The expired entries, each once by the expiry index and once by its address: 5 batches that each scanned the
  // table read 100,000.
  EXPECT_LT(stat(reads, "denied_tokens") - denied_read_before, 3 * kGrants / 10);
  const long long read = stat(reads) - read_before;
  // Each row once to examine it and once more to delete it, give or take; 40 batches that each scanned the table
  // read 800,000.
  EXPECT_LT(read, 3 * kGrants) << "tuples read by a pass over " << kGrants << " grants in batches of " << kBatch;
}

// Each new login request or session deletes up to 8 expired ones in the same statement. PostgreSQL may switch a
// prepared statement to its generic plan after five executions; for `expires_at <= $n LIMIT 8` that plan could be a
// sequential scan that stops at the eighth expired row, so with nothing expired every login read the whole table.
// Forced here, it must still read a few rows per login.
TEST(PgDatabase, ALoginSweepReadsAFewRowsWhateverThePlan) {
  PgTestDatabase database;
  PgStoreSet stores(pg_options(database.url(), 1));
  stores.clients().insert(make_client("client-a"));
  constexpr int kRows = 20000;
  constexpr int kExpired = 100;
  constexpr int kLogins = 40;
  // Live rows (expiring after the logins below) and kExpired that expired long ago.
  const std::string expiry = "CASE WHEN i <= " + std::to_string(kExpired) + " THEN 1 ELSE " +
                             std::to_string(t0 + 3600) + " END FROM generate_series(1, " + std::to_string(kRows) +
                             ") AS i";
  database.query(
      "INSERT INTO login_requests (id_hash, client_id, redirect_uri, redirect_uri_given, scope, state, nonce, "
      "code_challenge, response_mode, browser_hash, created_at, expires_at) SELECT 'old' || i, 'client-a', "
      "'https://a.example/cb', true, 'openid', '', '', '', 'query', 'b', 1, " +
      expiry + "; ANALYZE login_requests");
  database.query("INSERT INTO login_sessions SELECT 'old' || i, 'sub', 1, " + expiry + "; ANALYZE login_sessions");
  auto stat = [&](const std::string& table) { return table_stat(database, table, kTuplesRead); };
  // The pool's one connection serves every statement below: the setting holds for all of them.
  stores.db().run([](PgConnection& c) { c.exec("SET plan_cache_mode = force_generic_plan"); });
  auto flush_stats = [&] { flush_table_stats(stores); };
  flush_stats();
  const long long requests_before = stat("login_requests"), sessions_before = stat("login_sessions");
  for (int i = 0; i < kLogins; ++i) {
    auto request = make_login_request("new" + std::to_string(i), "client-a");
    request.created_at = t0;
    request.expires_at = t0 + 600;
    stores.logins().insert_request(request);
    stores.logins().insert_session({"new" + std::to_string(i), "sub", t0, t0 + 600});
  }
  flush_stats();
  // Each expired row read once to find it and once to delete it; a sweep that scanned the table once the expired
  // rows were gone read 20,000 rows per login.
  EXPECT_LT(stat("login_requests") - requests_before, 4 * kExpired + 10 * kLogins);
  EXPECT_LT(stat("login_sessions") - sessions_before, 4 * kExpired + 10 * kLogins);
  // The expired rows are gone (8 per login), the live ones all kept (counted after the reads above: a count reads
  // the table).
  EXPECT_EQ(database.query("SELECT count(*) FROM login_requests"), std::to_string(kRows - kExpired + kLogins));
  EXPECT_EQ(database.query("SELECT count(*) FROM login_sessions"), std::to_string(kRows - kExpired + kLogins));
}

// A backend that gives the top of its heap back to the kernel after a statement and takes it again at the next
// (glibc's trim: a brk each way, a TLB flush on every CPU and fresh page faults) spends more CPU on that than on a
// lookup; PgConnection::open makes its backend keep the heap. A statement with sixteen B-tree scans (27 kB of scan
// state each) shows it plainly: without that, dozens of the backend's pages fault in again at every execution.
TEST(PgDatabase, ABackendKeepsItsHeapAcrossStatements) {
  PgTestDatabase database;
  PgStoreSet stores(pg_options(database.url(), 1));
  std::string sql = "SELECT 0";
  for (int i = 1; i <= 16; ++i) sql += " + (SELECT count(*) FROM grants WHERE id = " + std::to_string(i) + ")";
  const std::string pid = stores.db().run([&](PgConnection& c) {
    c.exec("SET enable_seqscan = off; SET enable_bitmapscan = off");  // index scans, whatever the table's size
    for (int i = 0; i < 5; ++i) c.exec(sql);                          // planned, catalog caches filled
    return c.exec("SELECT pg_backend_pid()").text(0, 0);
  });
  // minflt, the tenth field of /proc/PID/stat, counted after the command name (which may hold spaces).
  auto minor_faults = [&] {
    std::ifstream in("/proc/" + pid + "/stat");
    const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string value;
    for (int field = 3; field <= 10 && fields >> value; ++field) {
    }
    return std::stol(value);
  };
  constexpr int kStatements = 100;
  const long before = minor_faults();
  stores.db().run([&](PgConnection& c) {
    for (int i = 0; i < kStatements; ++i) c.exec(sql);
  });
  const long faults = minor_faults() - before;
  EXPECT_LT(faults, kStatements) << faults << " page faults of the backend over " << kStatements << " statements";
}

TEST(PgDatabase, StatementsArePreparedOncePerConnection) {
  PgTestDatabase database;
  PgStoreSet stores(pg_options(database.url(), 1));
  ASSERT_TRUE(stores.clients().insert(make_client("client-a")));
  const auto id = stores.grants().insert_grant(make_grant("g", "client-a", t0));
  for (int i = 0; i < 5; ++i) stores.grants().find_grant_for_token(id, 7);
  const auto prepared = stores.db().run([](PgConnection& c) {
    return c
        .exec(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%EXISTS (SELECT 1 FROM "
            "denied_tokens%'")
        .int64(0, 0);
  });
  EXPECT_EQ(prepared, 1);
}

}  // namespace
}  // namespace boltauth::contract
