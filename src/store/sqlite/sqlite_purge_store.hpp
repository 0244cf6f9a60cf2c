#pragma once
#include <cstdint>
#include <mutex>

#include "core/ports/purge_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace boltauth::store::sqlite {

/// PurgeStore on SqliteDatabase: each batch is one write (one transaction) through the group-commit writer.
///
/// `grants` and `legacy_grants` have no index on what decides their deletion (a rotation would have to update
/// it), so they are visited in key order from a cursor kept here, `limit` rows per batch. A pass ends when
/// both cursors have reached the end of their table: a cursor that got there first waits at 0 for the other,
/// so one pass visits every row once and `more` turns false at its end. Expiry-indexed kinds (deny list,
/// legacy tokens and codes, logins, Idempotency-Key records) delete up to `limit` rows each and report `more` when they
/// hit it.
class SqlitePurgeStore final : public core::ports::PurgeStore {
 public:
  explicit SqlitePurgeStore(SqliteDatabase& db) : db_(db) {}
  core::ports::PurgeCounts purge_batch(base::UnixSeconds now, int limit) override;

 private:
  /// A position in one table's key order, and whether this pass has reached the table's end.
  struct Cursor {
    std::int64_t after = 0;
    bool done = false;
  };

  SqliteDatabase& db_;
  std::mutex mutex_;  // one batch at a time per store object: the cursors are its state
  Cursor grants_;
  Cursor legacy_grants_;
};

}  // namespace boltauth::store::sqlite
