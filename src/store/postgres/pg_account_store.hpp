#pragma once
#include "core/ports/account_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// AccountStore on PgDatabase. Emails are stored and compared in ASCII lower case.
class PgAccountStore final : public core::ports::AccountStore {
 public:
  explicit PgAccountStore(PgDatabase& db) : db_(db) {}
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
  PgDatabase& db_;
};

}  // namespace boltauth::store::postgres
