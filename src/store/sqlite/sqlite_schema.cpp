#include "store/sqlite/sqlite_schema.hpp"

#include <cstdint>
#include <ctime>
#include <stdexcept>
#include <string>

#include "core/ports/storage_error.hpp"

namespace boltauth::store::sqlite {
namespace {

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
    // 5: storage v2 (docs/design.md "Storage"). The hash-keyed tables become read-only legacy tables that the
    // janitor drains; one `grants` row per grant for its whole life replaces them. With legacy_alter_table off
    // (the default since 3.26, set here so a build default cannot change it), RENAME rewrites the foreign keys
    // that point at a renamed table, so legacy_tokens keeps cascading from legacy_grants.
    // Index names of the legacy tables stay as they were (rebuilding them on a large file would only cost
    // time); grants_revoked_at served the old janitor's scan only and goes.
    //
    // The new `grants` table has no index on any column a refresh updates: a rotation rewrites one row of the
    // table b-tree and nothing else. grants_by_client serves ON DELETE CASCADE from clients (without it,
    // deleting a client scans every grant under the write lock); it is written at insert and delete only.
    // AUTOINCREMENT: ids are never reused, so a sealed token naming a purged grant stays dead.
    R"sql(
PRAGMA legacy_alter_table = OFF;
ALTER TABLE codes RENAME TO legacy_codes;
ALTER TABLE grants RENAME TO legacy_grants;
ALTER TABLE tokens RENAME TO legacy_tokens;
DROP INDEX grants_revoked_at;
ALTER TABLE legacy_grants ADD COLUMN migrated_to INTEGER;  -- the v2 grant this family moved into; no FK
CREATE TABLE grants (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  kind            INTEGER NOT NULL,  -- 0 authorization_code, 1 client_credentials
  client_id       TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  sub             TEXT NOT NULL,
  scope           TEXT NOT NULL,
  redirect_uri    TEXT NOT NULL,
  code_challenge  TEXT NOT NULL,
  nonce           TEXT NOT NULL,
  state           TEXT NOT NULL,
  auth_time       INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  code_expires_at INTEGER NOT NULL,
  redeemed_at     INTEGER,
  generation      INTEGER NOT NULL,
  rotated_at      INTEGER,
  replayed        INTEGER NOT NULL,
  access_floor    INTEGER NOT NULL,
  expires_at      INTEGER,
  revoked_at      INTEGER,
  salt            INTEGER NOT NULL  -- sealed into its tokens: a reused id never matches an old token
);
CREATE INDEX grants_by_client ON grants(client_id);
CREATE UNIQUE INDEX grants_client_credentials ON grants(client_id) WHERE kind = 1;
CREATE TABLE denied_tokens (
  grant_id   INTEGER NOT NULL,  -- no FK: an entry outliving its purged grant is harmless and expires
  jti        INTEGER NOT NULL,  -- the token's 64-bit jti, stored bit for bit as a signed integer
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (grant_id, jti)
) WITHOUT ROWID;
CREATE INDEX denied_tokens_expires_at ON denied_tokens(expires_at);
)sql",
    // 6: a sandbox account's fixed one-time code is stored as a keyed hash, like every other secret. The key is
    // not in the database, so the server replaces codes left in the clear `otp_code` column when it starts
    // (ClientRegistry::hash_clear_otp_codes); nothing writes that column any more.
    R"sql(
ALTER TABLE accounts ADD COLUMN otp_hash TEXT;
)sql",
    // 7: RP-initiated logout: the URIs a client may be sent back to after /v1/oauth/logout.
    R"sql(
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';  -- JSON array of strings
)sql",
    // 8: shoppers' address books, and the first answer to each Idempotency-Key. addresses_by_sub serves the list
    // order and the cascade from accounts; addresses_one_default backs the one-default rule the stores keep in
    // each write. idempotency_keys' primary key serves the cascade from clients; its created_at index the janitor.
    R"sql(
CREATE TABLE addresses (
  id         TEXT PRIMARY KEY NOT NULL,
  sub        TEXT NOT NULL REFERENCES accounts(sub) ON DELETE CASCADE,
  fields     TEXT NOT NULL,  -- JSON object of strings
  is_default INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX addresses_by_sub ON addresses(sub, created_at, id);
CREATE UNIQUE INDEX addresses_one_default ON addresses(sub) WHERE is_default = 1;
CREATE TABLE idempotency_keys (
  client_id    TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  key          TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  completed    INTEGER NOT NULL DEFAULT 0,
  status       INTEGER,  -- with completed
  body         TEXT,     -- with completed
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys(created_at);
)sql",
    // 9: detectAccount looks an account up by phone or by the SHA-256 of its email. Rows written before this have no
    // digest until the server starts (AccountStore::fill_email_sha256).
    R"sql(
ALTER TABLE accounts ADD COLUMN email_sha256 TEXT;
CREATE INDEX accounts_email_sha256 ON accounts(email_sha256);
CREATE INDEX accounts_phone ON accounts(phone) WHERE phone IS NOT NULL;
)sql",
};

constexpr int migration_count = static_cast<int>(sizeof(migrations) / sizeof(migrations[0]));

}  // namespace

int SqliteSchema::latest_version() { return migration_count; }

std::string_view SqliteSchema::migration(int version) {
  if (version < 1 || version > migration_count) throw std::out_of_range("no migration " + std::to_string(version));
  return migrations[version - 1];
}

void SqliteSchema::migrate(Connection& connection) {
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
      connection.rollback_quietly();
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

int SqliteSchema::version_of(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return 0;
  Connection connection(path, 1000);
  {
    auto st =
        connection.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!st.step() || st.column_int(0) == 0) return 0;
  }
  auto st = connection.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return st.step() ? static_cast<int>(st.column_int(0)) : 0;
}

}  // namespace boltauth::store::sqlite
