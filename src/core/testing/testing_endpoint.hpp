#pragma once
#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/client_registry.hpp"
#include "core/config.hpp"
#include "core/exchange.hpp"
#include "core/ports/client_store.hpp"
#include "core/token_service.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core::testing {

struct TestingEndpointDeps {
  const Config& config;
  const base::Clock& clock;
  base::Random& random;
  const crypto::TokenMinter& minter;
  ClientRegistry& registry;
  ports::ClientStore& clients;
  TokenService& tokens;
};

/// `POST /v1/testing/shopper/create` (contract section 8), sandbox mode only.
class TestingEndpoint {
 public:
  explicit TestingEndpoint(TestingEndpointDeps deps) : d_(deps) {}
  Response create_shopper(const Request& request);

 private:
  TestingEndpointDeps d_;
};

/// "2026-11-27T08:00:00Z" for a Unix time (UTC, proleptic Gregorian). Pure: no clock or locale.
std::string format_rfc3339(base::UnixSeconds t);

}  // namespace boltauth::core::testing
