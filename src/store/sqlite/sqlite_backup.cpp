#include "store/sqlite/sqlite_backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>

namespace boltauth::store::sqlite {
namespace {

constexpr const char* kFilesTable = "boltauth_backup_files";

struct Closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

Handle open(const std::filesystem::path& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Handle handle(db);
  if (rc != SQLITE_OK)
    throw std::runtime_error("cannot open " + path.string() + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 10000);
  return handle;
}

void exec(sqlite3* db, const std::string& sql, const std::string& what) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    throw std::runtime_error(what + ": " + message);
  }
}

/// Creates `path` empty with mode 0600 (VACUUM INTO accepts an empty file and keeps its mode).
void create_private(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::filesystem::filesystem_error("cannot create", path, std::error_code(errno, std::generic_category()));
  ::close(fd);
}

void fsync_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot sync " + path.string());
  }
  ::close(fd);
  // The directory entry too: a power cut right after must not lose the new file.
  const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

std::string quoted(const std::filesystem::path& path) {
  std::string out = "'";
  for (char c : path.string()) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace

void write_backup(const std::filesystem::path& db, const std::filesystem::path& out,
                  const std::vector<BackupFile>& files) {
  if (!std::filesystem::exists(db)) throw std::runtime_error("no database at " + db.string());
  create_private(out);
  try {
    {
      // One read transaction of the live database (WAL: the writer is not held up), written out compacted.
      Handle source = open(db, SQLITE_OPEN_READONLY);
      exec(source.get(), "VACUUM INTO " + quoted(out), "copying " + db.string());
    }
    Handle copy = open(out, SQLITE_OPEN_READWRITE);
    exec(copy.get(),
         "BEGIN; CREATE TABLE " + std::string(kFilesTable) + " (path TEXT PRIMARY KEY, content BLOB NOT NULL)",
         "writing " + out.string());
    sqlite3_stmt* insert = nullptr;
    const std::string sql = "INSERT INTO " + std::string(kFilesTable) + " (path, content) VALUES (?1, ?2)";
    if (sqlite3_prepare_v2(copy.get(), sql.c_str(), -1, &insert, nullptr) != SQLITE_OK)
      throw std::runtime_error("writing " + out.string() + ": " + sqlite3_errmsg(copy.get()));
    for (const auto& f : files) {
      sqlite3_bind_text(insert, 1, f.path.data(), static_cast<int>(f.path.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(insert, 2, f.content.data(), static_cast<int>(f.content.size()), SQLITE_TRANSIENT);
      const int rc = sqlite3_step(insert);
      sqlite3_reset(insert);
      if (rc != SQLITE_DONE) {
        sqlite3_finalize(insert);
        throw std::runtime_error("writing " + out.string() + ": " + sqlite3_errmsg(copy.get()));
      }
    }
    sqlite3_finalize(insert);
    exec(copy.get(), "COMMIT", "writing " + out.string());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(out, ignored);
    std::filesystem::remove(out.string() + "-journal", ignored);
    throw;
  }
  fsync_file(out);
}

std::vector<BackupFile> read_backup(const std::filesystem::path& in, const std::filesystem::path& db_out) {
  if (!std::filesystem::is_regular_file(in)) throw std::runtime_error("no backup file at " + in.string());
  std::vector<BackupFile> files;
  {
    Handle backup = open(in, SQLITE_OPEN_READONLY);
    sqlite3_stmt* select = nullptr;
    const std::string sql = "SELECT path, content FROM " + std::string(kFilesTable) + " ORDER BY path";
    if (sqlite3_prepare_v2(backup.get(), sql.c_str(), -1, &select, nullptr) != SQLITE_OK)
      throw std::runtime_error(in.string() + " is not a boltauth backup (" + sqlite3_errmsg(backup.get()) + ")");
    int rc;
    while ((rc = sqlite3_step(select)) == SQLITE_ROW) {
      BackupFile f;
      f.path.assign(reinterpret_cast<const char*>(sqlite3_column_text(select, 0)),
                    static_cast<std::size_t>(sqlite3_column_bytes(select, 0)));
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(select, 1));
      f.content.assign(blob ? blob : "", static_cast<std::size_t>(sqlite3_column_bytes(select, 1)));
      files.push_back(std::move(f));
    }
    sqlite3_finalize(select);
    if (rc != SQLITE_DONE) throw std::runtime_error("reading " + in.string() + ": " + sqlite3_errmsg(backup.get()));
    // The database without the files table: copied out, so the key material is not left in its free pages.
    create_private(db_out);
    try {
      exec(backup.get(), "VACUUM INTO " + quoted(db_out), "restoring " + in.string());
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove(db_out, ignored);
      throw;
    }
  }
  try {
    Handle restored = open(db_out, SQLITE_OPEN_READWRITE);
    exec(restored.get(), "PRAGMA secure_delete = ON; DROP TABLE " + std::string(kFilesTable) + "; VACUUM",
         "restoring " + in.string());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(db_out, ignored);
    throw;
  }
  fsync_file(db_out);
  return files;
}

}  // namespace boltauth::store::sqlite
