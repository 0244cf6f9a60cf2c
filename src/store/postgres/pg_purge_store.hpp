#pragma once
#include <cstdint>
#include <mutex>

#include "core/ports/purge_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// PurgeStore on PgDatabase: each batch is one short transaction.
///
/// `grants` has no index on what decides its deletion (a rotation would have to update it), so it is visited in id
/// order from a cursor kept here, `limit` rows per batch; a pass ends when the cursor reaches the end of the table,
/// and `more` turns false then. Expiry-indexed kinds (deny list, login requests and sessions, Idempotency-Key
/// records) delete up to `limit` rows each and report `more` when they hit it. There are no legacy tables on PostgreSQL
/// (see PgLegacyTokenStore), so the legacy counts stay 0. Failure windows of the ThrottleStore are purged by
/// PgThrottleStore::purge_failures, not here.
class PgPurgeStore final : public core::ports::PurgeStore {
 public:
  explicit PgPurgeStore(PgDatabase& db) : db_(db) {}
  core::ports::PurgeCounts purge_batch(base::UnixSeconds now, int limit) override;

 private:
  /// A position in the grants' id order, and whether this pass has reached the table's end.
  struct Cursor {
    std::int64_t after = 0;
    bool done = false;
  };

  PgDatabase& db_;
  std::mutex mutex_;  // one batch at a time per store object: the cursor is its state
  Cursor grants_;
};

}  // namespace boltauth::store::postgres
