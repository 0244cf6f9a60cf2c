#include "store/sqlite/sqlite_stores.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/ports/storage_error.hpp"

namespace boltauth::store::sqlite {
namespace {

using core::model::Account;
using core::model::Client;
using core::model::CodeRecord;
using core::model::GrantRecord;
using core::model::IssuedTokens;
using core::model::LoginRequest;
using core::model::LoginSession;
using core::model::TokenRecord;
using core::model::TokenType;
using core::ports::ConsumeOutcome;
using core::ports::StorageError;

// --- encodings -------------------------------------------------------------------------------------------

// JSON keeps any string intact (an empty entry, a comma) and stays readable with sqlite3's json_each.
std::string encode_list(const std::vector<std::string>& items) {
  boost::json::array array;
  array.reserve(items.size());
  for (const auto& item : items) array.emplace_back(item);
  return boost::json::serialize(array);
}

std::vector<std::string> decode_list(const std::string& text) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) throw StorageError("sqlite: corrupt list column", false);
  std::vector<std::string> items;
  items.reserve(value.get_array().size());
  for (const auto& item : value.get_array()) {
    if (!item.is_string()) throw StorageError("sqlite: corrupt list column", false);
    items.emplace_back(item.get_string());
  }
  return items;
}

// Stored as fixed numbers, independent of the enum's declaration order.
std::int64_t encode_type(TokenType type) { return type == TokenType::refresh_token ? 1 : 0; }

TokenType decode_type(std::int64_t value) {
  if (value == 0) return TokenType::access_token;
  if (value == 1) return TokenType::refresh_token;
  throw StorageError("sqlite: corrupt token type " + std::to_string(value), false);
}

// Emails are unique and looked up case-insensitively; ASCII folding matches the callers' normalization.
std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return out;
}

// --- rows ------------------------------------------------------------------------------------------------

constexpr const char* client_columns =
    "SELECT id, publishable_key, name, secret_hash, redirect_uris, grant_types, created_at, "
    "id_token_signed_response_alg, pkce_required FROM clients";

Client read_client(const Statement& st) {
  Client client;
  client.id = st.column_text(0);
  client.publishable_key = st.column_text(1);
  client.name = st.column_text(2);
  client.secret_hash = st.column_text(3);
  client.redirect_uris = decode_list(st.column_text(4));
  client.grant_types = decode_list(st.column_text(5));
  client.created_at = st.column_int(6);
  client.id_token_signed_response_alg = st.column_text(7);
  client.pkce_required = st.column_bool(8);
  return client;
}

Account read_account(const Statement& st) {
  Account account;
  account.sub = st.column_text(0);
  account.email = st.column_text(1);
  account.email_verified = st.column_bool(2);
  account.first_name = st.column_text(3);
  account.last_name = st.column_text(4);
  account.phone = st.column_optional_text(5);
  account.phone_verified = st.column_bool(6);
  account.otp_code = st.column_optional_text(7);
  account.deactivate_at = st.column_optional_int(8);
  account.created_at = st.column_int(9);
  account.updated_at = st.column_int(10);
  return account;
}

std::optional<Account> find_account(SqliteDatabase& db, const char* sql, std::string_view key) {
  return db.read([&](Connection& c) -> std::optional<Account> {
    auto st = c.prepare(sql);
    st.bind_text(1, key);
    if (!st.step()) return std::nullopt;
    return read_account(st);
  });
}

