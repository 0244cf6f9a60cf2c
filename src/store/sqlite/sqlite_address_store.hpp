#pragma once
#include "core/ports/address_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace boltauth::store::sqlite {

/// AddressStore on SqliteDatabase. Each write is one db_.write: the single writer runs it whole, so counting the
/// book and keeping its one default cannot interleave with another write of the same book.
class SqliteAddressStore final : public core::ports::AddressStore {
 public:
  explicit SqliteAddressStore(SqliteDatabase& db) : db_(db) {}
  std::vector<core::model::Address> list(std::string_view sub) override;
  std::optional<core::model::Address> find(std::string_view sub, std::string_view id) override;
  AddResult add(core::model::Address& address, std::size_t max_per_account) override;
  std::optional<core::model::Address> edit(std::string_view sub, std::string_view id,
                                           const std::map<std::string, std::string>& fields,
                                           std::optional<bool> make_default, base::UnixSeconds now) override;
  bool replace(std::string_view sub, std::string_view id, core::model::Address& replacement) override;
  bool remove(std::string_view sub, std::string_view id, base::UnixSeconds now) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace boltauth::store::sqlite
