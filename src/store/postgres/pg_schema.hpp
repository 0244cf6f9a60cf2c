#pragma once
#include <string_view>
#include <utility>

#include "store/postgres/pg_connection.hpp"

namespace boltauth::store::postgres {

/// The PostgreSQL schema: an ordered list of migrations, each applied once in its own transaction and recorded in
/// `schema_version`. A PostgreSQL database starts at storage v2: migration 1 is the whole v2 schema, with no
/// legacy tables (nothing was ever stored there before v2).
class PgSchema {
 public:
  /// Number of migrations this binary knows; the schema version of a migrated database.
  static int latest_version();
  /// The SQL script of migration `version` (1-based).
  static std::string_view migration(int version);
  /// The database's schema version as `c` sees it (0: never migrated).
  static int current_version(PgConnection& c);
  /// Applies every pending migration on `c` (a connection of its own, outside any transaction) under an advisory
  /// lock, so several processes migrating at once apply each migration exactly once. Returns {before, after}.
  /// Throws std::runtime_error, before changing anything, when the database is newer than this binary.
  static std::pair<int, int> migrate(PgConnection& c);
  /// Key of the session-level advisory lock that serializes migrations ("boltauth" in ASCII).
  static constexpr std::int64_t advisory_lock_key = 7093007185238914152;
};

}  // namespace boltauth::store::postgres
