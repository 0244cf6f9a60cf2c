#pragma once
#include "core/ports/client_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// ClientStore on PgDatabase. Removing a client is one DELETE whose foreign keys cascade to its grants and login
/// requests, in the same statement (so in one transaction).
class PgClientStore final : public core::ports::ClientStore {
 public:
  explicit PgClientStore(PgDatabase& db) : db_(db) {}
  /// False when the id (or the publishable key) is taken.
  bool insert(const core::model::Client& client) override;
  std::optional<core::model::Client> find(std::string_view client_id) override;
  /// Secret hashes are unique in practice (hashes of random keys); on a tie the lowest id wins.
  std::optional<core::model::Client> find_by_secret_hash(std::string_view secret_hash) override;
  /// Ordered by id (bytewise).
  std::vector<core::model::Client> list() override;
  bool remove(std::string_view client_id) override;
  bool update_secret_hash(std::string_view client_id, std::string_view secret_hash) override;
  bool update_redirect_uris(std::string_view client_id, const std::vector<std::string>& redirect_uris) override;

 private:
  PgDatabase& db_;
};

}  // namespace boltauth::store::postgres
