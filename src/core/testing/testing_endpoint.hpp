#pragma once
#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/client_registry.hpp"
#include "core/config.hpp"
#include "core/exchange.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/address_store.hpp"
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
  ports::AccountStore& accounts;
  ports::AddressStore& addresses;
  TokenService& tokens;
};

/// Sandbox mode only: `POST /v1/testing/shopper/create` (contract section 8), and v3's `POST /v3/testing/accounts`
/// and `GET /v3/testing/accounts/phones`. The merchant is named by its API key (`X-API-Key`).
class TestingEndpoint {
 public:
  explicit TestingEndpoint(TestingEndpointDeps deps) : d_(deps) {}
  Response create_shopper(const Request& request);
  Response create_account_v3(const Request& request);
  Response phone_v3(const Request& request);

 private:
  struct Shopper;
  struct Created;
  /// The merchant `request` names by its API key (and, when sent, its publishable key), or nothing.
  std::optional<model::Client> merchant(const Request& request);
  Created create(const model::Client& client, const Shopper& shopper);
  std::string unused_phone();

  TestingEndpointDeps d_;
};

/// "2026-11-27T08:00:00Z" for a Unix time (UTC, proleptic Gregorian). Pure: no clock or locale.
std::string format_rfc3339(base::UnixSeconds t);

}  // namespace boltauth::core::testing
