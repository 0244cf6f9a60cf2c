#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"

namespace boltauth::core::ports {

/// One server secret as a shared store keeps it: encrypted under a master key that is never stored there
/// (docs/deployment.md "The master key"). The store sees only the sealed bytes; what they mean is the server's.
struct SecretRecord {
  std::string kind;         // "check" (proves the master key), "hash" (keyed-hash key), "signing", "sealing"
  std::int64_t number = 0;  // order within its kind, from 1; never reused
  std::string alg;          // signing keys: "RS256" / "ES256"; empty otherwise
  base::UnixSeconds created_at = 0;
  base::UnixSeconds activates_at = 0;  // signing keys: when it starts signing; otherwise created_at
  std::string sealed;                  // the secret, encrypted and authenticated under the master key (binary)
  bool operator==(const SecretRecord&) const = default;
};

/// Server secrets shared by every node of one database (signing keys, token sealing keys, the keyed-hash key).
/// Records are immutable once written, so a reader never sees half a rotation. May throw StorageError.
class SecretStore {
 public:
  virtual ~SecretStore() = default;
  /// Inserts `record` iff no record of its kind has its number; durable when it returns. False when the
  /// number is taken (another process got there first: read again and use what it wrote).
  virtual bool insert_secret(const SecretRecord& record) = 0;
  /// Every record of `kind`, by number.
  virtual std::vector<SecretRecord> secrets(std::string_view kind) = 0;
  /// A value that changes whenever a record of any kind is added: cheap, so a node can poll it to notice a
  /// rotation made elsewhere.
  virtual std::int64_t secrets_version() = 0;
};

}  // namespace boltauth::core::ports
