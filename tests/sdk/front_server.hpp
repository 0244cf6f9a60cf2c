#pragma once
// A loopback HTTP front for a TestServer: counts the token requests that pass through it and can answer some of them
// itself (fault injection) instead of forwarding. Built on the project's own HttpServer; forwards with the tests'
// independent HttpClient.
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/exchange.hpp"
#include "http/http_server.hpp"
#include "support/http_client.hpp"

namespace boltauth::sdktest {

class FrontServer {
 public:
  /// Called for each request with its 1-based index among token requests (0 for others); a response is sent as is,
  /// nullopt forwards the request to the backend.
  using Fault = std::function<std::optional<core::Response>(const core::Request&, int token_request_index)>;

  explicit FrontServer(std::uint16_t backend_port, Fault fault = {})
      : backend_port_(backend_port),
        fault_(std::move(fault)),
        server_(
            http::ServerOptions{"127.0.0.1", 0, 1, 8, {}, {}}, [this](const core::Request& r) { return handle(r); },
            [](std::string_view) {}) {
    port_ = server_.start();
  }
  ~FrontServer() { server_.stop(1); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// Token requests seen whose body contains `needle` (e.g. "grant_type=refresh_token").
  int token_requests(const std::string& needle = "") const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& body : token_bodies_) n += body.find(needle) != std::string::npos;
    return n;
  }

  static core::Response json_response(int status, std::string body,
                                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    core::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }

 private:
  core::Response handle(const core::Request& request) {
    int index = 0;
    if (request.path.find("/oauth/token") != std::string::npos) {
      std::lock_guard lock(mutex_);
      token_bodies_.push_back(request.body);
      index = static_cast<int>(token_bodies_.size());
    }
    if (fault_) {
      if (auto answer = fault_(request, index)) return *answer;
    }
    testing::Headers headers;
    for (const auto& [k, v] : request.headers) {
      if (k != "host" && k != "content-length" && k != "connection") headers.emplace_back(k, v);
    }
    testing::HttpClient client(backend_port_);
    const std::string target = request.query.empty() ? request.path : request.path + "?" + request.query;
    const testing::HttpResponse back = client.request(request.method, target, headers, request.body);
    core::Response out;
    out.status = back.status;
    out.body = back.body;
    for (const auto& [k, v] : back.headers) {
      if (k == "content-type") {
        out.content_type = v;
      } else if (k != "content-length" && k != "connection" && k != "transfer-encoding" && k != "date" &&
                 k != "x-content-type-options") {
        out.headers.emplace_back(k, v);
      }
    }
    return out;
  }

  std::uint16_t backend_port_;
  std::uint16_t port_ = 0;
  Fault fault_;
  mutable std::mutex mutex_;
  std::vector<std::string> token_bodies_;
  http::HttpServer server_;
};

}  // namespace boltauth::sdktest
