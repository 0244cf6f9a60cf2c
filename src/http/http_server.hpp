#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/exchange.hpp"

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
  int worker_threads = 0;     // blocking storage work runs here, never on an I/O thread; 0: 64
  ServerLimits limits;
};

using Handler = std::function<core::Response(const core::Request&)>;
using Logger = std::function<void(std::string_view)>;

/// HTTP/1.1 with keep-alive on Boost.Beast. Beast and Asio stay behind this header (compile once, architecture.md).
class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler, Logger log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and listens without serving yet (so the caller can learn the port first). Returns the bound port.
  std::uint16_t listen();
  /// listen() if not done, then starts the threads. Returns the bound port. Throws std::runtime_error on failure.
  std::uint16_t start();
  /// Stops accepting, lets in-flight requests finish (up to `drain_seconds`), then stops. Idempotent.
  void stop(int drain_seconds = 10);
  /// Blocks until SIGTERM or SIGINT arrives, then stop()s.
  void run_until_signal();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace boltauth::http
