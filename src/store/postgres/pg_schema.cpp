#include "store/postgres/pg_schema.hpp"

#include <stdexcept>
#include <string>

namespace boltauth::store::postgres {
namespace {

// Ordered; entry i brings the schema to version i + 1. Never edit an applied entry: append a new one.
//
// Types: unix seconds and counters are BIGINT, flags BOOLEAN, the 64-bit jti a BIGINT holding the same bits
// (signed reinterpretation), secrets BYTEA. Lists (redirect URIs, grant types) are JSON arrays in TEXT, encoded as
// the SQLite adapter does. Keys and ids are TEXT COLLATE "C": compared and ordered byte for byte, as in SQLite,
// whatever the database's locale (and memcmp is the cheapest comparison for their indexes).
const char* const migrations[] = {
    // 1: storage v2 (docs/design.md "Storage").
    //
    // `grants` has no index on a column a refresh updates, so a rotation is a HOT update (one heap page, no index
    // entry); fillfactor leaves room on each page for the new row version. Its id is an identity column: the
    // sequence never goes back, so ids are never reused, even after a purge. grants_by_client and
    // login_requests_by_client serve ON DELETE CASCADE from clients (without them, removing a client scans the
    // tables). grants_client_credentials makes concurrent first client_credentials calls agree on one row.
    R"sql(
CREATE TABLE clients (
  id                           TEXT COLLATE "C" PRIMARY KEY,
  publishable_key              TEXT COLLATE "C" NOT NULL UNIQUE,
  name                         TEXT NOT NULL,
  secret_hash                  TEXT COLLATE "C" NOT NULL,
  redirect_uris                TEXT NOT NULL,  -- JSON array of strings
  grant_types                  TEXT NOT NULL,  -- JSON array of strings
  created_at                   BIGINT NOT NULL,
  pkce_required                BOOLEAN NOT NULL DEFAULT TRUE,
  id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256'
);
CREATE INDEX clients_secret_hash ON clients (secret_hash);

CREATE TABLE accounts (
  sub            TEXT COLLATE "C" PRIMARY KEY,
  email          TEXT COLLATE "C" NOT NULL UNIQUE,  -- ASCII lower case
  email_verified BOOLEAN NOT NULL,
  first_name     TEXT NOT NULL,
  last_name      TEXT NOT NULL,
  phone          TEXT,
  phone_verified BOOLEAN NOT NULL,
  otp_code       TEXT,
  deactivate_at  BIGINT,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);

CREATE TABLE grants (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind            SMALLINT NOT NULL CHECK (kind IN (0, 1)),  -- 0 authorization_code, 1 client_credentials
  client_id       TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
  sub             TEXT COLLATE "C" NOT NULL,
  scope           TEXT NOT NULL,
  redirect_uri    TEXT NOT NULL,
  code_challenge  TEXT NOT NULL,
  nonce           TEXT NOT NULL,
  state           TEXT NOT NULL,
  auth_time       BIGINT NOT NULL,
  created_at      BIGINT NOT NULL,
  code_expires_at BIGINT NOT NULL,
  redeemed_at     BIGINT,
  generation      BIGINT NOT NULL,
  rotated_at      BIGINT,
  replayed        BOOLEAN NOT NULL,
  access_floor    BIGINT NOT NULL,
  expires_at      BIGINT,
  revoked_at      BIGINT,
  salt            BIGINT NOT NULL CHECK (salt BETWEEN 0 AND 4294967295)  -- sealed into its tokens
) WITH (fillfactor = 85);
CREATE INDEX grants_by_client ON grants (client_id);
CREATE UNIQUE INDEX grants_client_credentials ON grants (client_id) WHERE kind = 1;

CREATE TABLE denied_tokens (
  grant_id   BIGINT NOT NULL,  -- no FK: an entry outliving its purged grant is harmless and expires
  jti        BIGINT NOT NULL,  -- the token's 64-bit jti, bit for bit
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (grant_id, jti)
);
CREATE INDEX denied_tokens_expires_at ON denied_tokens (expires_at);

CREATE TABLE login_requests (
  id_hash            TEXT COLLATE "C" PRIMARY KEY,
  client_id          TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
  redirect_uri       TEXT NOT NULL,
  redirect_uri_given BOOLEAN NOT NULL,
  scope              TEXT NOT NULL,
  state              TEXT NOT NULL,
  nonce              TEXT NOT NULL,
  code_challenge     TEXT NOT NULL,
  response_mode      TEXT NOT NULL,
  browser_hash       TEXT NOT NULL,
  email              TEXT NOT NULL DEFAULT '',
  otp_hash           TEXT COLLATE "C" NOT NULL DEFAULT '',
  otp_expires_at     BIGINT NOT NULL DEFAULT 0,
  otp_sent_at        BIGINT NOT NULL DEFAULT 0,
  attempts           BIGINT NOT NULL DEFAULT 0,
  created_at         BIGINT NOT NULL,
  expires_at         BIGINT NOT NULL
);
CREATE INDEX login_requests_expires_at ON login_requests (expires_at);
CREATE INDEX login_requests_by_client ON login_requests (client_id);

CREATE TABLE login_sessions (
  id_hash    TEXT COLLATE "C" PRIMARY KEY,
  sub        TEXT COLLATE "C" NOT NULL,
  auth_time  BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX login_sessions_expires_at ON login_sessions (expires_at);

-- Server secrets shared by the nodes (SecretStore): written once, never changed.
CREATE TABLE secrets (
  kind         TEXT COLLATE "C" NOT NULL,
  number       BIGINT NOT NULL CHECK (number >= 1),
  alg          TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  activates_at BIGINT NOT NULL,
  sealed       BYTEA NOT NULL,  -- encrypted under the master key, which is never stored here
  PRIMARY KEY (kind, number)
);

-- Failed client-authentication counts (ThrottleStore). UNLOGGED: no WAL on the failure path; a crash empties the
-- table, which only resets throttling (the port allows it).
CREATE UNLOGGED TABLE auth_failures (
  key          TEXT COLLATE "C" PRIMARY KEY,
  window_start BIGINT NOT NULL,
  failures     BIGINT NOT NULL
);
)sql",
    // 2: a sandbox account's fixed one-time code is stored as a keyed hash, like every other secret. The key is
    // not in the database, so the server replaces codes left in the clear `otp_code` column when it starts
    // (ClientRegistry::hash_clear_otp_codes); nothing writes that column any more.
    R"sql(
ALTER TABLE accounts ADD COLUMN otp_hash TEXT;
)sql",
    // 3: RP-initiated logout: the URIs a client may be sent back to after /v1/oauth/logout.
    R"sql(
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
)sql",
    // 4: shoppers' address books, and the first answer to each Idempotency-Key. addresses_by_sub serves the list
    // order and the cascade from accounts; addresses_one_default backs the one-default rule the stores keep in
    // each write. idempotency_keys' primary key serves the cascade from clients; its created_at index the janitor.
    R"sql(
CREATE TABLE addresses (
  id         TEXT COLLATE "C" PRIMARY KEY,
  sub        TEXT COLLATE "C" NOT NULL REFERENCES accounts (sub) ON DELETE CASCADE,
  fields     TEXT NOT NULL,  -- JSON object of strings
  is_default BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX addresses_by_sub ON addresses (sub, created_at, id);
CREATE UNIQUE INDEX addresses_one_default ON addresses (sub) WHERE is_default;

CREATE TABLE idempotency_keys (
  client_id    TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
  key          TEXT COLLATE "C" NOT NULL,
  request_hash TEXT COLLATE "C" NOT NULL,
  completed    BOOLEAN NOT NULL DEFAULT FALSE,
  status       INTEGER,  -- with completed
  body         TEXT,     -- with completed
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
)sql",
    // 5: detectAccount looks an account up by phone or by the SHA-256 of its email. Rows written before this have no
    // digest until a node starts (AccountStore::fill_email_sha256).
    R"sql(
ALTER TABLE accounts ADD COLUMN email_sha256 TEXT COLLATE "C";
CREATE INDEX accounts_email_sha256 ON accounts (email_sha256);
CREATE INDEX accounts_phone ON accounts (phone) WHERE phone IS NOT NULL;
)sql",
};

