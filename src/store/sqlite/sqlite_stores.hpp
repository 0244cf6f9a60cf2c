#pragma once
#include "core/ports/account_store.hpp"
#include "core/ports/client_store.hpp"
#include "core/ports/grant_store.hpp"
#include "core/ports/login_store.hpp"
#include "core/ports/purge_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace boltauth::store::sqlite {

/// ClientStore on SqliteDatabase. Removing a client cascades to its codes, grants and tokens.
class SqliteClientStore final : public core::ports::ClientStore {
 public:
  explicit SqliteClientStore(SqliteDatabase& db) : db_(db) {}
  /// False when the id (or the publishable key) is taken.
  bool insert(const core::model::Client& client) override;
  std::optional<core::model::Client> find(std::string_view client_id) override;
  /// Secret hashes are unique in practice (hashes of random keys); on a tie the lowest id wins.
  std::optional<core::model::Client> find_by_secret_hash(std::string_view secret_hash) override;
  /// Ordered by id.
  std::vector<core::model::Client> list() override;
  bool remove(std::string_view client_id) override;
  bool update_secret_hash(std::string_view client_id, std::string_view secret_hash) override;

 private:
  SqliteDatabase& db_;
};

/// AccountStore on SqliteDatabase. Emails are stored and compared in ASCII lower case.
class SqliteAccountStore final : public core::ports::AccountStore {
 public:
  explicit SqliteAccountStore(SqliteDatabase& db) : db_(db) {}
  bool insert(const core::model::Account& account) override;
  std::optional<core::model::Account> find(std::string_view sub) override;
  std::optional<core::model::Account> find_by_email(std::string_view email) override;
  bool update_profile(std::string_view sub, const std::optional<std::string>& first_name,
                      const std::optional<std::string>& last_name, base::UnixSeconds now) override;

 private:
  SqliteDatabase& db_;
};

/// GrantStore on SqliteDatabase. Codes must name an existing client and tokens an existing grant (foreign
/// keys); a violation is a StorageError.
class SqliteGrantStore final : public core::ports::GrantStore {
 public:
  explicit SqliteGrantStore(SqliteDatabase& db) : db_(db) {}

  void insert_code(const core::model::CodeRecord& code) override;
  std::optional<core::model::CodeRecord> find_code(std::string_view hash) override;
  core::ports::ConsumeOutcome redeem_code(std::string_view code_hash, base::UnixSeconds now,
                                          const core::model::GrantRecord& grant,
                                          const core::model::IssuedTokens& tokens) override;
  std::optional<core::model::TokenRecord> find_token(std::string_view hash) override;
  std::optional<core::model::GrantRecord> find_grant(std::string_view grant_id) override;
  core::ports::ConsumeOutcome rotate_refresh(std::string_view old_hash, base::UnixSeconds now,
                                             const core::model::IssuedTokens& tokens) override;
  core::ports::ConsumeOutcome replay_refresh(std::string_view old_hash, base::UnixSeconds now,
                                             const core::model::IssuedTokens& tokens) override;
  /// Marks the grant revoked (first revocation time kept); find_token reports it on every token of the
  /// family through `grant_revoked`. The tokens' own `revoked_at` stays as it was.
  void revoke_grant(std::string_view grant_id, base::UnixSeconds now) override;
  void insert_grant(const core::model::GrantRecord& grant, const core::model::IssuedTokens& tokens) override;
  void revoke_token(std::string_view hash, base::UnixSeconds now) override;

 private:
  SqliteDatabase& db_;
};

/// PurgeStore on SqliteDatabase: each batch is one write (one transaction) through the group-commit writer.
class SqlitePurgeStore final : public core::ports::PurgeStore {
 public:
  explicit SqlitePurgeStore(SqliteDatabase& db) : db_(db) {}
  core::ports::PurgeCounts purge_batch(base::UnixSeconds now, int limit) override;

 private:
  SqliteDatabase& db_;
};

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
