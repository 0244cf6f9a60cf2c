#include "store/sqlite/sqlite_login_store.hpp"

#include <string>

namespace boltauth::store::sqlite {
namespace {

using core::model::LoginRequest;
using core::model::LoginSession;

}  // namespace

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
  return db_.write([&](Connection& c) {
    const bool updated =
        c.prepare(
             "UPDATE login_requests SET email = ?2, otp_hash = ?3, otp_sent_at = ?4, otp_expires_at = ?5, "
             "attempts = 0 WHERE id_hash = ?1")
            .bind_text(1, id_hash)
            .bind_text(2, email)
            .bind_text(3, otp_hash)
            .bind_int(4, sent_at)
            .bind_int(5, expires_at)
            .run() == 1;
    return updated ? keep(true) : rollback(false);
  });
}

bool SqliteLoginStore::claim_attempt(std::string_view id_hash, std::string_view otp_hash, base::UnixSeconds now,
                                     std::int64_t max_attempts) {
  return db_.write([&](Connection& c) {
    // The row count is the decision: concurrent guesses cannot spend more than max_attempts (checklist C10).
    // Bound to the code the caller compares against: a resend resets the count, and a guess that loaded the
    // replaced code must not get the new code's fresh attempts.
    const bool claimed =
        c.prepare(
             "UPDATE login_requests SET attempts = attempts + 1 "
             "WHERE id_hash = ?1 AND otp_hash = ?4 AND otp_hash <> '' AND otp_expires_at > ?2 AND attempts < ?3")
            .bind_text(1, id_hash)
            .bind_int(2, now)
            .bind_int(3, max_attempts)
            .bind_text(4, otp_hash)
            .run() == 1;
    return claimed ? keep(true) : rollback(false);
  });
}

bool SqliteLoginStore::consume_request(std::string_view id_hash, std::string_view otp_hash) {
  return db_.write([&](Connection& c) {
    // Only while the matched code is still the current one: a code replaced by a resend logs no one in.
    const bool removed = c.prepare("DELETE FROM login_requests WHERE id_hash = ?1 AND otp_hash = ?2")
                             .bind_text(1, id_hash)
                             .bind_text(2, otp_hash)
                             .run() == 1;
    return removed ? keep(true) : rollback(false);
  });
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
  db_.write(
      [&](Connection& c) { c.prepare("DELETE FROM login_sessions WHERE id_hash = ?1").bind_text(1, id_hash).run(); });
}

bool SqliteLoginStore::mark_email_verified(std::string_view sub, base::UnixSeconds now) {
  return db_.write([&](Connection& c) {
    const bool updated =
        c.prepare(
             "UPDATE accounts SET email_verified = 1, updated_at = CASE WHEN email_verified = 1 THEN updated_at "
             "ELSE ?2 END WHERE sub = ?1")
            .bind_text(1, sub)
            .bind_int(2, now)
            .run() == 1;
    return updated ? keep(true) : rollback(false);
  });
}

}  // namespace boltauth::store::sqlite
