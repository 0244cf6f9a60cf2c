#pragma once
#include <functional>
#include <string_view>

#include "base/clock.hpp"
#include "core/auth_throttle.hpp"
#include "core/client_registry.hpp"
#include "core/config.hpp"
#include "core/exchange.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/read_ahead.hpp"
#include "core/token_service.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core::lifecycle {

struct LifecycleEndpointDeps {
  const Config& config;
  const base::Clock& clock;
  const crypto::TokenMinter& minter;
  ClientRegistry& registry;
  ports::AccountStore& accounts;
  TokenService& tokens;
  AuthThrottle& throttle;  // the token endpoint's (checklist B5)
  /// Reads a request's rows in one go where the store can (ports::ReadAhead); null: one at a time.
  ports::ReadAhead* read_ahead = nullptr;
  /// Receives the debug detail of each refused request (never sent to the client); may be null.
  const std::function<void(std::string_view)>* log_debug = nullptr;
};

/// `POST /v1/oauth/introspect` (RFC 7662) and `POST /v1/oauth/revoke` (RFC 7009), both client-authenticated
/// exactly like the token endpoint (checklist section I). A client sees and touches only its own tokens.
class LifecycleEndpoint {
 public:
  explicit LifecycleEndpoint(LifecycleEndpointDeps deps) : d_(deps) {}
  Response introspect(const Request& request);
  Response revoke(const Request& request);
  /// The rows either reads first (client, failure count, the token's grant), named without reading the store;
  /// none when it refuses the request before any read, or when no ReadAhead is configured.
  std::optional<ports::ReadAheadKeys> read_ahead_keys(const Request& request);

 private:
  LifecycleEndpointDeps d_;
};

}  // namespace boltauth::core::lifecycle
