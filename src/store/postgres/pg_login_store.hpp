#pragma once
#include "core/ports/login_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// LoginStore on PgDatabase. Login requests disappear with their client (foreign key). claim_attempt and
/// consume_request are each one conditional statement decided by its row count.
class PgLoginStore final : public core::ports::LoginStore {
 public:
  explicit PgLoginStore(PgDatabase& db) : db_(db) {}
  /// Also deletes a few expired requests (amortized clean-up, in the same statement).
  void insert_request(const core::model::LoginRequest& request) override;
  std::optional<core::model::LoginRequest> find_request(std::string_view id_hash) override;
  bool set_otp(std::string_view id_hash, std::string_view email, std::string_view otp_hash, base::UnixSeconds sent_at,
               base::UnixSeconds expires_at) override;
  bool claim_attempt(std::string_view id_hash, std::string_view otp_hash, base::UnixSeconds now,
                     std::int64_t max_attempts) override;
  bool consume_request(std::string_view id_hash, std::string_view otp_hash) override;
  /// Also deletes a few expired sessions, in the same statement.
  void insert_session(const core::model::LoginSession& session) override;
  std::optional<core::model::LoginSession> find_session(std::string_view id_hash) override;
  void delete_session(std::string_view id_hash) override;
  bool mark_email_verified(std::string_view sub, base::UnixSeconds now) override;

 private:
  PgDatabase& db_;
};

}  // namespace boltauth::store::postgres
