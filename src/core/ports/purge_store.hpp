#pragma once
#include <cstdint>

#include "base/clock.hpp"

namespace boltauth::core::ports {

/// Rows one purge removed, by kind.
struct PurgeCounts {
  std::int64_t codes = 0;
  std::int64_t access_tokens = 0;
  std::int64_t refresh_tokens = 0;
  std::int64_t grants = 0;
  std::int64_t logins = 0;  // expired login requests (pending OTPs) and login sessions
  std::int64_t total() const { return codes + access_tokens + refresh_tokens + grants + logins; }
  PurgeCounts& operator+=(const PurgeCounts& o) {
    codes += o.codes;
    access_tokens += o.access_tokens;
    refresh_tokens += o.refresh_tokens;
    grants += o.grants;
    logins += o.logins;
    return *this;
  }
};

/// Deletion of rows nothing can use any more (the janitor; retention rules in docs/design.md). Every delete
/// is conditional on the row's own state at `now`, so several processes may purge the same store at once and
/// a purge never removes anything a concurrent request could still use. May throw StorageError.
class PurgeStore {
 public:
  virtual ~PurgeStore() = default;
  /// One short transaction deleting at most `limit` rows of each kind:
  /// - codes with `expires_at <= now` (used or not: a used code stays for reuse detection until it expired);
  /// - access tokens with `expires_at <= now`;
  /// - refresh tokens with `expires_at <= now`, rotated or not (a rotated token stays for its own lifetime, so
  ///   its replay within that lifetime still revokes the family; keeping it longer would grow live chains forever);
  /// - revoked grants (with their tokens: every one of them is dead), and grants left without tokens;
  /// - login requests and login sessions with `expires_at <= now` (nothing accepts them after that).
  virtual PurgeCounts purge_batch(base::UnixSeconds now, int limit) = 0;
};

}  // namespace boltauth::core::ports
