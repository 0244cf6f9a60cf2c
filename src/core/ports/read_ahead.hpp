#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace boltauth::core::ports {

/// The rows a token, introspection or revocation request is about to read, named before it reads any of them.
struct ReadAheadKeys {
  std::string client_id;                 // ClientStore::find
  std::string throttle_key;              // ThrottleStore::find_failures; empty: not consulted
  std::optional<std::int64_t> grant_id;  // GrantStore::find_grant / find_grant_for_token, and AccountStore::find of
  std::uint64_t jti = 0;                 // the grant's sub; `jti` for the deny-list state
  bool client_grant = false;             // GrantStore::client_grant of client_id (client_credentials)

  bool operator==(const ReadAheadKeys&) const = default;
};

/// The calling thread's event loop (the HTTP layer's I/O thread), for a store that waits for its server's answer
/// without blocking the thread. Every callback runs on the loop's thread, from the loop (never from the call that
/// armed it).
class EventLoop {
 public:
  virtual ~EventLoop() = default;
  /// Calls `ready` once `fd` is readable (`write`: writable), with false when the wait failed or was cancelled.
  /// One wait per descriptor and direction at a time.
  virtual void await(int fd, bool write, std::function<void(bool ok)> ready) = 0;
  /// Cancels the waits on `fd` and stops watching it, before its owner closes it (the descriptor stays open).
  virtual void forget(int fd) noexcept = 0;
  /// Runs `fn` on the loop's thread, later.
  virtual void post(std::function<void()> fn) = 0;
  /// Runs `fn` on the loop's thread once `delay` passed (not at all when the loop ends first).
  virtual void after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};

/// Lets an adapter whose every read is a network round trip (PostgreSQL) fetch the rows of ReadAheadKeys in one
/// statement instead of three or four. After prefetch(keys), the next read of this thread of exactly one of those
/// keys answers from what prefetch read, once; any other read goes to the store as usual. forget() drops whatever
/// was not used (the end of the request), so nothing read ahead outlives the request that asked for it.
///
/// Reads answered this way see the store as it was at prefetch, a few microseconds of CPU earlier than they would
/// have: as with any read, nothing that must be race-free rests on them (consuming writes are conditional UPDATEs,
/// architecture.md). An adapter without round trips to save (SQLite) implements neither: the port is optional.
/// prefetch may throw StorageError.
class ReadAhead {
 public:
  virtual ~ReadAhead() = default;
  virtual void prefetch(const ReadAheadKeys& keys) = 0;
  virtual void forget() noexcept = 0;

  /// prefetch() without waiting: sends the read and returns; once the rows are in, `done` runs on `loop`'s thread
  /// with them held as a prefetch(keys) of that thread would hold them, for the duration of the call, so the
  /// request's own prefetch(keys) in `done` costs nothing. `done` must run the request at once. When the read
  /// failed, `done` still runs, with nothing held (the request's own prefetch reads, and fails as it would have).
  /// False: not started (no such path, or no connection now): the caller runs the request as usual.
  virtual bool prefetch_async(const ReadAheadKeys& /*keys*/, EventLoop& /*loop*/, std::function<void()> /*done*/) {
    return false;
  }
};

/// One request's use of a ReadAhead (may be null): prefetch when the keys are known, forget when the scope ends.
class ReadAheadScope {
 public:
  explicit ReadAheadScope(ReadAhead* port) noexcept : port_(port) {}
  ~ReadAheadScope() {
    if (port_ && used_) port_->forget();
  }
  ReadAheadScope(const ReadAheadScope&) = delete;
  ReadAheadScope& operator=(const ReadAheadScope&) = delete;

  void prefetch(const ReadAheadKeys& keys) {
    if (!port_) return;
    used_ = true;
    port_->prefetch(keys);
  }

 private:
  ReadAhead* port_;
  bool used_ = false;
};

}  // namespace boltauth::core::ports
