// Upgrading a pre-v2 file (migrations 1-4) in place, and the legacy token store over what it keeps
// (docs/design.md "Upgrading"): old tokens keep working until they expire, a legacy refresh token moves its
// family into one new grant row, and the janitor empties the legacy tables.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "contract/store_contract.hpp"
#include "core/janitor.hpp"
#include "core/ports/storage_error.hpp"
#include "store/sqlite/sqlite_schema.hpp"
#include "store/sqlite/sqlite_stores.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::contract {
namespace {

using core::model::TokenType;
using core::ports::ConsumeOutcome;
using store::sqlite::Connection;
using store::sqlite::SqliteDatabase;
using store::sqlite::SqliteSchema;

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error(message + " in: " + sql);
  }
}

/// A file as the last pre-v2 release left it: migrations 1-4, a client, an account, and old-style rows:
///   family "g-live" (auth_time t0-100): access "at-live", refresh "rt-live" (unused), refresh "rt-old" (used)
///   family "g-revoked" (revoked): refresh "rt-revoked"
///   family "g-expired": refresh "rt-expired" (expired at t0)
///   a code "code-1" expiring at t0 + 60
void write_pre_v2_file(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; BEGIN");
  exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)");
  for (int version = 1; version <= 4; ++version) {
    exec(db, std::string(SqliteSchema::migration(version)));
    exec(db, "INSERT INTO schema_migrations VALUES (" + std::to_string(version) + ", 0)");
  }
  exec(db,
       "INSERT INTO clients (id, publishable_key, name, secret_hash, redirect_uris, grant_types, created_at, "
       "pkce_required, id_token_signed_response_alg) VALUES ('client-a', 'pk-a', 'Shop', 'sh', "
       "'[\"https://a.example/cb\"]', '[\"authorization_code\"]', 5, 0, 'ES256')");
  exec(db,
       "INSERT INTO accounts (sub, email, email_verified, first_name, last_name, phone_verified, created_at, "
       "updated_at) VALUES ('sub-1', 'ada@example.com', 1, 'Ada', 'Lovelace', 0, 6, 7)");
  const std::string t = std::to_string(t0);
  exec(db,
       "INSERT INTO grants (id, client_id, sub, auth_time, created_at, revoked_at) VALUES "
       "('g-live', 'client-a', 'sub-1', " +
           t + " - 100, " + t +
           " - 90, NULL), "
           "('g-revoked', 'client-a', 'sub-1', " +
           t + " - 100, " + t + " - 90, " + t +
           " - 10), "
           "('g-expired', 'client-a', 'sub-1', " +
           t + " - 100, " + t + " - 90, NULL)");
  exec(db,
       "INSERT INTO tokens (hash, type, grant_id, client_id, sub, scope, issued_at, expires_at, used_at, "
       "revoked_at, next_hash, replayed) VALUES "
       "('at-live', 0, 'g-live', 'client-a', 'sub-1', 'openid', " +
           t + " - 50, " + t +
           " + 3600, NULL, NULL, '', 0), "
           "('rt-live', 1, 'g-live', 'client-a', 'sub-1', 'openid', " +
           t + " - 50, " + t +
           " + 86400, NULL, NULL, '', 0), "
           "('rt-old', 1, 'g-live', 'client-a', 'sub-1', 'openid', " +
           t + " - 90, " + t + " + 80000, " + t +
           " - 50, NULL, 'rt-live', 0), "
           "('rt-revoked', 1, 'g-revoked', 'client-a', 'sub-1', 'openid', " +
           t + " - 50, " + t +
           " + 86400, NULL, NULL, '', 0), "
           "('rt-expired', 1, 'g-expired', 'client-a', 'sub-1', 'openid', " +
           t + " - 90, " + t + ", NULL, NULL, '', 0)");
  exec(db,
       "INSERT INTO codes (hash, client_id, sub, scope, redirect_uri, code_challenge, nonce, state, grant_id, "
       "auth_time, issued_at, expires_at) VALUES ('code-1', 'client-a', 'sub-1', 'openid', 'https://a.example/cb', "
       "'', '', '', 'g-next', " +
           t + ", " + t + ", " + t + " + 60)");
  exec(db, "COMMIT");
  sqlite3_close(db);
}

