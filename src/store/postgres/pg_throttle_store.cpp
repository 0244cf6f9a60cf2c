#include "store/postgres/pg_throttle_store.hpp"

#include <chrono>
#include <string>

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_read_ahead.hpp"

namespace boltauth::store::postgres {
namespace {

/// This thread's last find_failures that found no window (store == nullptr: none, or another call came after).
struct LastMiss {
  const PgThrottleStore* store = nullptr;
  std::string key;
  std::chrono::steady_clock::time_point at;
};
thread_local LastMiss last_miss;
constexpr auto kMissFresh = std::chrono::seconds(1);

// INSERT ... ON CONFLICT DO UPDATE either inserts or updates the row under its lock, never both and never neither,
// so no failure is lost or counted twice. In SET, `f` is the row before the update: both CASEs see the old window.
const PgStatement record_sql(
    "INSERT INTO auth_failures AS f (key, window_start, failures) VALUES ($1, $2, 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    "window_start = CASE WHEN $2 >= f.window_start + $3 OR $2 < f.window_start THEN $2 ELSE f.window_start END, "
    "failures = CASE WHEN $2 >= f.window_start + $3 OR $2 < f.window_start THEN 1 ELSE f.failures + 1 END "
    "RETURNING window_start, failures");
const PgStatement find_sql("SELECT window_start, failures FROM auth_failures WHERE key = $1");
const PgStatement clear_sql("DELETE FROM auth_failures WHERE key = $1");
const PgStatement purge_sql("DELETE FROM auth_failures WHERE window_start <= $1::bigint - $2::bigint");

}  // namespace

core::ports::FailureWindow PgThrottleStore::record_failure(std::string_view key, base::UnixSeconds now,
                                                           std::int64_t window) {
  last_miss.store = nullptr;
  return db_.run([&](PgConnection& c) {
    const PgResult r = c.run(record_sql, {key, now, window});
    return core::ports::FailureWindow{r.int64(0, 0), r.int64(0, 1)};
  });
}

std::optional<core::ports::FailureWindow> PgThrottleStore::find_failures(std::string_view key) {
  last_miss.store = nullptr;
  std::optional<core::ports::FailureWindow> found;
  if (auto ahead = PgReadAhead::take_failures(db_, key)) {
    found = *ahead;
  } else {
    found = db_.run([&](PgConnection& c) -> std::optional<core::ports::FailureWindow> {
      const PgResult r = c.run(find_sql, {key});
      if (r.rows() == 0) return std::nullopt;
      return core::ports::FailureWindow{r.int64(0, 0), r.int64(0, 1)};
    });
  }
  if (!found) {
    last_miss.store = this;
    last_miss.key.assign(key);
    last_miss.at = std::chrono::steady_clock::now();
  }
  return found;
}

void PgThrottleStore::clear_failures(std::string_view key) {
  const bool nothing_found_just_now =
      last_miss.store == this && last_miss.key == key && std::chrono::steady_clock::now() - last_miss.at < kMissFresh;
  last_miss.store = nullptr;
  if (nothing_found_just_now) return;
  db_.run([&](PgConnection& c) { c.run(clear_sql, {key}); });
}

std::int64_t PgThrottleStore::purge_failures(base::UnixSeconds now, std::int64_t window) {
  last_miss.store = nullptr;
  return db_.run([&](PgConnection& c) { return c.run(purge_sql, {now, window}).affected(); });
}

}  // namespace boltauth::store::postgres
