#pragma once
/// @file
/// The SDK's HTTP seam: plain request/response structs, the Transport interface, and the libcurl transport.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boltauth {

/// Header name/value pairs. Response header names are lower case.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  /// Whole-request timeout; zero means the transport's default.
  std::chrono::milliseconds timeout{0};
};

/// One HTTP response.
struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  ///< names lower case
  std::string body;

  /// The first header named `lower_name`, if any.
  std::optional<std::string> header(std::string_view lower_name) const;
};

/// What a transport returns: a response, or a failure with whether the request may have reached the server.
struct TransportResult {
  std::optional<HttpResponse> response;
  std::string error;  ///< non-empty iff `response` is empty
  /// False only when the transport knows that no byte of the request left this process (DNS failure,
  /// connection refused, TLS handshake failure). Non-idempotent requests are retried only then.
  bool request_sent = true;
};

/// Sends HTTP requests. Implementations must be safe to call from several threads at once.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual TransportResult send(const HttpRequest& request) = 0;
};

/// Options of the libcurl transport.
struct CurlTransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  /// Default whole-request timeout (HttpRequest::timeout overrides it).
  std::chrono::milliseconds timeout{30'000};
  /// Larger response bodies fail the request (a hostile or broken server cannot exhaust memory).
  std::size_t max_response_bytes = 1024 * 1024;
  /// Idle easy handles kept (each keeps its own connection cache, so connections are reused).
  std::size_t max_idle_handles = 16;
  /// CA bundle path; empty = libcurl's default, the system trust store on Debian.
  std::string ca_file;
};

/// libcurl over a pool of easy handles: TLS verification on (peer and host), proxies from the
/// environment (`https_proxy`, `http_proxy`, `no_proxy`, as libcurl reads them), keep-alive connection
/// reuse through the pooled handles, no redirects followed, http and https only. Thread-safe.
class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  TransportResult send(const HttpRequest& request) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace boltauth
