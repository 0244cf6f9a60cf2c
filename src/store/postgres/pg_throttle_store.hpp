#pragma once
#include "core/ports/throttle_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// ThrottleStore on PgDatabase: table `auth_failures`, UNLOGGED (no WAL on the failure path; a crash empties it,
/// which only resets throttling). record_failure is one upsert, so concurrent failures of one key on any number of
/// nodes are each counted exactly once.
///
/// Every successful client authentication asks find_failures(key) and then clear_failures(key), almost always for
/// a key without a window: clear_failures skips its DELETE (a round trip) when the last call of this thread on this
/// store was a find_failures of the same key, less than a second ago, that found no window. Nothing was there to
/// clear then; the only rows the DELETE could remove are failures that concurrent requests counted since, and
/// those stay counted (a later success, whose find sees them, clears them).
class PgThrottleStore final : public core::ports::ThrottleStore {
 public:
  explicit PgThrottleStore(PgDatabase& db) : db_(db) {}
  core::ports::FailureWindow record_failure(std::string_view key, base::UnixSeconds now, std::int64_t window) override;
  /// The stored window as it is, ended or not (the caller judges it against its clock).
  std::optional<core::ports::FailureWindow> find_failures(std::string_view key) override;
  void clear_failures(std::string_view key) override;
  /// Drops windows with `window_start + window <= now` (those record_failure would restart).
  std::int64_t purge_failures(base::UnixSeconds now, std::int64_t window) override;

 private:
  PgDatabase& db_;
};

}  // namespace boltauth::store::postgres
