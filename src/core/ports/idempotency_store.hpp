#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"

namespace boltauth::core::ports {

/// The first answer to a request that carried an `Idempotency-Key`, kept so that a retry with the same key and
/// body gets it again and writes nothing. Keys are scoped per client (`client_id`). Every method may throw
/// StorageError.
class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  struct Record {
    std::string request_hash;  // hex SHA-256 of what the request asked (method, path, body)
    bool completed = false;    // false: claimed, the first request has not finished (or died before it did)
    int status = 0;            // with completed: the first answer
    std::string body;
    base::UnixSeconds created_at = 0;
  };

  virtual std::optional<Record> find(std::string_view client_id, std::string_view key) = 0;
  /// Inserts a claimed (not completed) record; false (nothing written) when the client already has that key.
  virtual bool claim(std::string_view client_id, std::string_view key, std::string_view request_hash,
                     base::UnixSeconds now) = 0;
  /// Stores the answer of a claimed key.
  virtual void complete(std::string_view client_id, std::string_view key, int status, std::string_view body) = 0;
  /// Deletes a claimed, not completed, record (the first request failed without writing anything).
  virtual void release(std::string_view client_id, std::string_view key) = 0;
};

}  // namespace boltauth::core::ports