constexpr int migration_count = static_cast<int>(sizeof(migrations) / sizeof(migrations[0]));

}  // namespace

int PgSchema::latest_version() { return migration_count; }

std::string_view PgSchema::migration(int version) {
  if (version < 1 || version > migration_count) throw std::out_of_range("no migration " + std::to_string(version));
  return migrations[version - 1];
}

int PgSchema::current_version(PgConnection& c) {
  if (c.exec("SELECT to_regclass('schema_version') IS NOT NULL").boolean(0, 0) == false) return 0;
  return static_cast<int>(c.exec("SELECT coalesce(max(version), 0) FROM schema_version").int64(0, 0));
}

std::pair<int, int> PgSchema::migrate(PgConnection& c) {
  // Session-level: held across the per-migration transactions, released at the end or when `c` closes.
  c.exec("SELECT pg_advisory_lock(" + std::to_string(advisory_lock_key) + ")");
  struct Unlock {
    PgConnection& c;
    ~Unlock() {
      if (!c.usable()) return;  // a lost session took its lock with it
      try {
        c.exec("SELECT pg_advisory_unlock(" + std::to_string(advisory_lock_key) + ")");
      } catch (...) {  // the lock goes with the connection anyway
      }
    }
  } unlock{c};

  c.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
  const int before = current_version(c);
  if (before > migration_count)
    throw std::runtime_error("schema version " + std::to_string(before) + " is newer than this binary supports (" +
                             std::to_string(migration_count) + "): upgrade boltauth");
  for (int version = before + 1; version <= migration_count; ++version) {
    c.exec("BEGIN");
    try {
      c.exec(migrations[version - 1]);
      c.exec("INSERT INTO schema_version (version, applied_at) VALUES ($1, extract(epoch FROM now())::bigint)",
             {version});
      if (c.exec("COMMIT").command() != "COMMIT")
        throw std::runtime_error("migration " + std::to_string(version) + " was rolled back");
    } catch (...) {
      c.rollback_quietly();
      throw;
    }
  }
  return {before, migration_count};
}

}  // namespace boltauth::store::postgres
