#pragma once
#include <functional>
#include <string_view>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/auth_throttle.hpp"
#include "core/client_registry.hpp"
#include "core/config.hpp"
#include "core/exchange.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/key_source.hpp"
#include "core/ports/read_ahead.hpp"
#include "core/rate_limiter.hpp"
#include "core/token_service.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core::token {

struct TokenEndpointDeps {
  const Config& config;
  const base::Clock& clock;
  base::Random& random;
  const crypto::TokenMinter& minter;
  ports::KeySource& keys;
  ClientRegistry& registry;
  ports::AccountStore& accounts;
  TokenService& tokens;
  /// Failed client-authentication counts shared between nodes; null: kept in this process.
  ports::ThrottleStore* throttle_store = nullptr;
  /// Reads a request's rows in one go where the store can (ports::ReadAhead); null: one at a time.
  ports::ReadAhead* read_ahead = nullptr;
  /// Receives the debug detail of each refused request (never sent to the client); may be null.
  const std::function<void(std::string_view)>* log_debug = nullptr;
};

/// What the route a token request came in on decides: the status table of its errors and, on the standard path,
/// the shape of a single id_token audience (docs/design.md "Standard relying parties").
struct TokenDialect {
  protocol::ErrorStyle error_style = protocol::ErrorStyle::bolt;
  /// True on the path discovery advertises: a single `aud` is a string, not Bolt's one-element array.
  bool standard_audience = false;
  /// True under /v3: errors are Bolt's v3 ErrorT / FieldError bodies.
  bool v3 = false;
};

/// `POST /v1/oauth/token` and `/v3/oauth/token` (contract section 3): a straight sequence of named checks,
/// each returning the first failure. Storage failures propagate as ports::StorageError to the Provider.
class TokenEndpoint {
 public:
  explicit TokenEndpoint(TokenEndpointDeps deps)
      : d_(deps),
        limiter_(deps.config.token_rate_limit_per_client),
        throttle_(deps.config.client_auth_max_failures, deps.config.client_auth_failure_window, deps.throttle_store) {}

  Response handle(const Request& request, TokenDialect dialect = {});
  /// The rows handle() will read first (client, failure count, grant), named without reading the store; none when
  /// it refuses the request before any read, or when no ReadAhead is configured.
  std::optional<ports::ReadAheadKeys> read_ahead_keys(const Request& request);
  /// Shared with introspection and revocation (one failure count per client and address).
  AuthThrottle& auth_throttle() { return throttle_; }

 private:
  TokenEndpointDeps d_;
  RateLimiter limiter_;
  AuthThrottle throttle_;
};

}  // namespace boltauth::core::token
