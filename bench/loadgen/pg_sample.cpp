// The libpq-free half of --watch-pg (unit-tested): the sampling statement, parsing its row, differences.
#include <charconv>
#include <cstdlib>

#include "pg_watch.hpp"

namespace boltauth::bench {

const char* const kPgSampleSql =
    "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint, w.wal_records, w.wal_fpi, w.wal_bytes::bigint, "
    "w.wal_write, w.wal_sync, w.wal_write_time, w.wal_sync_time, "
    "(SELECT sum(xact_commit)::bigint FROM pg_stat_database), "
    "pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM pg_stat_wal w";

PgSample operator-(const PgSample& a, const PgSample& b) {
  return PgSample{a.wal_lsn - b.wal_lsn,           a.wal_records - b.wal_records, a.wal_fpi - b.wal_fpi,
                  a.wal_bytes - b.wal_bytes,       a.wal_write - b.wal_write,     a.wal_sync - b.wal_sync,
                  a.wal_write_ms - b.wal_write_ms, a.wal_sync_ms - b.wal_sync_ms, a.xact_commit - b.xact_commit,
                  a.next_xid - b.next_xid};
}

namespace {

bool integer(const char* text, std::int64_t& out) {
  if (text == nullptr) {
    out = 0;
    return true;
  }
  const std::string_view v(text);
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && end == v.data() + v.size();
}

bool real(const char* text, double& out) {
  if (text == nullptr) {
    out = 0;
    return true;
  }
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end != text && *end == '\0';
}

}  // namespace

std::optional<PgSample> parse_pg_sample(const char* const v[10]) {
  PgSample s;
  if (!integer(v[0], s.wal_lsn) || !integer(v[1], s.wal_records) || !integer(v[2], s.wal_fpi) ||
      !integer(v[3], s.wal_bytes) || !integer(v[4], s.wal_write) || !integer(v[5], s.wal_sync) ||
      !real(v[6], s.wal_write_ms) || !real(v[7], s.wal_sync_ms) || !integer(v[8], s.xact_commit) ||
      !integer(v[9], s.next_xid))
    return std::nullopt;
  return s;
}

}  // namespace boltauth::bench
