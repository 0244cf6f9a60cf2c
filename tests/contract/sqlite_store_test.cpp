// The storage contract on SQLite, plus what only the SQLite adapter promises: file handling, pragmas,
// migrations, several processes on one file, and failures surfacing as StorageError.
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "contract/store_contract.hpp"
#include "core/ports/storage_error.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::contract {
namespace {

namespace fs = std::filesystem;
using core::ports::StorageError;
using store::sqlite::Connection;
using store::sqlite::SqliteAccountStore;
using store::sqlite::SqliteClientStore;
using store::sqlite::SqliteDatabase;
using store::sqlite::SqliteGrantStore;

/// The shared temp dir, plus where the database file goes in it.
class TempDir : public testing::TempDir {
 public:
  fs::path db_path() const { return path() / "boltauth.db"; }
};

SqliteDatabase::Options options_for(const fs::path& path) {
  SqliteDatabase::Options options;
  options.path = path;
  return options;
}

class SqliteStoreSet final : public StoreSet {
 public:
  explicit SqliteStoreSet(SqliteDatabase::Options options) : db_(std::move(options)) {}
  core::ports::ClientStore& clients() override { return clients_; }
  core::ports::AccountStore& accounts() override { return accounts_; }
  core::ports::GrantStore& grants() override { return grants_; }
  core::ports::PurgeStore& purge() override { return purge_; }
  core::ports::LoginStore& logins() override { return logins_; }
  core::ports::AddressStore& addresses() override { return addresses_; }
  core::ports::IdempotencyStore& idempotency() override { return idempotency_; }
  void put_clear_otp_code(std::string_view sub, std::string_view code) override {
    db_.write([&](Connection& c) {
      return c.prepare("UPDATE accounts SET otp_code = ?2, otp_hash = NULL WHERE sub = ?1")
          .bind_text(1, sub)
          .bind_text(2, code)
          .run();
    });
  }
  std::optional<std::string> clear_otp_code(std::string_view sub) override {
    return db_.read([&](Connection& c) {
      auto st = c.prepare("SELECT otp_code FROM accounts WHERE sub = ?1");
      st.bind_text(1, sub);
      return st.step() ? st.column_optional_text(0) : std::nullopt;
    });
  }

 private:
  SqliteDatabase db_;
  SqliteClientStore clients_{db_};
  SqliteAccountStore accounts_{db_};
  SqliteGrantStore grants_{db_};
  store::sqlite::SqlitePurgeStore purge_{db_};
  store::sqlite::SqliteLoginStore logins_{db_};
  store::sqlite::SqliteAddressStore addresses_{db_};
  store::sqlite::SqliteIdempotencyStore idempotency_{db_};
};

class SqliteStoreFactory {
 public:
  std::unique_ptr<StoreSet> open() { return std::make_unique<SqliteStoreSet>(options_for(dir_.db_path())); }

 private:
  TempDir dir_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Types<SqliteStoreFactory>);

namespace {

/// First column of the first row of `sql`, as text, on a read connection.
std::string read_value(SqliteDatabase& db, const std::string& sql) {
  return db.read([&](Connection& c) {
    auto st = c.prepare(sql);
    return st.step() ? st.column_text(0) : std::string("<no row>");
  });
}

/// First column of the first row of `sql`, on the writer connection (nothing kept).
std::string write_value(SqliteDatabase& db, const std::string& sql) {
  return db.write([&](Connection& c) {
    auto st = c.prepare(sql);
    return store::sqlite::rollback(st.step() ? st.column_text(0) : std::string("<no row>"));
  });
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

unsigned file_mode(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 0777u;
}

// --- opening ---------------------------------------------------------------------------------------------

TEST(SqliteDatabase, OpenFailsWithAClearMessageWhenTheParentDirectoryIsMissing) {
  TempDir dir;
  const auto path = dir.path() / "missing" / "boltauth.db";
  try {
    SqliteDatabase db(options_for(path));
    FAIL() << "opened " << path;
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
    EXPECT_TRUE(contains(e.what(), "parent directory")) << e.what();
  }
  EXPECT_FALSE(fs::exists(path.parent_path()));
}

TEST(SqliteDatabase, OpenFailsOnAFileThatIsNotADatabase) {
  TempDir dir;
  {
    std::ofstream out(dir.db_path(), std::ios::binary);
    for (int i = 0; i < 512; ++i) out << "not sqlite at all";
  }
  try {
    SqliteDatabase db(options_for(dir.db_path()));
    FAIL() << "opened a garbage file";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), dir.db_path().string())) << e.what();
    EXPECT_TRUE(contains(e.what(), "not a database")) << e.what();
  }
}