void insert_grant_row(Connection& c, const GrantRecord& grant) {
  c.prepare(
       "INSERT INTO grants (id, client_id, sub, auth_time, created_at, revoked_at) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind_text(1, grant.id)
      .bind_text(2, grant.client_id)
      .bind_text(3, grant.sub)
      .bind_int(4, grant.auth_time)
      .bind_int(5, grant.created_at)
      .bind_optional_int(6, grant.revoked_at)
      .run();
}

void insert_token(Connection& c, const TokenRecord& token) {
  c.prepare(
       "INSERT INTO tokens (hash, type, grant_id, client_id, sub, scope, issued_at, expires_at, used_at, "
       "revoked_at, next_hash, replayed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
      .bind_text(1, token.hash)
      .bind_int(2, encode_type(token.type))
      .bind_text(3, token.grant_id)
      .bind_text(4, token.client_id)
      .bind_text(5, token.sub)
      .bind_text(6, token.scope)
      .bind_int(7, token.issued_at)
      .bind_int(8, token.expires_at)
      .bind_optional_int(9, token.used_at)
      .bind_optional_int(10, token.revoked_at)
      .bind_text(11, token.next_hash)
      .bind_bool(12, token.replayed)
      .run();
}

void insert_tokens(Connection& c, const IssuedTokens& tokens) {
  insert_token(c, tokens.access);
  if (tokens.refresh) insert_token(c, *tokens.refresh);
}

std::string successor_hash(const IssuedTokens& tokens) { return tokens.refresh ? tokens.refresh->hash : std::string(); }

}  // namespace

// --- clients ---------------------------------------------------------------------------------------------

bool SqliteClientStore::insert(const Client& client) {
  const std::string redirect_uris = encode_list(client.redirect_uris);
  const std::string grant_types = encode_list(client.grant_types);
  bool inserted = false;
  db_.write([&](Connection& c) {
    // DO NOTHING covers only uniqueness conflicts; any other failure still throws.
    inserted =
        c.prepare(
             "INSERT INTO clients (id, publishable_key, name, secret_hash, redirect_uris, grant_types, "
             "created_at, id_token_signed_response_alg, pkce_required) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
             "ON CONFLICT DO NOTHING")
            .bind_text(1, client.id)
            .bind_text(2, client.publishable_key)
            .bind_text(3, client.name)
            .bind_text(4, client.secret_hash)
            .bind_text(5, redirect_uris)
            .bind_text(6, grant_types)
            .bind_int(7, client.created_at)
            .bind_text(8, client.id_token_signed_response_alg)
            .bind_bool(9, client.pkce_required)
            .run() == 1;
    return inserted;
  });
  return inserted;
}

std::optional<Client> SqliteClientStore::find(std::string_view client_id) {
  static const std::string sql = std::string(client_columns) + " WHERE id = ?1";
  return db_.read([&](Connection& c) -> std::optional<Client> {
    auto st = c.prepare(sql);
    st.bind_text(1, client_id);
    if (!st.step()) return std::nullopt;
    return read_client(st);
  });
}

std::optional<Client> SqliteClientStore::find_by_secret_hash(std::string_view secret_hash) {
  static const std::string sql = std::string(client_columns) + " WHERE secret_hash = ?1 ORDER BY id LIMIT 1";
  return db_.read([&](Connection& c) -> std::optional<Client> {
    auto st = c.prepare(sql);
    st.bind_text(1, secret_hash);
    if (!st.step()) return std::nullopt;
    return read_client(st);
  });
}

std::vector<Client> SqliteClientStore::list() {
  static const std::string sql = std::string(client_columns) + " ORDER BY id";
  return db_.read([&](Connection& c) {
    std::vector<Client> clients;
    auto st = c.prepare(sql);
    while (st.step()) clients.push_back(read_client(st));
    return clients;
  });
}

bool SqliteClientStore::remove(std::string_view client_id) {
  bool removed = false;
  db_.write([&](Connection& c) {
    // ON DELETE CASCADE removes codes and grants, and through grants their tokens.
    removed = c.prepare("DELETE FROM clients WHERE id = ?1").bind_text(1, client_id).run() == 1;
    return removed;
  });
  return removed;
}

bool SqliteClientStore::update_secret_hash(std::string_view client_id, std::string_view secret_hash) {
  bool updated = false;
  db_.write([&](Connection& c) {
    updated = c.prepare("UPDATE clients SET secret_hash = ?2 WHERE id = ?1")
                  .bind_text(1, client_id)
                  .bind_text(2, secret_hash)
                  .run() == 1;
    return updated;
  });
  return updated;
}

// --- accounts --------------------------------------------------------------------------------------------

bool SqliteAccountStore::insert(const Account& account) {
  const std::string email = ascii_lower(account.email);
  bool inserted = false;
  db_.write([&](Connection& c) {
    inserted = c.prepare(
                    "INSERT INTO accounts (sub, email, email_verified, first_name, last_name, phone, "
                    "phone_verified, otp_code, deactivate_at, created_at, updated_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING")
                   .bind_text(1, account.sub)
                   .bind_text(2, email)
                   .bind_bool(3, account.email_verified)
                   .bind_text(4, account.first_name)
                   .bind_text(5, account.last_name)
                   .bind_optional_text(6, account.phone)
                   .bind_bool(7, account.phone_verified)
                   .bind_optional_text(8, account.otp_code)
                   .bind_optional_int(9, account.deactivate_at)
                   .bind_int(10, account.created_at)
                   .bind_int(11, account.updated_at)
                   .run() == 1;
    return inserted;
  });
  return inserted;
}

std::optional<Account> SqliteAccountStore::find(std::string_view sub) {
  return find_account(db_,
                      "SELECT sub, email, email_verified, first_name, last_name, phone, phone_verified, otp_code, "
                      "deactivate_at, created_at, updated_at FROM accounts WHERE sub = ?1",
                      sub);
}

std::optional<Account> SqliteAccountStore::find_by_email(std::string_view email) {
  return find_account(db_,
                      "SELECT sub, email, email_verified, first_name, last_name, phone, phone_verified, otp_code, "
                      "deactivate_at, created_at, updated_at FROM accounts WHERE email = ?1",
                      ascii_lower(email));
}

bool SqliteAccountStore::update_profile(std::string_view sub, const std::optional<std::string>& first_name,
                                        const std::optional<std::string>& last_name, base::UnixSeconds now) {
  bool updated = false;
  db_.write([&](Connection& c) {
    // A call that changes nothing leaves updated_at alone.
    updated = c.prepare(
                   "UPDATE accounts SET first_name = coalesce(?2, first_name), last_name = coalesce(?3, last_name), "
                   "updated_at = CASE WHEN ?2 IS NULL AND ?3 IS NULL THEN updated_at ELSE ?4 END WHERE sub = ?1")
                  .bind_text(1, sub)
                  .bind_optional_text(2, first_name)
                  .bind_optional_text(3, last_name)
                  .bind_int(4, now)
                  .run() == 1;
    return updated;
  });
  return updated;
}

// --- codes, grants, tokens -------------------------------------------------------------------------------

void SqliteGrantStore::insert_code(const CodeRecord& code) {
  db_.write([&](Connection& c) {
    c.prepare(
         "INSERT INTO codes (hash, client_id, sub, scope, redirect_uri, code_challenge, nonce, state, grant_id, "
         "auth_time, issued_at, expires_at, used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")
        .bind_text(1, code.hash)
        .bind_text(2, code.client_id)
        .bind_text(3, code.sub)
        .bind_text(4, code.scope)
        .bind_text(5, code.redirect_uri)
        .bind_text(6, code.code_challenge)
        .bind_text(7, code.nonce)
        .bind_text(8, code.state)
        .bind_text(9, code.grant_id)
        .bind_int(10, code.auth_time)
        .bind_int(11, code.issued_at)
        .bind_int(12, code.expires_at)
        .bind_optional_int(13, code.used_at)
        .run();
    return true;
  });
}

std::optional<CodeRecord> SqliteGrantStore::find_code(std::string_view hash) {
  return db_.read([&](Connection& c) -> std::optional<CodeRecord> {
    auto st = c.prepare(
        "SELECT hash, client_id, sub, scope, redirect_uri, code_challenge, nonce, state, grant_id, auth_time, "
        "issued_at, expires_at, used_at FROM codes WHERE hash = ?1");
    st.bind_text(1, hash);
    if (!st.step()) return std::nullopt;
    CodeRecord code;
    code.hash = st.column_text(0);
    code.client_id = st.column_text(1);
    code.sub = st.column_text(2);
    code.scope = st.column_text(3);
    code.redirect_uri = st.column_text(4);
    code.code_challenge = st.column_text(5);
    code.nonce = st.column_text(6);
    code.state = st.column_text(7);
    code.grant_id = st.column_text(8);
    code.auth_time = st.column_int(9);
    code.issued_at = st.column_int(10);
    code.expires_at = st.column_int(11);
    code.used_at = st.column_optional_int(12);
    return code;
  });
}

ConsumeOutcome SqliteGrantStore::redeem_code(std::string_view code_hash, base::UnixSeconds now,
                                             const GrantRecord& grant, const IssuedTokens& tokens) {
  ConsumeOutcome outcome = ConsumeOutcome::lost;
  db_.write([&](Connection& c) {
    // The row count of this conditional update is the single-use decision; no prior read.
    const int changed = c.prepare(
                             "UPDATE codes SET used_at = ?2 "
                             "WHERE hash = ?1 AND used_at IS NULL AND expires_at > ?2")
                            .bind_text(1, code_hash)
                            .bind_int(2, now)
                            .run();
    if (changed != 1) return false;
    insert_grant_row(c, grant);
    insert_tokens(c, tokens);
    outcome = ConsumeOutcome::consumed;
    return true;
  });
  return outcome;
}

std::optional<TokenRecord> SqliteGrantStore::find_token(std::string_view hash) {
  return db_.read([&](Connection& c) -> std::optional<TokenRecord> {
    // A token whose grant row is missing counts as revoked: fail closed.
    auto st = c.prepare(
        "SELECT t.hash, t.type, t.grant_id, t.client_id, t.sub, t.scope, t.issued_at, t.expires_at, t.used_at, "
        "t.revoked_at, t.next_hash, t.replayed, (g.id IS NULL OR g.revoked_at IS NOT NULL) "
        "FROM tokens t LEFT JOIN grants g ON g.id = t.grant_id WHERE t.hash = ?1");
    st.bind_text(1, hash);
    if (!st.step()) return std::nullopt;
    TokenRecord token;
    token.hash = st.column_text(0);
    token.type = decode_type(st.column_int(1));
    token.grant_id = st.column_text(2);
    token.client_id = st.column_text(3);
    token.sub = st.column_text(4);
    token.scope = st.column_text(5);
    token.issued_at = st.column_int(6);
    token.expires_at = st.column_int(7);
    token.used_at = st.column_optional_int(8);
    token.revoked_at = st.column_optional_int(9);
    token.next_hash = st.column_text(10);
    token.replayed = st.column_bool(11);
    token.grant_revoked = st.column_bool(12);
    return token;
  });
}

std::optional<GrantRecord> SqliteGrantStore::find_grant(std::string_view grant_id) {
  return db_.read([&](Connection& c) -> std::optional<GrantRecord> {
    auto st = c.prepare("SELECT id, client_id, sub, auth_time, created_at, revoked_at FROM grants WHERE id = ?1");
    st.bind_text(1, grant_id);
    if (!st.step()) return std::nullopt;
    GrantRecord grant;
    grant.id = st.column_text(0);
    grant.client_id = st.column_text(1);
    grant.sub = st.column_text(2);
    grant.auth_time = st.column_int(3);
    grant.created_at = st.column_int(4);
    grant.revoked_at = st.column_optional_int(5);
    return grant;
  });
}

ConsumeOutcome SqliteGrantStore::rotate_refresh(std::string_view old_hash, base::UnixSeconds now,
                                                const IssuedTokens& tokens) {
  const std::string next_hash = successor_hash(tokens);
  ConsumeOutcome outcome = ConsumeOutcome::lost;
  db_.write([&](Connection& c) {
    // EXISTS rather than `grant_id IN (SELECT ...)`: a primary-key probe instead of a scan of all grants.
    const int changed = c.prepare(
                             "UPDATE tokens SET used_at = ?2, next_hash = ?3 "
                             "WHERE hash = ?1 AND type = 1 AND used_at IS NULL AND revoked_at IS NULL "
                             "AND expires_at > ?2 AND EXISTS (SELECT 1 FROM grants g "
                             "WHERE g.id = tokens.grant_id AND g.revoked_at IS NULL)")
                            .bind_text(1, old_hash)
                            .bind_int(2, now)
                            .bind_text(3, next_hash)
                            .run();
    if (changed != 1) return false;
    insert_tokens(c, tokens);
    outcome = ConsumeOutcome::consumed;
    return true;
  });
  return outcome;
}

ConsumeOutcome SqliteGrantStore::replay_refresh(std::string_view old_hash, base::UnixSeconds now,
                                                const IssuedTokens& tokens) {
  const std::string next_hash = successor_hash(tokens);
  ConsumeOutcome outcome = ConsumeOutcome::lost;
  db_.write([&](Connection& c) {
    // Revoke the successor only while it is unused and the old token still qualifies for its one replay.
    const int revoked = c.prepare(
                             "UPDATE tokens SET revoked_at = ?2 "
                             "WHERE hash = (SELECT o.next_hash FROM tokens o WHERE o.hash = ?1 AND o.type = 1 "
                             "AND o.used_at IS NOT NULL AND o.replayed = 0 AND o.revoked_at IS NULL "
                             "AND EXISTS (SELECT 1 FROM grants g WHERE g.id = o.grant_id AND g.revoked_at IS NULL)) "
                             "AND type = 1 AND used_at IS NULL AND revoked_at IS NULL")
                            .bind_text(1, old_hash)
                            .bind_int(2, now)
                            .run();
    if (revoked != 1) return false;
    const int marked = c.prepare("UPDATE tokens SET replayed = 1, next_hash = ?2 WHERE hash = ?1 AND replayed = 0")
                           .bind_text(1, old_hash)
                           .bind_text(2, next_hash)
                           .run();
    if (marked != 1) return false;
    // The successor's access token may be in a thief's hands too: every earlier access token of the family
    // dies with it (the replaying client gets a fresh one below).
    c.prepare(
         "UPDATE tokens SET revoked_at = ?2 WHERE grant_id = (SELECT grant_id FROM tokens WHERE hash = ?1) "
         "AND type = 0 AND revoked_at IS NULL")
        .bind_text(1, old_hash)
        .bind_int(2, now)
        .run();
    insert_tokens(c, tokens);
    outcome = ConsumeOutcome::consumed;
    return true;
  });
  return outcome;
}

void SqliteGrantStore::revoke_grant(std::string_view grant_id, base::UnixSeconds now) {
  db_.write([&](Connection& c) {
    c.prepare("UPDATE grants SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
        .bind_text(1, grant_id)
        .bind_int(2, now)
        .run();
    return true;
  });
}

// --- janitor -----------------------------------------------------------------------------------------------

core::ports::PurgeCounts SqlitePurgeStore::purge_batch(base::UnixSeconds now, int limit) {
  core::ports::PurgeCounts counts;
  db_.write([&](Connection& c) {
    counts = {};
    counts.codes =
        c.prepare("DELETE FROM codes WHERE rowid IN (SELECT rowid FROM codes WHERE expires_at <= ?1 LIMIT ?2)")
            .bind_int(1, now)
            .bind_int(2, limit)
            .run();
    // Grants whose tokens went in this batch; emptied ones go too, in the same transaction.
    std::vector<std::string> touched;
    {
      auto st = c.prepare(
          "DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens WHERE expires_at <= ?1 AND type = 0 LIMIT ?2) "
          "RETURNING grant_id");
      st.bind_int(1, now).bind_int(2, limit);
      while (st.step()) {
        touched.push_back(st.column_text(0));
        ++counts.access_tokens;
      }
    }
    {
      // RFC 9700 section 4.14.2: a rotated refresh token is kept for its own lifetime, so presenting it within
      // that lifetime still revokes the family; after it, it is refused as unknown (docs/design.md).
      auto st = c.prepare(
          "DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens WHERE expires_at <= ?1 AND type = 1 LIMIT ?2) "
          "RETURNING grant_id");
      st.bind_int(1, now).bind_int(2, limit);
      while (st.step()) {
        touched.push_back(st.column_text(0));
        ++counts.refresh_tokens;
      }
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (const auto& id : touched) {
      counts.grants +=
          c.prepare("DELETE FROM grants WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM tokens WHERE grant_id = ?1)")
              .bind_text(1, id)
              .run();
    }
    // A revoked family is dead as a whole; its tokens go with it (ON DELETE CASCADE).
    counts.grants += c.prepare(
                          "DELETE FROM grants WHERE rowid IN (SELECT rowid FROM grants WHERE revoked_at IS NOT NULL "
                          "AND revoked_at <= ?1 LIMIT ?2)")
                         .bind_int(1, now)
                         .bind_int(2, limit)
                         .run();
    // Login requests and sessions are refused by their own expires_at check; deleting them is only space.
    for (const char* table : {"login_requests", "login_sessions"}) {
      counts.logins += c.prepare(std::string("DELETE FROM ") + table + " WHERE rowid IN (SELECT rowid FROM " + table +
                                 " WHERE expires_at <= ?1 LIMIT ?2)")
                           .bind_int(1, now)
                           .bind_int(2, limit)
                           .run();
    }
    return true;
  });
  return counts;
}

void SqliteGrantStore::insert_grant(const GrantRecord& grant, const IssuedTokens& tokens) {
  db_.write([&](Connection& c) {
    insert_grant_row(c, grant);
    insert_tokens(c, tokens);
    return true;
  });
}

void SqliteGrantStore::revoke_token(std::string_view hash, base::UnixSeconds now) {
  db_.write([&](Connection& c) {
    c.prepare("UPDATE tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL")
        .bind_text(1, hash)
        .bind_int(2, now)
        .run();
    return true;
  });
}

// --- login requests and sessions ----------------------------------------------------------------------------

void SqliteLoginStore::insert_request(const LoginRequest& r) {
  db_.write([&](Connection& c) {
    c.prepare(
         "INSERT INTO login_requests (id_hash, client_id, redirect_uri, redirect_uri_given, scope, state, nonce, "
         "code_challenge, response_mode, browser_hash, email, otp_hash, otp_expires_at, otp_sent_at, attempts, "
         "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)")
        .bind_text(1, r.id_hash)
        .bind_text(2, r.client_id)
        .bind_text(3, r.redirect_uri)
        .bind_bool(4, r.redirect_uri_given)
        .bind_text(5, r.scope)
        .bind_text(6, r.state)
        .bind_text(7, r.nonce)
        .bind_text(8, r.code_challenge)
        .bind_text(9, r.response_mode)
        .bind_text(10, r.browser_hash)
        .bind_text(11, r.email)
        .bind_text(12, r.otp_hash)
        .bind_int(13, r.otp_expires_at)
        .bind_int(14, r.otp_sent_at)
        .bind_int(15, r.attempts)
        .bind_int(16, r.created_at)
        .bind_int(17, r.expires_at)
        .run();
    // Amortized clean-up: each new login removes a few expired ones (index on expires_at), so the table stays
    // bounded without a janitor.
    c.prepare(
         "DELETE FROM login_requests WHERE id_hash IN "
         "(SELECT id_hash FROM login_requests WHERE expires_at <= ?1 LIMIT 8)")
        .bind_int(1, r.created_at)
        .run();
    return true;
  });
}

std::optional<LoginRequest> SqliteLoginStore::find_request(std::string_view id_hash) {
  return db_.read([&](Connection& c) -> std::optional<LoginRequest> {
    auto st = c.prepare(
        "SELECT id_hash, client_id, redirect_uri, redirect_uri_given, scope, state, nonce, code_challenge, "
        "response_mode, browser_hash, email, otp_hash, otp_expires_at, otp_sent_at, attempts, created_at, expires_at "
        "FROM login_requests WHERE id_hash = ?1");
    st.bind_text(1, id_hash);
    if (!st.step()) return std::nullopt;
    LoginRequest r;
    r.id_hash = st.column_text(0);
    r.client_id = st.column_text(1);
    r.redirect_uri = st.column_text(2);
    r.redirect_uri_given = st.column_bool(3);
    r.scope = st.column_text(4);
    r.state = st.column_text(5);
    r.nonce = st.column_text(6);
    r.code_challenge = st.column_text(7);
    r.response_mode = st.column_text(8);
    r.browser_hash = st.column_text(9);
    r.email = st.column_text(10);
    r.otp_hash = st.column_text(11);
    r.otp_expires_at = st.column_int(12);
    r.otp_sent_at = st.column_int(13);
    r.attempts = st.column_int(14);
    r.created_at = st.column_int(15);
    r.expires_at = st.column_int(16);
    return r;
  });
}

bool SqliteLoginStore::set_otp(std::string_view id_hash, std::string_view email, std::string_view otp_hash,
                               base::UnixSeconds sent_at, base::UnixSeconds expires_at) {
  bool updated = false;
  db_.write([&](Connection& c) {
    updated = c.prepare(
                   "UPDATE login_requests SET email = ?2, otp_hash = ?3, otp_sent_at = ?4, otp_expires_at = ?5, "
                   "attempts = 0 WHERE id_hash = ?1")
                  .bind_text(1, id_hash)
                  .bind_text(2, email)
                  .bind_text(3, otp_hash)
                  .bind_int(4, sent_at)
                  .bind_int(5, expires_at)
                  .run() == 1;
    return updated;
  });
  return updated;
}

bool SqliteLoginStore::claim_attempt(std::string_view id_hash, std::string_view otp_hash, base::UnixSeconds now,
                                     std::int64_t max_attempts) {
  bool claimed = false;
  db_.write([&](Connection& c) {
    // The row count is the decision: concurrent guesses cannot spend more than max_attempts (checklist C10).
    // Bound to the code the caller compares against: a resend resets the count, and a guess that loaded the
    // replaced code must not get the new code's fresh attempts.
    claimed = c.prepare(
                   "UPDATE login_requests SET attempts = attempts + 1 "
                   "WHERE id_hash = ?1 AND otp_hash = ?4 AND otp_hash <> '' AND otp_expires_at > ?2 AND attempts < ?3")
                  .bind_text(1, id_hash)
                  .bind_int(2, now)
                  .bind_int(3, max_attempts)
                  .bind_text(4, otp_hash)
                  .run() == 1;
    return claimed;
  });
  return claimed;
}

bool SqliteLoginStore::consume_request(std::string_view id_hash, std::string_view otp_hash) {
  bool removed = false;
  db_.write([&](Connection& c) {
    // Only while the matched code is still the current one: a code replaced by a resend logs no one in.
    removed = c.prepare("DELETE FROM login_requests WHERE id_hash = ?1 AND otp_hash = ?2")
                  .bind_text(1, id_hash)
                  .bind_text(2, otp_hash)
                  .run() == 1;
    return removed;
  });
  return removed;
}

void SqliteLoginStore::insert_session(const LoginSession& s) {
  db_.write([&](Connection& c) {
    c.prepare("INSERT INTO login_sessions (id_hash, sub, auth_time, expires_at) VALUES (?1, ?2, ?3, ?4)")
        .bind_text(1, s.id_hash)
        .bind_text(2, s.sub)
        .bind_int(3, s.auth_time)
        .bind_int(4, s.expires_at)
        .run();
    // As for login requests: a few expired sessions go with each new one.
    c.prepare(
         "DELETE FROM login_sessions WHERE id_hash IN "
         "(SELECT id_hash FROM login_sessions WHERE expires_at <= ?1 LIMIT 8)")
        .bind_int(1, s.auth_time)
        .run();
    return true;
  });
}

std::optional<LoginSession> SqliteLoginStore::find_session(std::string_view id_hash) {
  return db_.read([&](Connection& c) -> std::optional<LoginSession> {
    auto st = c.prepare("SELECT id_hash, sub, auth_time, expires_at FROM login_sessions WHERE id_hash = ?1");
    st.bind_text(1, id_hash);
    if (!st.step()) return std::nullopt;
    LoginSession s;
    s.id_hash = st.column_text(0);
    s.sub = st.column_text(1);
    s.auth_time = st.column_int(2);
    s.expires_at = st.column_int(3);
    return s;
  });
}

void SqliteLoginStore::delete_session(std::string_view id_hash) {
  db_.write([&](Connection& c) {
    c.prepare("DELETE FROM login_sessions WHERE id_hash = ?1").bind_text(1, id_hash).run();
    return true;
  });
}

bool SqliteLoginStore::mark_email_verified(std::string_view sub, base::UnixSeconds now) {
  bool updated = false;
  db_.write([&](Connection& c) {
    updated = c.prepare(
                   "UPDATE accounts SET email_verified = 1, updated_at = CASE WHEN email_verified = 1 THEN updated_at "
                   "ELSE ?2 END WHERE sub = ?1")
                  .bind_text(1, sub)
                  .bind_int(2, now)
                  .run() == 1;
    return updated;
  });
  return updated;
}

}  // namespace boltauth::store::sqlite