/// The grant a core would create for a legacy refresh token (active, generation 1).
core::model::Grant moved_grant(base::UnixSeconds now) {
  auto grant = make_grant("moved", "client-a", now);
  grant.redeemed_at = now;
  grant.rotated_at = now;
  grant.generation = 1;
  grant.expires_at = now + 86400;
  return grant;
}

class LegacyStore : public ::testing::Test {
 protected:
  LegacyStore() {
    write_pre_v2_file(dir_.path() / "boltauth.db");
    db_ = std::make_unique<SqliteDatabase>(SqliteDatabase::Options{dir_.path() / "boltauth.db", 4, 10000});
    clients_ = std::make_unique<store::sqlite::SqliteClientStore>(*db_);
    accounts_ = std::make_unique<store::sqlite::SqliteAccountStore>(*db_);
    grants_ = std::make_unique<store::sqlite::SqliteGrantStore>(*db_);
    legacy_ = std::make_unique<store::sqlite::SqliteLegacyTokenStore>(*db_);
    purge_ = std::make_unique<store::sqlite::SqlitePurgeStore>(*db_);
  }

  std::string value(const std::string& sql) {
    return db_->read([&](Connection& c) {
      auto st = c.prepare(sql);
      return st.step() ? st.column_text(0) : std::string("<no row>");
    });
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteDatabase> db_;
  std::unique_ptr<store::sqlite::SqliteClientStore> clients_;
  std::unique_ptr<store::sqlite::SqliteAccountStore> accounts_;
  std::unique_ptr<store::sqlite::SqliteGrantStore> grants_;
  std::unique_ptr<store::sqlite::SqliteLegacyTokenStore> legacy_;
  std::unique_ptr<store::sqlite::SqlitePurgeStore> purge_;
};

TEST_F(LegacyStore, APreV2FileIsMigratedInPlaceAndKeepsClientsAccountsAndTokens) {
  EXPECT_EQ(value("SELECT max(version) FROM schema_migrations"), std::to_string(SqliteSchema::latest_version()));
  const auto client = clients_->find("client-a");
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(client->redirect_uris, std::vector<std::string>{"https://a.example/cb"});
  EXPECT_EQ(client->id_token_signed_response_alg, "ES256");
  EXPECT_FALSE(client->pkce_required);
  EXPECT_EQ(accounts_->find("sub-1").value().email, "ada@example.com");
  EXPECT_EQ(value("SELECT count(*) FROM legacy_tokens"), "5");
  EXPECT_EQ(value("SELECT count(*) FROM legacy_grants"), "3");
  EXPECT_EQ(value("SELECT count(*) FROM legacy_codes"), "1");
  EXPECT_EQ(value("SELECT count(*) FROM grants"), "0");
  // RENAME rewrote the foreign keys: legacy tokens hang off legacy families, and the new grants off clients.
  EXPECT_EQ(value("SELECT \"table\" FROM pragma_foreign_key_list('legacy_tokens')"), "legacy_grants");
  EXPECT_EQ(value("SELECT \"table\" FROM pragma_foreign_key_list('grants')"), "clients");
  EXPECT_EQ(value("SELECT \"table\" FROM pragma_foreign_key_list('addresses')"), "accounts");
  EXPECT_EQ(value("SELECT \"table\" FROM pragma_foreign_key_list('idempotency_keys')"), "clients");
  EXPECT_EQ(value("PRAGMA foreign_key_check"), "<no row>");
  // Accounts and clients from before the upgrade take address books and Idempotency-Keys.
  store::sqlite::SqliteAddressStore addresses(*db_);
  auto address = make_address("addr-1", "sub-1", t0);
  EXPECT_EQ(addresses.add(address, 10), core::ports::AddressStore::AddResult::added);
  EXPECT_TRUE(address.is_default);
  EXPECT_TRUE(store::sqlite::SqliteIdempotencyStore(*db_).claim("client-a", "key-1", "hash", t0));
  // Reopening applies nothing twice.
  db_.reset();
  db_ = std::make_unique<SqliteDatabase>(SqliteDatabase::Options{dir_.path() / "boltauth.db", 4, 10000});
  EXPECT_EQ(value("SELECT count(*) FROM schema_migrations"), std::to_string(SqliteSchema::latest_version()));
}

TEST_F(LegacyStore, LegacyTokensAreFoundWithTheirFamilysState) {
  const auto access = legacy_->find_legacy_token("at-live");
  ASSERT_TRUE(access.has_value());
  core::model::LegacyToken expected;
  expected.hash = "at-live";
  expected.type = TokenType::access_token;
  expected.grant_id = "g-live";
  expected.client_id = "client-a";
  expected.sub = "sub-1";
  expected.scope = "openid";
  expected.issued_at = t0 - 50;
  expected.expires_at = t0 + 3600;
  expected.auth_time = t0 - 100;
  EXPECT_EQ(access, expected);
  const auto old = legacy_->find_legacy_token("rt-old").value();
  EXPECT_EQ(old.type, TokenType::refresh_token);
  EXPECT_EQ(old.used_at, t0 - 50);
  EXPECT_TRUE(legacy_->find_legacy_token("rt-revoked").value().grant_revoked);
  EXPECT_FALSE(legacy_->find_legacy_token("rt-live").value().grant_revoked);
  EXPECT_EQ(legacy_->find_legacy_token("nope"), std::nullopt);
}

TEST_F(LegacyStore, ALegacyRefreshTokenMovesItsFamilyIntoOneGrantOnce) {
  const auto id = legacy_->migrate_refresh("rt-live", t0 + 1, moved_grant(t0 + 1));
  ASSERT_TRUE(id.has_value());
  auto expected = moved_grant(t0 + 1);
  expected.id = *id;
  EXPECT_EQ(grants_->find_grant(*id), expected);
  EXPECT_EQ(legacy_->find_legacy_token("rt-live").value().used_at, t0 + 1);
  EXPECT_EQ(value("SELECT migrated_to FROM legacy_grants WHERE id = 'g-live'"), std::to_string(*id));
  EXPECT_EQ(legacy_->migrate_refresh("rt-live", t0 + 2, moved_grant(t0 + 2)), std::nullopt);
  EXPECT_EQ(value("SELECT count(*) FROM grants"), "1");
  // The new grant rotates as any other.
  EXPECT_EQ(grants_->rotate(*id, 1, t0 + 3, t0 + 5000), ConsumeOutcome::consumed);
}

TEST_F(LegacyStore, ConcurrentMigrationsOfOneLegacyTokenHaveOneWinner) {
  std::vector<std::optional<std::int64_t>> ids(16);
  const auto result = race(16, [&](int thread) {
    ids[static_cast<std::size_t>(thread)] = legacy_->migrate_refresh("rt-live", t0 + 1 + thread, moved_grant(t0 + 1));
    return ids[static_cast<std::size_t>(thread)] ? ConsumeOutcome::consumed : ConsumeOutcome::lost;
  });
  EXPECT_EQ(result.consumed, 1);
  EXPECT_EQ(result.lost, 15);
  EXPECT_EQ(value("SELECT count(*) FROM grants"), "1");
}

TEST_F(LegacyStore, MigrationIsRefusedForUsedRevokedExpiredOrAccessTokens) {
  EXPECT_EQ(legacy_->migrate_refresh("rt-old", t0 + 1, moved_grant(t0 + 1)), std::nullopt);      // used
  EXPECT_EQ(legacy_->migrate_refresh("rt-revoked", t0 + 1, moved_grant(t0 + 1)), std::nullopt);  // family revoked
  EXPECT_EQ(legacy_->migrate_refresh("rt-expired", t0, moved_grant(t0)), std::nullopt);          // now == expires_at
  EXPECT_EQ(legacy_->migrate_refresh("at-live", t0 + 1, moved_grant(t0 + 1)), std::nullopt);     // not a refresh token
  EXPECT_EQ(legacy_->migrate_refresh("nope", t0 + 1, moved_grant(t0 + 1)), std::nullopt);
  legacy_->revoke_legacy_token("rt-live", t0 + 1);
  EXPECT_EQ(legacy_->migrate_refresh("rt-live", t0 + 2, moved_grant(t0 + 2)), std::nullopt);  // token revoked
  EXPECT_EQ(value("SELECT count(*) FROM grants"), "0");
  EXPECT_EQ(value("SELECT count(*) FROM legacy_tokens WHERE used_at > " + std::to_string(t0)), "0");
}

TEST_F(LegacyStore, AFailedGrantInsertLeavesTheLegacyTokenUnused) {
  auto bad = moved_grant(t0 + 1);
  bad.client_id = "no-such-client";
  EXPECT_THROW(legacy_->migrate_refresh("rt-live", t0 + 1, bad), core::ports::StorageError);
  EXPECT_EQ(legacy_->find_legacy_token("rt-live").value().used_at, std::nullopt);
  EXPECT_TRUE(legacy_->migrate_refresh("rt-live", t0 + 2, moved_grant(t0 + 2)).has_value());
}

TEST_F(LegacyStore, ReuseAfterMigrationRevokesTheNewGrantToo) {
  const auto id = legacy_->migrate_refresh("rt-live", t0 + 1, moved_grant(t0 + 1)).value();
  // "rt-live" presented again: the core sees it used and revokes its family.
  legacy_->revoke_legacy_grant("g-live", t0 + 5);
  legacy_->revoke_legacy_grant("g-live", t0 + 9);  // idempotent: the first time stays
  EXPECT_EQ(grants_->find_grant(id).value().revoked_at, t0 + 5);
  EXPECT_TRUE(legacy_->find_legacy_token("at-live").value().grant_revoked);
  EXPECT_EQ(value("SELECT revoked_at FROM legacy_grants WHERE id = 'g-live'"), std::to_string(t0 + 5));
  EXPECT_EQ(grants_->rotate(id, 1, t0 + 10, t0 + 5000), ConsumeOutcome::lost);
  legacy_->revoke_legacy_grant("unknown", t0 + 5);  // no-op
}

TEST_F(LegacyStore, RevokingOneLegacyTokenKeepsTheFirstTime) {
  legacy_->revoke_legacy_token("at-live", t0 + 5);
  legacy_->revoke_legacy_token("at-live", t0 + 9);
  EXPECT_EQ(legacy_->find_legacy_token("at-live").value().revoked_at, t0 + 5);
  EXPECT_FALSE(legacy_->find_legacy_token("at-live").value().grant_revoked);
  EXPECT_EQ(legacy_->find_legacy_token("rt-live").value().revoked_at, std::nullopt);
}

TEST_F(LegacyStore, TheJanitorEmptiesTheLegacyTablesAsTheyExpire) {
  const auto id = legacy_->migrate_refresh("rt-live", t0 + 1, moved_grant(t0 + 1)).value();
  // At t0 + 1: the expired refresh token, then its emptied family; the revoked family (and its token).
  auto counts = core::run_janitor(*purge_, t0 + 1, 2);
  EXPECT_EQ(counts.legacy_tokens, 1);  // rt-expired
  EXPECT_EQ(counts.legacy_grants, 2);  // g-expired (no token left), g-revoked
  EXPECT_FALSE(counts.more);
  EXPECT_TRUE(legacy_->find_legacy_token("at-live").has_value());
  EXPECT_EQ(legacy_->find_legacy_token("rt-revoked"), std::nullopt);
  // The code expires at t0 + 60.
  counts = core::run_janitor(*purge_, t0 + 60, 2);
  EXPECT_EQ(counts.legacy_grants, 1);
  EXPECT_EQ(value("SELECT count(*) FROM legacy_codes"), "0");
  // The used "rt-live" lives its own lifetime (reuse must still revoke), then everything goes.
  core::run_janitor(*purge_, t0 + 86399, 2);
  EXPECT_TRUE(legacy_->find_legacy_token("rt-live").has_value());
  counts = core::run_janitor(*purge_, t0 + 86400, 2);
  EXPECT_EQ(value("SELECT count(*) FROM legacy_tokens"), "0");
  EXPECT_EQ(value("SELECT count(*) FROM legacy_grants"), "0");
  EXPECT_TRUE(grants_->find_grant(id).has_value()) << "the moved grant lives by its own expires_at";
}

TEST_F(LegacyStore, DeletingAClientCascadesToItsLegacyRows) {
  ASSERT_TRUE(clients_->remove("client-a"));
  EXPECT_EQ(value("SELECT count(*) FROM legacy_tokens"), "0");
  EXPECT_EQ(value("SELECT count(*) FROM legacy_grants"), "0");
  EXPECT_EQ(value("SELECT count(*) FROM legacy_codes"), "0");
}

}  // namespace
}  // namespace boltauth::contract