TEST(SqliteDatabase, OpenRejectsInvalidOptions) {
  TempDir dir;
  auto options = options_for(dir.db_path());
  options.read_connections = 0;
  EXPECT_THROW(SqliteDatabase{options}, std::runtime_error);
  EXPECT_THROW(SqliteDatabase{options_for("")}, std::runtime_error);
}

TEST(SqliteDatabase, CreatesItsFilesWithMode0600) {
  TempDir dir;
  const mode_t previous = ::umask(022);
  {
    SqliteDatabase db(options_for(dir.db_path()));
    SqliteClientStore clients(db);
    ASSERT_TRUE(clients.insert(make_client("client-a")));
    EXPECT_EQ(file_mode(dir.db_path()), 0600u);
    const fs::path wal = dir.db_path().string() + "-wal";
    const fs::path shm = dir.db_path().string() + "-shm";
    ASSERT_TRUE(fs::exists(wal));
    ASSERT_TRUE(fs::exists(shm));
    EXPECT_EQ(file_mode(wal), 0600u);
    EXPECT_EQ(file_mode(shm), 0600u);
  }
  ::umask(previous);
}

// The writer runs with synchronous=OFF: its batches are made durable by the committer's fdatasync of the WAL
// (group commit, issue 6), which GroupCommit tests below and the kill -9 tests check.
TEST(SqliteDatabase, UsesWalAndForeignKeysOnEveryConnectionAndFullSynchronousOnReaders) {
  TempDir dir;
  SqliteDatabase db(options_for(dir.db_path()));
  EXPECT_EQ(read_value(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(read_value(db, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(read_value(db, "PRAGMA synchronous"), "2");  // FULL
  EXPECT_EQ(read_value(db, "PRAGMA query_only"), "1");
  EXPECT_EQ(write_value(db, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(write_value(db, "PRAGMA synchronous"), "0");
  EXPECT_EQ(write_value(db, "PRAGMA query_only"), "0");
}

TEST(SqliteDatabase, MigrationsAreAppliedOnceAcrossReopens) {
  TempDir dir;
  for (int i = 0; i < 3; ++i) {
    SqliteDatabase db(options_for(dir.db_path()));
    const auto latest = std::to_string(SqliteDatabase::latest_schema_version());
    EXPECT_EQ(read_value(db, "SELECT count(*) FROM schema_migrations"), latest);
    EXPECT_EQ(read_value(db, "SELECT max(version) FROM schema_migrations"), latest);
  }
}

TEST(SqliteDatabase, RefusesASchemaNewerThanItKnows) {
  TempDir dir;
  {
    SqliteDatabase db(options_for(dir.db_path()));
    db.write([](Connection& c) {
      c.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 0)")
          .bind_int(1, SqliteDatabase::latest_schema_version() + 1)
          .run();
      return true;
    });
  }
  try {
    SqliteDatabase db(options_for(dir.db_path()));
    FAIL() << "opened a newer schema";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "newer")) << e.what();
  }
}

TEST(SqliteDatabase, SeveralProcessesCreateTheSameDatabaseAtOnce) {
  constexpr int processes = 4;
  for (int round = 0; round < 5; ++round) {
    TempDir dir;
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    std::vector<pid_t> children;
    std::fflush(nullptr);  // or every child would print the parent's buffered output again
    for (int i = 0; i < processes; ++i) {
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        // Child: wait for the gate to open, then open the file and write. _exit skips gtest and ~TempDir.
        ::close(gate[1]);
        char byte;
        while (::read(gate[0], &byte, 1) > 0) {
        }
        int status = 1;
        try {
          SqliteDatabase db(options_for(dir.db_path()));
          SqliteClientStore clients(db);
          status = clients.insert(make_client("client-" + std::to_string(i))) ? 0 : 2;
        } catch (...) {
          status = 3;
        }
        ::_exit(status);
      }
      children.push_back(pid);
    }
    ::close(gate[0]);
    ::close(gate[1]);  // every child sees EOF now and starts
    for (const pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round << " status " << status;
    }
    SqliteDatabase db(options_for(dir.db_path()));
    EXPECT_EQ(SqliteClientStore(db).list().size(), static_cast<std::size_t>(processes));
    EXPECT_EQ(read_value(db, "SELECT count(*) FROM schema_migrations"),
              std::to_string(SqliteDatabase::latest_schema_version()));
  }
}

// --- several connections on one file (the CLI writes while a server runs) ------------------------------

TEST(SqliteDatabase, ReadsSeeCommitsOfAnotherConnectionAtOnce) {
  TempDir dir;
  SqliteDatabase server(options_for(dir.db_path()));
  SqliteDatabase cli(options_for(dir.db_path()));
  SqliteClientStore server_clients(server);
  SqliteClientStore cli_clients(cli);
  // Touch every read connection first, so that a stale snapshot on any of them would show.
  for (int i = 0; i < 8; ++i) EXPECT_EQ(server_clients.find("client-a"), std::nullopt);

  ASSERT_TRUE(cli_clients.insert(make_client("client-a")));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(server_clients.find("client-a"), make_client("client-a"));

  ASSERT_TRUE(cli_clients.update_secret_hash("client-a", "rotated"));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(server_clients.find("client-a").value().secret_hash, "rotated");

  // Single use holds across connections.
  SqliteGrantStore server_grants(server);
  SqliteGrantStore cli_grants(cli);
  const auto id = server_grants.insert_grant(make_grant("c1", "client-a", t0));
  EXPECT_EQ(cli_grants.redeem(id, t0 + 1, t0 + 100), core::ports::ConsumeOutcome::consumed);
  EXPECT_EQ(server_grants.redeem(id, t0 + 1, t0 + 100), core::ports::ConsumeOutcome::lost);
  EXPECT_EQ(server_grants.find_grant(id).value().generation, 1);

  ASSERT_TRUE(cli_clients.remove("client-a"));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(server_clients.find("client-a"), std::nullopt);
  EXPECT_EQ(server_grants.find_grant(id), std::nullopt);
}

TEST(SqliteDatabase, WriteLockHeldElsewhereIsATransientStorageErrorAndClears) {
  TempDir dir;
  auto options = options_for(dir.db_path());
  options.busy_timeout_ms = 100;
  SqliteDatabase db(options);
  SqliteClientStore clients(db);
  ASSERT_TRUE(clients.insert(make_client("client-a")));

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir.db_path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    clients.insert(make_client("client-b"));
    ADD_FAILURE() << "wrote while another connection held the write lock";
  } catch (const StorageError& e) {
    EXPECT_TRUE(e.transient()) << e.what();
  }
  EXPECT_EQ(clients.find("client-a"), make_client("client-a"));  // WAL: reads go on meanwhile

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE(clients.insert(make_client("client-b")));
}

// --- failures --------------------------------------------------------------------------------------------

TEST(SqliteDatabase, DiskFullIsAPermanentStorageErrorThatWritesNothingAndClears) {
  TempDir dir;
  SqliteDatabase db(options_for(dir.db_path()));
  SqliteClientStore clients(db);
  SqliteGrantStore grants(db);
  ASSERT_TRUE(clients.insert(make_client("client-a")));
  const auto before = grants.insert_grant(make_grant("c1", "client-a", t0));

  // max_page_count makes SQLite fail exactly as on a full disk (SQLITE_FULL) once the file must grow.
  const std::string pages = write_value(db, "PRAGMA page_count");
  EXPECT_EQ(write_value(db, "PRAGMA max_page_count = " + pages), pages);
  auto big = make_grant("c2", "client-a", t0);
  big.scope.assign(200'000, 's');  // needs far more pages than are free
  try {
    grants.insert_grant(big);
    ADD_FAILURE() << "inserted on a full database";
  } catch (const StorageError& e) {
    EXPECT_FALSE(e.transient()) << e.what();
  }
  EXPECT_EQ(grants.find_grant(before + 1), std::nullopt);
  // A write that fits still works, and single use is intact.
  EXPECT_EQ(grants.redeem(before, t0 + 1, t0 + 100), core::ports::ConsumeOutcome::consumed);

  write_value(db, "PRAGMA max_page_count = 1073741823");
  const auto id = grants.insert_grant(big);
  EXPECT_EQ(grants.find_grant(id).value().scope, big.scope);
}

TEST(SqliteDatabase, ConstraintViolationIsAPermanentStorageErrorAndRollsBackTheWrite) {
  TempDir dir;
  SqliteDatabase db(options_for(dir.db_path()));
  SqliteClientStore clients(db);
  SqliteGrantStore grants(db);
  ASSERT_TRUE(clients.insert(make_client("client-a")));
  try {
    grants.insert_grant(make_grant("c0", "no-such-client", t0));
    ADD_FAILURE() << "stored a grant of an unknown client";
  } catch (const StorageError& e) {
    EXPECT_FALSE(e.transient()) << e.what();
  }
  EXPECT_EQ(read_value(db, "SELECT count(*) FROM grants"), "0");
  // A write that fails half-way keeps nothing: the first statement of this one succeeds, the second fails.
  EXPECT_THROW(db.write([](Connection& c) {
    c.exec("UPDATE clients SET name = 'changed'");
    c.exec(
        "INSERT INTO grants (kind, client_id, sub, scope, redirect_uri, code_challenge, nonce, state, auth_time, "
        "created_at, code_expires_at, generation, replayed, access_floor) "
        "VALUES (0, 'no-such-client', '', '', '', '', '', '', 0, 0, 0, 0, 0, 0)");
  }),
               StorageError);
  EXPECT_EQ(clients.find("client-a"), make_client("client-a"));
}

TEST(SqliteDatabase, WriteCallbackRollbackAndExceptionKeepNothing) {
  TempDir dir;
  SqliteDatabase db(options_for(dir.db_path()));
  const auto insert = [](Connection& c, const char* id) {
    c.prepare(
         "INSERT INTO clients (id, publishable_key, name, secret_hash, redirect_uris, grant_types, created_at) "
         "VALUES (?1, ?1, '', '', '[]', '[]', 0)")
        .bind_text(1, id)
        .run();
  };
  EXPECT_EQ(db.write([&](Connection& c) {
    insert(c, "rolled-back");
    return store::sqlite::rollback(7);
  }),
            7);  // the value comes back, the changes do not
  EXPECT_THROW(db.write([&](Connection& c) -> bool {
    insert(c, "thrown");
    throw std::logic_error("callback failed");
  }),
               std::logic_error);
  EXPECT_EQ(db.write([&](Connection& c) {
    insert(c, "kept");
    return std::string("value");
  }),
            "value");
  SqliteClientStore clients(db);
  ASSERT_EQ(clients.list().size(), 1u);
  EXPECT_EQ(clients.list().front().id, "kept");
}

TEST(SqliteDatabase, ReadConnectionsCannotWrite) {
  TempDir dir;
  SqliteDatabase db(options_for(dir.db_path()));
  EXPECT_THROW(db.read([](Connection& c) { return c.exec("DELETE FROM clients"); }), StorageError);
}

// --- concurrency -----------------------------------------------------------------------------------------

TEST(SqliteDatabase, ConcurrentWritesFailOrSucceedEachOnItsOwn) {
  // Writes that arrive together may share one transaction; a failing one must not take the others along.
  TempDir dir;
  SqliteDatabase db(options_for(dir.db_path()));
  SqliteClientStore clients(db);
  SqliteGrantStore grants(db);
  ASSERT_TRUE(clients.insert(make_client("client-a")));
  constexpr int threads = 16;
  for (int round = 0; round < 10; ++round) {
    const auto name = [&](int thread) { return "r" + std::to_string(round) + "-t" + std::to_string(thread); };
    std::vector<std::int64_t> ids(threads, 0);
    const auto result = race(threads, [&](int thread) {
      const bool valid = thread % 2 == 0;
      try {
        ids[static_cast<std::size_t>(thread)] =
            grants.insert_grant(make_grant(name(thread), valid ? "client-a" : "no-such-client", t0));
      } catch (const StorageError&) {
        return valid ? core::ports::ConsumeOutcome::lost : core::ports::ConsumeOutcome::consumed;
      }
      return valid ? core::ports::ConsumeOutcome::consumed : core::ports::ConsumeOutcome::lost;
    });
    EXPECT_EQ(result.consumed, threads) << "round " << round;  // every write behaved as it should alone
    for (int thread = 0; thread < threads; thread += 2) {
      const auto found = grants.find_grant(ids[static_cast<std::size_t>(thread)]);
      ASSERT_TRUE(found.has_value()) << name(thread);
      EXPECT_EQ(found->nonce, "nonce-" + name(thread));
    }
    EXPECT_EQ(read_value(db, "SELECT count(*) FROM grants"), std::to_string((round + 1) * threads / 2));
  }
}

TEST(SqliteDatabase, ManyReadersShareASmallPool) {
  TempDir dir;
  auto options = options_for(dir.db_path());
  options.read_connections = 2;
  SqliteDatabase db(options);
  SqliteClientStore clients(db);
  ASSERT_TRUE(clients.insert(make_client("client-a")));
  const auto expected = make_client("client-a");
  std::atomic<int> mismatches = 0;
  {
    std::vector<std::jthread> readers;
    for (int i = 0; i < 8; ++i)
      readers.emplace_back([&] {
        for (int n = 0; n < 200; ++n)
          if (clients.find("client-a") != expected) ++mismatches;
      });
  }
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace boltauth::contract
