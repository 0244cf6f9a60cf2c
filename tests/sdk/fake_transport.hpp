#pragma once
// A scripted Transport for unit tests: answers from a queue (or a function) and records every request.
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "boltauth/http.hpp"

namespace boltauth::sdktest {

inline TransportResult respond(int status, std::string body, std::string content_type = "application/json",
                               HttpHeaders extra = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.emplace_back("content-type", std::move(content_type));
  r.headers.insert(r.headers.end(), extra.begin(), extra.end());
  return TransportResult{std::move(r), {}, true};
}

inline TransportResult connection_error(bool sent) { return TransportResult{std::nullopt, "connection failed", sent}; }

class FakeTransport final : public Transport {
 public:
  /// Answers from `script` in order; when it runs dry, from `fallback` (throws when unset).
  std::deque<TransportResult> script;
  std::function<TransportResult(const HttpRequest&)> fallback;

  TransportResult send(const HttpRequest& request) override {
    std::function<TransportResult(const HttpRequest&)> f;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      if (!script.empty()) {
        TransportResult r = std::move(script.front());
        script.pop_front();
        return r;
      }
      f = fallback;
    }
    if (!f) throw std::logic_error("FakeTransport: unexpected request to " + request.url);
    return f(request);
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
};

inline std::string header_of(const HttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

}  // namespace boltauth::sdktest
