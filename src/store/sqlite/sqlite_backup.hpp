#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace boltauth::store::sqlite {

/// A file of the data dir carried in a backup (key material), by its path relative to the data dir.
struct BackupFile {
  std::string path;
  std::string content;
};

/// Writes a consistent copy of the SQLite database `db` into `out`, online (the server keeps reading and writing:
/// the copy is one read transaction's snapshot, `VACUUM INTO`), with `files` in a table of the copy, so one file
/// holds everything a data dir needs. `out` is created with mode 0600 and must not exist; it is fsynced before
/// this returns. Throws std::runtime_error naming what failed.
void write_backup(const std::filesystem::path& db, const std::filesystem::path& out,
                  const std::vector<BackupFile>& files);

/// Reads a backup made by write_backup: writes its database (without the files, which are wiped from it) to
/// `db_out` (mode 0600, must not exist) and returns the files. Throws std::runtime_error when `in` is not such a
/// backup.
std::vector<BackupFile> read_backup(const std::filesystem::path& in, const std::filesystem::path& db_out);

}  // namespace boltauth::store::sqlite
