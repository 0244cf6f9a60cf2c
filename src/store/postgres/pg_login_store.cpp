#include "store/postgres/pg_login_store.hpp"

#include <string>

#include "store/postgres/pg_connection.hpp"

namespace boltauth::store::postgres {
namespace {

using core::model::LoginRequest;
using core::model::LoginSession;

const std::string request_columns =
    "id_hash, client_id, redirect_uri, redirect_uri_given, scope, state, nonce, code_challenge, response_mode, "
    "browser_hash, email, otp_hash, otp_expires_at, otp_sent_at, attempts, created_at, expires_at";

// Amortized clean-up: each new login removes a few expired ones (index on expires_at), so the table stays bounded
// without a janitor. SKIP LOCKED: concurrent logins sweep different rows instead of queueing on the same ones.
// A data-modifying CTE always runs to completion, so the sweep and the insert are one statement. ORDER BY the
// indexed column: only the index gives rows in that order without sorting them all, so every plan walks it and
// stops after 8. Without it the generic plan PostgreSQL may settle on after five executions scanned the table
// until it met 8 expired rows, all of it when none had expired (every login reading every session). The rows go
// by their physical address (ctid, stable while this statement holds their lock): a TID lookup each.
const PgStatement insert_request_sql(
    "WITH swept AS (DELETE FROM login_requests WHERE ctid = ANY (ARRAY(SELECT ctid FROM login_requests "
    "WHERE expires_at <= $16 ORDER BY expires_at LIMIT 8 FOR UPDATE SKIP LOCKED))) "
    "INSERT INTO login_requests (" +
    request_columns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)");
const PgStatement find_request_sql("SELECT " + request_columns + " FROM login_requests WHERE id_hash = $1");
const PgStatement set_otp_sql(
    "UPDATE login_requests SET email = $2, otp_hash = $3, otp_sent_at = $4, otp_expires_at = $5, attempts = 0 "
    "WHERE id_hash = $1");
// The row count is the decision: concurrent guesses cannot spend more than max_attempts (checklist C10). Bound to
// the code the caller compares against: a resend resets the count, and a guess that loaded the replaced code must
// not get the new code's fresh attempts.
const PgStatement claim_attempt_sql(
    "UPDATE login_requests SET attempts = attempts + 1 "
    "WHERE id_hash = $1 AND otp_hash = $4 AND otp_hash <> '' AND otp_expires_at > $2 AND attempts < $3");
// Only while the matched code is still the current one: a code replaced by a resend logs no one in.
const PgStatement consume_request_sql("DELETE FROM login_requests WHERE id_hash = $1 AND otp_hash = $2");
const PgStatement insert_session_sql(
    "WITH swept AS (DELETE FROM login_sessions WHERE ctid = ANY (ARRAY(SELECT ctid FROM login_sessions "
    "WHERE expires_at <= $3 ORDER BY expires_at LIMIT 8 FOR UPDATE SKIP LOCKED))) "
    "INSERT INTO login_sessions (id_hash, sub, auth_time, expires_at) VALUES ($1, $2, $3, $4)");
const PgStatement find_session_sql("SELECT id_hash, sub, auth_time, expires_at FROM login_sessions WHERE id_hash = $1");
const PgStatement delete_session_sql("DELETE FROM login_sessions WHERE id_hash = $1");
const PgStatement mark_email_verified_sql(
    "UPDATE accounts SET email_verified = true, updated_at = CASE WHEN email_verified THEN updated_at ELSE $2 END "
    "WHERE sub = $1");

}  // namespace

void PgLoginStore::insert_request(const LoginRequest& r) {
  db_.run([&](PgConnection& c) {
    c.run(insert_request_sql, {r.id_hash, r.client_id, r.redirect_uri, r.redirect_uri_given, r.scope, r.state, r.nonce,
                               r.code_challenge, r.response_mode, r.browser_hash, r.email, r.otp_hash, r.otp_expires_at,
                               r.otp_sent_at, r.attempts, r.created_at, r.expires_at});
  });
}

std::optional<LoginRequest> PgLoginStore::find_request(std::string_view id_hash) {
  return db_.run([&](PgConnection& c) -> std::optional<LoginRequest> {
    const PgResult res = c.run(find_request_sql, {id_hash});
    if (res.rows() == 0) return std::nullopt;
    LoginRequest r;
    r.id_hash = res.text(0, 0);
    r.client_id = res.text(0, 1);
    r.redirect_uri = res.text(0, 2);
    r.redirect_uri_given = res.boolean(0, 3);
    r.scope = res.text(0, 4);
    r.state = res.text(0, 5);
    r.nonce = res.text(0, 6);
    r.code_challenge = res.text(0, 7);
    r.response_mode = res.text(0, 8);
    r.browser_hash = res.text(0, 9);
    r.email = res.text(0, 10);
    r.otp_hash = res.text(0, 11);
    r.otp_expires_at = res.int64(0, 12);
    r.otp_sent_at = res.int64(0, 13);
    r.attempts = res.int64(0, 14);
    r.created_at = res.int64(0, 15);
    r.expires_at = res.int64(0, 16);
    return r;
  });
}

bool PgLoginStore::set_otp(std::string_view id_hash, std::string_view email, std::string_view otp_hash,
                           base::UnixSeconds sent_at, base::UnixSeconds expires_at) {
  return db_.run([&](PgConnection& c) {
    return c.run(set_otp_sql, {id_hash, email, otp_hash, sent_at, expires_at}).affected() == 1;
  });
}

bool PgLoginStore::claim_attempt(std::string_view id_hash, std::string_view otp_hash, base::UnixSeconds now,
                                 std::int64_t max_attempts) {
  return db_.run([&](PgConnection& c) {
    return c.run(claim_attempt_sql, {id_hash, now, max_attempts, otp_hash}).affected() == 1;
  });
}

bool PgLoginStore::consume_request(std::string_view id_hash, std::string_view otp_hash) {
  return db_.run([&](PgConnection& c) { return c.run(consume_request_sql, {id_hash, otp_hash}).affected() == 1; });
}

void PgLoginStore::insert_session(const LoginSession& s) {
  db_.run([&](PgConnection& c) { c.run(insert_session_sql, {s.id_hash, s.sub, s.auth_time, s.expires_at}); });
}

std::optional<LoginSession> PgLoginStore::find_session(std::string_view id_hash) {
  return db_.run([&](PgConnection& c) -> std::optional<LoginSession> {
    const PgResult r = c.run(find_session_sql, {id_hash});
    if (r.rows() == 0) return std::nullopt;
    return LoginSession{r.text(0, 0), r.text(0, 1), r.int64(0, 2), r.int64(0, 3)};
  });
}

void PgLoginStore::delete_session(std::string_view id_hash) {
  db_.run([&](PgConnection& c) { c.run(delete_session_sql, {id_hash}); });
}

bool PgLoginStore::mark_email_verified(std::string_view sub, base::UnixSeconds now) {
  return db_.run([&](PgConnection& c) { return c.run(mark_email_verified_sql, {sub, now}).affected() == 1; });
}

}  // namespace boltauth::store::postgres
