#pragma once
#include "core/ports/login_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace boltauth::store::sqlite {

/// LoginStore on SqliteDatabase. Login requests disappear with their client (foreign key).
class SqliteLoginStore final : public core::ports::LoginStore {
 public:
  explicit SqliteLoginStore(SqliteDatabase& db) : db_(db) {}
  void insert_request(const core::model::LoginRequest& request) override;
  std::optional<core::model::LoginRequest> find_request(std::string_view id_hash) override;
  bool set_otp(std::string_view id_hash, std::string_view email, std::string_view otp_hash, base::UnixSeconds sent_at,
               base::UnixSeconds expires_at) override;
  bool claim_attempt(std::string_view id_hash, std::string_view otp_hash, base::UnixSeconds now,
                     std::int64_t max_attempts) override;
  bool consume_request(std::string_view id_hash, std::string_view otp_hash) override;
  void insert_session(const core::model::LoginSession& session) override;
  std::optional<core::model::LoginSession> find_session(std::string_view id_hash) override;
  void delete_session(std::string_view id_hash) override;
  bool mark_email_verified(std::string_view sub, base::UnixSeconds now) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace boltauth::store::sqlite
