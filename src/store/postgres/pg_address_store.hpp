#pragma once
#include "core/ports/address_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// AddressStore on PgDatabase. Each write is one transaction that first locks the account's row (FOR NO KEY
/// UPDATE), so two nodes writing one book take turns: the count against the limit and the one default hold
/// across nodes, not only per process.
class PgAddressStore final : public core::ports::AddressStore {
 public:
  explicit PgAddressStore(PgDatabase& db) : db_(db) {}
  std::vector<core::model::Address> list(std::string_view sub) override;
  std::optional<core::model::Address> find(std::string_view sub, std::string_view id) override;
  AddResult add(core::model::Address& address, std::size_t max_per_account) override;
  std::optional<core::model::Address> edit(std::string_view sub, std::string_view id,
                                           const std::map<std::string, std::string>& fields,
                                           std::optional<bool> make_default, base::UnixSeconds now) override;
  bool replace(std::string_view sub, std::string_view id, core::model::Address& replacement) override;
  bool remove(std::string_view sub, std::string_view id, base::UnixSeconds now) override;

 private:
  PgDatabase& db_;
};

}  // namespace boltauth::store::postgres
