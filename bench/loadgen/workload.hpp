#pragma once
#include <atomic>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boltauth::bench {

enum class WorkloadKind { refresh, code_exchange_openid, introspect, client_credentials, floor };

std::optional<WorkloadKind> parse_workload(std::string_view name);
std::string_view workload_name(WorkloadKind kind);

/// What a seeding tool printed (bench/boltauth-seed, bench/peer/seed.mjs): `key value` lines.
struct Seed {
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> refresh_tokens;
  std::vector<std::string> codes;
  std::vector<std::string> access_tokens;
};
/// Unknown keys and blank lines are ignored; throws std::runtime_error on a line without a value.
Seed parse_seed(std::string_view text);

/// Paths and fixed parameters of the server under test.
struct Target {
  std::string token_path = "/v1/oauth/token";
  std::string introspect_path = "/v1/oauth/introspect";
  std::string floor_path = "/health";
  std::string code_scope = "openid bolt.account.view";  // scope sent with a code exchange; empty: none
  std::string refresh_scope = "bolt.account.view";      // scope sent with a refresh (Bolt requires it); empty: none
  std::string redirect_uri;                             // sent with a code exchange when not empty
};

/// application/x-www-form-urlencoded value (RFC 6749 appendix B).
std::string form_encode(std::string_view value);
/// The string value of a top-level `"name":"..."` member of a JSON object; no unescaping (tokens need none).
std::optional<std::string> json_string_field(std::string_view json, std::string_view name);

/// Values handed out once each across connections (codes), or round-robin (access tokens).
class TokenPool {
 public:
  explicit TokenPool(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}
  /// Next unused value; nullopt when exhausted.
  std::optional<std::string> take();
  /// Round-robin: never exhausted unless empty.
  const std::string* cycle();
  std::size_t size() const noexcept { return tokens_.size(); }

 private:
  std::vector<std::string> tokens_;
  std::atomic<std::size_t> next_{0};
};

struct HttpCall {
  std::string method;
  std::string path;
  std::string body;  // form-encoded; empty for GET
};

/// One connection's workload state: builds each request and learns from each answer. A refresh chain uses
/// the refresh token its previous answer returned; when a chain breaks (an error), it restarts from an
/// unused seeded token.
class ConnectionState {
 public:
  ConnectionState(WorkloadKind kind, const Target& target, const Seed& seed, TokenPool& spare, TokenPool& codes,
                  TokenPool& access)
      : kind_(kind), target_(target), seed_(seed), spare_(spare), codes_(codes), access_(access) {}

  /// The next request, or nullopt when the workload has nothing left to send (codes or tokens exhausted).
  std::optional<HttpCall> next();
  /// Feeds the answer to the last request.
  void on_response(int status, std::string_view body);

  const std::string& current_refresh_token() const noexcept { return refresh_; }
  std::size_t chain_length() const noexcept { return chain_; }
  std::size_t chain_restarts() const noexcept { return restarts_; }

 private:
  std::string client_auth() const;

  WorkloadKind kind_;
  const Target& target_;
  const Seed& seed_;
  TokenPool& spare_;
  TokenPool& codes_;
  TokenPool& access_;
  std::string refresh_;
  std::size_t chain_ = 0;
  std::size_t restarts_ = 0;
};

}  // namespace boltauth::bench
