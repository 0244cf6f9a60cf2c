// The storage contract (store_contract.hpp) on PostgreSQL: a fresh database per test, migrated on open.
#include "contract/pg_test_support.hpp"

namespace boltauth::contract {
namespace {

class PostgresStoreFactory {
 public:
  std::unique_ptr<StoreSet> open() { return std::make_unique<PgStoreSet>(pg_options(database_.url())); }

 private:
  PgTestDatabase database_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreContract, ::testing::Types<PostgresStoreFactory>);

}  // namespace boltauth::contract
