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
};

}  // namespace boltauth::core::ports
