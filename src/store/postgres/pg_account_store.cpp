#include "store/postgres/pg_account_store.hpp"

#include <string>

#include "store/common/column_codec.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_read_ahead.hpp"
#include "store/postgres/pg_rows.hpp"

namespace boltauth::store::postgres {
namespace {

using common::ascii_lower;
using core::model::Account;

const PgStatement insert_sql("INSERT INTO accounts (" + account_columns +
                             ", email_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                             "ON CONFLICT DO NOTHING");
const PgStatement find_by_phone_sql("SELECT " + account_columns +
                                    " FROM accounts WHERE phone = $1 ORDER BY created_at, sub LIMIT 1");
const PgStatement find_by_email_sha256_sql("SELECT " + account_columns + " FROM accounts WHERE email_sha256 = $1");
const PgStatement missing_email_sha256_sql("SELECT sub, email FROM accounts WHERE email_sha256 IS NULL");
const PgStatement set_email_sha256_sql("UPDATE accounts SET email_sha256 = $2 WHERE sub = $1 AND email_sha256 IS NULL");
const PgStatement find_sql("SELECT " + account_columns + " FROM accounts WHERE sub = $1");
const PgStatement find_by_email_sql("SELECT " + account_columns + " FROM accounts WHERE email = $1");
// A call that changes nothing leaves updated_at alone.
const PgStatement update_profile_sql(
    "UPDATE accounts SET first_name = coalesce($2::text, first_name), last_name = coalesce($3::text, last_name), "
    "updated_at = CASE WHEN $2::text IS NULL AND $3::text IS NULL THEN updated_at ELSE $4 END WHERE sub = $1");

const PgStatement clear_otp_codes_sql("SELECT sub, otp_code FROM accounts WHERE otp_code IS NOT NULL");
// Conditional on the clear value: nodes converting at once change each row once.
const PgStatement hash_otp_code_sql(
    "UPDATE accounts SET otp_hash = $2, otp_code = NULL WHERE sub = $1 AND otp_code = $3");

std::optional<Account> find_account(PgDatabase& db, const PgStatement& statement, std::string_view key) {
  return db.run([&](PgConnection& c) -> std::optional<Account> {
    const PgResult r = c.run(statement, {key});
    if (r.rows() == 0) return std::nullopt;
    return read_account(r, 0);
  });
}

}  // namespace

bool PgAccountStore::insert(const Account& a) {
  const std::string email = ascii_lower(a.email);
  return db_.run([&](PgConnection& c) {
    return c.run(insert_sql, {a.sub, email, a.email_verified, a.first_name, a.last_name, a.phone, a.phone_verified,
                              a.otp_hash, a.deactivate_at, a.created_at, a.updated_at, common::email_sha256_hex(email)})
               .affected() == 1;
  });
}

std::optional<Account> PgAccountStore::find(std::string_view sub) {
  if (auto ahead = PgReadAhead::take_account(db_, sub)) return std::move(*ahead);
  return find_account(db_, find_sql, sub);
}

std::optional<Account> PgAccountStore::find_by_email(std::string_view email) {
  return find_account(db_, find_by_email_sql, ascii_lower(email));
}

std::optional<Account> PgAccountStore::find_by_phone(std::string_view phone) {
  return find_account(db_, find_by_phone_sql, phone);
}

std::optional<Account> PgAccountStore::find_by_email_sha256(std::string_view hex) {
  return find_account(db_, find_by_email_sha256_sql, hex);
}

std::size_t PgAccountStore::fill_email_sha256() {
  return db_.run([&](PgConnection& c) {
    const PgResult rows = c.run(missing_email_sha256_sql);
    std::size_t changed = 0;
    for (int i = 0; i < rows.rows(); ++i) {
      const std::string sub = rows.text(i, 0);
      changed += static_cast<std::size_t>(
          c.run(set_email_sha256_sql, {sub, common::email_sha256_hex(rows.text(i, 1))}).affected());
    }
    return changed;
  });
}

bool PgAccountStore::update_profile(std::string_view sub, const std::optional<std::string>& first_name,
                                    const std::optional<std::string>& last_name, base::UnixSeconds now) {
  return db_.run([&](PgConnection& c) {
    return c.run(update_profile_sql, {sub, first_name, last_name, now}).affected() == 1;
  });
}

std::size_t PgAccountStore::hash_clear_otp_codes(const OtpHasher& hash) {
  return db_.run([&](PgConnection& c) {
    const PgResult clear = c.run(clear_otp_codes_sql);
    std::size_t changed = 0;
    for (int i = 0; i < clear.rows(); ++i) {
      const std::string sub = clear.text(i, 0);
      const std::string code = clear.text(i, 1);
      changed += static_cast<std::size_t>(c.run(hash_otp_code_sql, {sub, hash(sub, code), code}).affected());
    }
    return changed;
  });
}

}  // namespace boltauth::store::postgres
