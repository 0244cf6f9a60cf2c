#pragma once
#include "core/ports/throttle_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// ThrottleStore on PgDatabase: table `auth_failures`, UNLOGGED (no WAL on the failure path; a crash empties it,
/// which only resets throttling). record_failure is one upsert, so concurrent failures of one key on any number of
/// nodes are each counted exactly once.
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
