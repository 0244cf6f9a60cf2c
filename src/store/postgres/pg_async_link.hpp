#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/ports/read_ahead.hpp"

namespace boltauth::store::postgres {

class PgConnection;

/// The connection of one event loop's thread for work it must not wait for (PgReadAhead's reads, PgDatabase's
/// batches of that thread), in async mode. The first connection is opened at once, on the calling thread (the
/// server is up when the first request comes); after a failure, no sooner than a second later and on a thread of
/// its own, so that the loop's thread never waits for a server that may not answer (a connection attempt to a
/// stalled server takes its whole connect timeout). Used by the loop's thread only.
class PgAsyncLink {
 public:
  /// `open` makes a connection ready for use (async mode) or throws.
  explicit PgAsyncLink(std::function<std::unique_ptr<PgConnection>()> open);
  ~PgAsyncLink();
  PgAsyncLink(const PgAsyncLink&) = delete;
  PgAsyncLink& operator=(const PgAsyncLink&) = delete;

  /// True once a connection is ready, opening one (or collecting the one a thread opened) when there is none.
  bool connect();
  PgConnection* connection() const noexcept { return connection_.get(); }
  /// The connection's descriptor as the loop knows it (libpq forgets it once the connection broke, and the loop
  /// must still be told to stop watching it before a new connection reuses the number); -1 without one.
  int fd() const noexcept { return fd_; }
  /// Closes the connection (its owner told the loop to forget fd() first); the next attempt waits a second.
  void close() noexcept;
  /// Sends what the connection has queued; what does not go out at once goes once the socket is writable, on `loop`,
  /// and `failed` runs there if that fails (not after close()). Throws PgError when the first attempt fails.
  void send_queued(core::ports::EventLoop& loop, const std::function<void()>& failed);

 private:
  std::function<std::unique_ptr<PgConnection>()> open_;
  std::unique_ptr<PgConnection> connection_;
  int fd_ = -1;
  std::chrono::steady_clock::time_point retry_at_{};  // no new connection before then, after a failure
  bool connected_once_ = false;
  // A reconnection in progress on `opener_`: it fills `result` (a connection, or none after a failure) and sets
  // `done`; only the owner's thread joins it.
  struct Opening {
    std::mutex mutex;
    bool done = false;
    std::unique_ptr<PgConnection> result;
  };
  std::shared_ptr<Opening> opening_;
  std::thread opener_;
  bool writing_ = false;          // a writable wait is armed (queued output did not go out whole)
  std::uint64_t generation_ = 0;  // bumped by close(): a wait armed for an older connection does nothing
  void on_writable(core::ports::EventLoop& loop, std::uint64_t of_generation, bool ok,
                   const std::function<void()>& failed);
};

}  // namespace boltauth::store::postgres
