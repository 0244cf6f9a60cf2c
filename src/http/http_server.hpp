#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/exchange.hpp"
#include "core/ports/commit_gate.hpp"
#include "core/ports/read_ahead.hpp"

namespace boltauth::http {

/// Explicit limits: every one of them is a way a client could otherwise hold the server (checklist A6, A7).
struct ServerLimits {
  std::size_t body_limit = 64 * 1024;    // larger bodies: 413
  std::size_t header_limit = 16 * 1024;  // larger header blocks: 431
  int request_timeout_seconds = 10;      // the whole request (headers and body) must arrive within it
  int idle_timeout_seconds = 30;         // keep-alive connections idle longer are closed
  std::size_t max_connections = 10000;   // beyond it, new connections are closed at once
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port
  int io_threads = 0;         // 0: one per core
  int worker_threads = 0;     // requests placed on the worker pool (they may wait on a commit) run here; 0: 16
  ServerLimits limits;
  /// CIDRs of the proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (TrustedProxies); from any other
  /// peer those headers are dropped. Invalid entries make the constructor throw std::invalid_argument.
  std::vector<std::string> trusted_proxies;
};

using Handler = std::function<core::Response(const core::Request&)>;
using Logger = std::function<void(std::string_view)>;

/// Where a request runs (issue 6). `inline_read`: on its connection's I/O thread, for handlers that do not
/// write (they may read the store). `inline_deferred`: on the I/O thread too, with the store's writes deferred
/// (CommitGate): the answer leaves once they are durable, and no thread waits meanwhile. `worker`: on the
/// worker pool, for handlers whose writes must be durable before they go on (or that are not known to be
/// cheap).
enum class Placement { inline_read, inline_deferred, worker };

/// One answered request, as the observer sees it (metrics, access log). The views are valid during the call only.
struct Exchange {
  std::string_view method;  // empty when the request line could not be read
  std::string_view path;    // without the query
  unsigned status = 0;
  std::string_view body;  // the answer's body (error answers carry their error code in it)
  std::size_t body_bytes = 0;
  std::int64_t micros = 0;            // from the end of the request header to the answer being handed to the socket
  std::string_view request_id;        // the X-Request-Id echoed in the answer
  std::string_view remote_address;    // the client's, through the trusted proxies
  std::string_view client_id;         // Pipeline::client_of's answer; empty when unknown
  std::string_view location;          // the answer's Location header, if any
  std::string_view www_authenticate;  // the answer's WWW-Authenticate header, if any
};

struct Pipeline {
  std::function<Placement(const core::Request&)> place;  // empty: everything on the worker pool
  core::ports::CommitGate* gate = nullptr;               // required for inline_deferred
  /// The answer sent instead when a deferred request's commit failed (nothing of it was kept).
  std::function<core::Response(const core::Request&)> commit_failed;
  /// Called on the connection's I/O thread for every answer, refusals of malformed requests included. Must be
  /// cheap and must not throw (it runs on the hot path).
  std::function<void(const Exchange&)> observe;
  /// The client a request names, for Exchange::client_id (never a secret). Called on the I/O thread; empty: none.
  std::function<std::string(const core::Request&)> client_of;
  /// Optional, for requests that run on the I/O thread: starts the store's first read of `request` without waiting
  /// (core::ports::ReadAhead::prefetch_async on `loop`, the thread's) and returns true; `resume` then runs on this
  /// thread once the rows are in, and runs the request. False: nothing started, the request runs at once.
  std::function<bool(const core::Request&, core::ports::EventLoop& loop, std::function<void()> resume)> prepare;
};

/// Every request gets an id: the client's `X-Request-Id` when it is acceptable (acceptable_request_id), else a new
/// one. The handler sees it as the request's only `x-request-id` header, and every answer carries it back.
///
/// HTTP/1.1 with keep-alive on Boost.Beast. Beast and Asio stay behind this header (compile once, architecture.md).
/// One io_context per I/O thread: a connection lives on one thread for its whole life, so its handlers need no
/// strand and no lock; the acceptor deals connections round-robin.
class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler, Logger log, Pipeline pipeline = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and listens without serving yet (so the caller can learn the port first). Returns the bound port.
  std::uint16_t listen();
  /// listen() if not done, then starts the threads. Returns the bound port. Throws std::runtime_error on failure.
  std::uint16_t start();
  /// Stops accepting, lets in-flight requests finish (up to `drain_seconds`), then stops. Idempotent.
  void stop(int drain_seconds = 10);
  /// Blocks until SIGTERM or SIGINT arrives (or stop() is called), calls `on_stopping` (if any), then stop()s.
  void run_until_signal(const std::function<void()>& on_stopping = {});
  /// Connections open now.
  std::size_t active_connections() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace boltauth::http
