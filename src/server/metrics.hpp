#pragma once
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ports/store_metrics.hpp"

namespace boltauth::server {

/// Counters behind `GET /metrics` (Prometheus text exposition format 0.0.4). Every label set is fixed when the
/// object is built (routes, statuses, error codes, grant types), so recording is a hash lookup and a few relaxed
/// atomic increments: no lock and no allocation per request. Unknown paths count under route="other", statuses
/// outside the table under status="other", so a scanner cannot grow the label space.
class Metrics final : public core::ports::StoreMetrics {
 public:
  /// `routes`: every path the server answers (exact paths).
  Metrics(std::vector<std::string> routes, std::string version, std::string store_backend);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  ~Metrics() override;

  /// One answered request: `body` is scanned for an OAuth `"error":"..."` member when `status` >= 400.
  void record_request(std::string_view path, unsigned status, std::string_view body, std::size_t bytes,
                      std::int64_t micros) noexcept;
  /// A token endpoint answer 200 for `grant_type`.
  void token_issued(std::string_view grant_type) noexcept;
  /// A request failed on the store (nothing of it was kept).
  void store_error() noexcept;
  void commit_batch(std::size_t writes, std::int64_t micros, bool ok) noexcept override;
  void write_conflict() noexcept override;

  /// The exposition text; `connections`: connections open now.
  std::string render(std::size_t connections) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace boltauth::server
