#pragma once
#include <filesystem>
#include <string_view>

#include "store/sqlite/sqlite_connection.hpp"

namespace boltauth::store::sqlite {

/// The SQLite schema: an ordered list of migrations, each applied once in its own transaction.
class SqliteSchema {
 public:
  /// Number of migrations this binary knows; the schema version of a migrated file.
  static int latest_version();
  /// The SQL script of migration `version` (1-based). Tests build old files from it.
  static std::string_view migration(int version);
  /// Applies every pending migration on `connection` (outside any transaction). Throws StorageError, or
  /// std::runtime_error when the file is newer than this binary.
  static void migrate(Connection& connection);
  /// The schema version of the file at `path` without changing it: 0 when it does not exist or was never migrated.
  static int version_of(const std::filesystem::path& path);
};

}  // namespace boltauth::store::sqlite
