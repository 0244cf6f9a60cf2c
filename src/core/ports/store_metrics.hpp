#pragma once
#include <cstddef>
#include <cstdint>

namespace boltauth::core::ports {

/// Where a store adapter reports its group commits (the `/metrics` endpoint counts them). Called on the
/// adapter's commit path, so implementations must be cheap and must not throw or block (atomics only).
class StoreMetrics {
 public:
  virtual ~StoreMetrics() = default;
  /// One batch of `writes` writes committed together (`ok`) or failed together; `micros` from the start of the
  /// commit until it was durable (SQLite: COMMIT plus the WAL's fdatasync; PostgreSQL: the batch's round trip).
  virtual void commit_batch(std::size_t writes, std::int64_t micros, bool ok) noexcept = 0;
  /// A deferred request whose predicted consuming write changed nothing when its batch ran (another request
  /// consumed the row first): the transport runs it again (CommitGate::Settled::conflict).
  virtual void write_conflict() noexcept {}
};

}  // namespace boltauth::core::ports
