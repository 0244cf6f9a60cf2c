#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct pg_conn;

namespace boltauth::bench {

/// What a PostgreSQL cluster reported at one instant (boltauth_loadgen --watch-pg): the WAL insert position, the
/// cluster's WAL activity (pg_stat_wal) and its committed transactions (pg_stat_database, all databases).
///
/// `wal_lsn` is exact at the instant of the query. The pg_stat_* counters are reported by each backend when it goes
/// idle, at most once a second, so a difference of two samples counts a window shifted by up to a second (the same
/// for both ends under steady load).
struct PgSample {
  std::int64_t wal_lsn = 0;      // pg_current_wal_lsn() in bytes
  std::int64_t wal_records = 0;  // pg_stat_wal.wal_records
  std::int64_t wal_fpi = 0;      // full-page images written into the WAL
  std::int64_t wal_bytes = 0;    // pg_stat_wal.wal_bytes
  std::int64_t wal_write = 0;    // write() calls of WAL buffers to disk
  std::int64_t wal_sync = 0;     // fdatasync (or the configured wal_sync_method) calls of WAL files
  double wal_write_ms = 0;       // time in those writes (0 unless track_wal_io_timing = on)
  double wal_sync_ms = 0;        // time in those syncs (0 unless track_wal_io_timing = on)
  std::int64_t xact_commit = 0;  // sum of pg_stat_database.xact_commit (read-only autocommit statements count too)
  std::int64_t next_xid = 0;     // the next transaction id: exact, and only transactions that write take one
};

/// The later sample minus the earlier one, counter by counter.
PgSample operator-(const PgSample& later, const PgSample& earlier);

/// The statement a PgWatch runs; one row, the columns in PgSample's order.
extern const char* const kPgSampleSql;

/// Parses the text values of kPgSampleSql's row (nullptr: SQL NULL, read as 0); nullopt when a value is not a number.
std::optional<PgSample> parse_pg_sample(const char* const values[10]);

/// One connection to the cluster under test, opened at construction (a failure throws std::runtime_error).
class PgWatch {
 public:
  explicit PgWatch(const std::string& url);
  ~PgWatch();
  PgWatch(const PgWatch&) = delete;
  PgWatch& operator=(const PgWatch&) = delete;
  /// nullopt when the query failed (the message goes to stderr).
  std::optional<PgSample> sample();

 private:
  pg_conn* conn_ = nullptr;
};

}  // namespace boltauth::bench
