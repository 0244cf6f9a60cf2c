#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "core/model/account.hpp"
#include "core/model/client.hpp"
#include "core/model/grant.hpp"
#include "core/ports/grant_store.hpp"
#include "core/ports/read_ahead.hpp"
#include "core/ports/throttle_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// ReadAhead on PgDatabase: the client, its failure window, the grant with its deny-list state and its account,
/// read by one statement (one round trip) instead of one each. What it read waits in this thread's slot for the
/// stores' next find of the same key (the take_* functions below, each answering once) until forget().
///
/// A slot belongs to one database (several may share a process in tests), answers only the thread that filled it,
/// and is ignored once it is older than a second, so a caller that never calls forget() still never reads stale rows
/// beyond that (core::ports::ReadAheadScope always calls it).
///
/// prefetch_async sends the same statement on a connection of the calling thread's own (one per I/O thread, in
/// pipeline mode: the reads of many requests in flight at once, answered in order) and hands each answer to its
/// request through the same slot, for the duration of its `done`. The thread never waits for the server.
/// Destroy it after the event loops it was given (their waits call into it).
class PgReadAhead final : public core::ports::ReadAhead {
 public:
  explicit PgReadAhead(PgDatabase& db);
  ~PgReadAhead() override;
  PgReadAhead(const PgReadAhead&) = delete;
  PgReadAhead& operator=(const PgReadAhead&) = delete;
  void prefetch(const core::ports::ReadAheadKeys& keys) override;
  void forget() noexcept override;
  bool prefetch_async(const core::ports::ReadAheadKeys& keys, core::ports::EventLoop& loop,
                      std::function<void()> done) override;

  // For the stores of `db`: what the last prefetch of this thread read for exactly this key (itself optional: the
  // row may not exist), once; nullopt when it read nothing for this key (then the store reads as usual).
  static std::optional<std::optional<core::model::Client>> take_client(const PgDatabase& db, std::string_view id);
  static std::optional<std::optional<core::ports::FailureWindow>> take_failures(const PgDatabase& db,
                                                                                std::string_view key);
  static std::optional<std::optional<core::ports::GrantView>> take_grant_view(const PgDatabase& db, std::int64_t id,
                                                                              std::uint64_t jti);
  static std::optional<std::optional<core::model::Grant>> take_grant(const PgDatabase& db, std::int64_t id);
  static std::optional<std::optional<core::model::Grant>> take_client_grant(const PgDatabase& db,
                                                                            std::string_view client_id);
  static std::optional<std::optional<core::model::Account>> take_account(const PgDatabase& db, std::string_view sub);

  struct Reader;  // one thread's connection and the requests waiting on it

 private:
  Reader& reader_of_this_thread();

  PgDatabase& db_;
  const std::uint64_t serial_;  // tells this instance from a later one at the same address (thread caches)
  std::mutex mutex_;
  std::vector<std::unique_ptr<Reader>> readers_;
};

}  // namespace boltauth::store::postgres
