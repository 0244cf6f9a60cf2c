#include "store/sqlite/sqlite_account_store.hpp"

#include <string>
#include <utility>
#include <vector>
#include "store/common/column_codec.hpp"

namespace boltauth::store::sqlite {
namespace {

using common::ascii_lower;
using core::model::Account;

// The one column list of `accounts`, in read_account's order.
const std::string select_account =
    "SELECT sub, email, email_verified, first_name, last_name, phone, phone_verified, otp_hash, deactivate_at, "
    "created_at, updated_at FROM accounts";

Account read_account(const Statement& st) {
  Account account;
  account.sub = st.column_text(0);
  account.email = st.column_text(1);
  account.email_verified = st.column_bool(2);
  account.first_name = st.column_text(3);
  account.last_name = st.column_text(4);
  account.phone = st.column_optional_text(5);
  account.phone_verified = st.column_bool(6);
  account.otp_hash = st.column_optional_text(7);
  account.deactivate_at = st.column_optional_int(8);
  account.created_at = st.column_int(9);
  account.updated_at = st.column_int(10);
  return account;
}

std::optional<Account> find_account(SqliteDatabase& db, const std::string& sql, std::string_view key) {
  return db.read([&](Connection& c) -> std::optional<Account> {
    auto st = c.prepare(sql);
    st.bind_text(1, key);
    if (!st.step()) return std::nullopt;
    return read_account(st);
  });
}

}  // namespace

bool SqliteAccountStore::insert(const Account& account) {
  const std::string email = ascii_lower(account.email);
  return db_.write([&](Connection& c) {
    const bool inserted = c.prepare(
                               "INSERT INTO accounts (sub, email, email_verified, first_name, last_name, phone, "
                               "phone_verified, otp_hash, deactivate_at, created_at, updated_at, email_sha256) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT DO NOTHING")
                              .bind_text(1, account.sub)
                              .bind_text(2, email)
                              .bind_bool(3, account.email_verified)
                              .bind_text(4, account.first_name)
                              .bind_text(5, account.last_name)
                              .bind_optional_text(6, account.phone)
                              .bind_bool(7, account.phone_verified)
                              .bind_optional_text(8, account.otp_hash)
                              .bind_optional_int(9, account.deactivate_at)
                              .bind_int(10, account.created_at)
                              .bind_int(11, account.updated_at)
                              .bind_text(12, common::email_sha256_hex(email))
                              .run() == 1;
    return inserted ? keep(true) : rollback(false);
  });
}

std::optional<Account> SqliteAccountStore::find(std::string_view sub) {
  static const std::string sql = select_account + " WHERE sub = ?1";
  return find_account(db_, sql, sub);
}

std::optional<Account> SqliteAccountStore::find_by_email(std::string_view email) {
  static const std::string sql = select_account + " WHERE email = ?1";
  return find_account(db_, sql, ascii_lower(email));
}

std::optional<Account> SqliteAccountStore::find_by_phone(std::string_view phone) {
  static const std::string sql = select_account + " WHERE phone = ?1 ORDER BY created_at, sub LIMIT 1";
  return find_account(db_, sql, phone);
}

std::optional<Account> SqliteAccountStore::find_by_email_sha256(std::string_view hex) {
  static const std::string sql = select_account + " WHERE email_sha256 = ?1";
  return find_account(db_, sql, hex);
}

std::size_t SqliteAccountStore::fill_email_sha256() {
  return db_.write([&](Connection& c) {
    std::vector<std::pair<std::string, std::string>> rows;
    {
      auto st = c.prepare("SELECT sub, email FROM accounts WHERE email_sha256 IS NULL");
      while (st.step()) rows.emplace_back(st.column_text(0), st.column_text(1));
    }
    std::size_t changed = 0;
    for (const auto& [sub, email] : rows)
      changed += static_cast<std::size_t>(c.prepare("UPDATE accounts SET email_sha256 = ?2 WHERE sub = ?1")
                                              .bind_text(1, sub)
                                              .bind_text(2, common::email_sha256_hex(email))
                                              .run());
    return changed;
  });
}

bool SqliteAccountStore::update_profile(std::string_view sub, const std::optional<std::string>& first_name,
                                        const std::optional<std::string>& last_name, base::UnixSeconds now) {
  return db_.write([&](Connection& c) {
    // A call that changes nothing leaves updated_at alone.
    const bool updated =
        c.prepare(
             "UPDATE accounts SET first_name = coalesce(?2, first_name), last_name = coalesce(?3, last_name), "
             "updated_at = CASE WHEN ?2 IS NULL AND ?3 IS NULL THEN updated_at ELSE ?4 END WHERE sub = ?1")
            .bind_text(1, sub)
            .bind_optional_text(2, first_name)
            .bind_optional_text(3, last_name)
            .bind_int(4, now)
            .run() == 1;
    return updated ? keep(true) : rollback(false);
  });
}

std::size_t SqliteAccountStore::hash_clear_otp_codes(const OtpHasher& hash) {
  return db_.write([&](Connection& c) {
    std::vector<std::pair<std::string, std::string>> clear;
    {
      auto st = c.prepare("SELECT sub, otp_code FROM accounts WHERE otp_code IS NOT NULL");
      while (st.step()) clear.emplace_back(st.column_text(0), st.column_text(1));
    }
    if (clear.empty()) return std::size_t{0};
    // Zero the freed bytes of the rewritten rows, so the clear codes do not linger in the file's free space.
    c.exec("PRAGMA secure_delete = ON");
    std::size_t changed = 0;
    for (const auto& [sub, code] : clear)
      changed += static_cast<std::size_t>(
          c.prepare("UPDATE accounts SET otp_hash = ?2, otp_code = NULL WHERE sub = ?1 AND otp_code = ?3")
              .bind_text(1, sub)
              .bind_text(2, hash(sub, code))
              .bind_text(3, code)
              .run());
    c.exec("PRAGMA secure_delete = OFF");
    return changed;
  });
}

}  // namespace boltauth::store::sqlite
