#pragma once
#include "core/ports/client_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace boltauth::store::sqlite {

/// ClientStore on SqliteDatabase. Removing a client cascades to its grants, login requests and legacy rows.
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
  bool update_redirect_uris(std::string_view client_id, const std::vector<std::string>& redirect_uris) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace boltauth::store::sqlite
