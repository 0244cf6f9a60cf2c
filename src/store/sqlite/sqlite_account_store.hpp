#pragma once
#include "core/ports/account_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace boltauth::store::sqlite {

/// AccountStore on SqliteDatabase. Emails are stored and compared in ASCII lower case.
class SqliteAccountStore final : public core::ports::AccountStore {
 public:
  explicit SqliteAccountStore(SqliteDatabase& db) : db_(db) {}
  bool insert(const core::model::Account& account) override;
  std::optional<core::model::Account> find(std::string_view sub) override;
  std::optional<core::model::Account> find_by_email(std::string_view email) override;
  std::optional<core::model::Account> find_by_phone(std::string_view phone) override;
  std::optional<core::model::Account> find_by_email_sha256(std::string_view hex) override;
  std::size_t fill_email_sha256() override;
  bool update_profile(std::string_view sub, const std::optional<std::string>& first_name,
                      const std::optional<std::string>& last_name, base::UnixSeconds now) override;
  std::size_t hash_clear_otp_codes(const OtpHasher& hash) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace boltauth::store::sqlite
