#pragma once
#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/account/idempotency.hpp"
#include "core/authorize/throttle.hpp"
#include "core/client_registry.hpp"
#include "core/config.hpp"
#include "core/dialect.hpp"
#include "core/exchange.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/address_store.hpp"
#include "core/ports/idempotency_store.hpp"
#include "core/token_service.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core::account {

struct AccountEndpointDeps {
  const Config& config;
  const base::Clock& clock;
  base::Random& random;
  const crypto::TokenMinter& minter;
  ClientRegistry& registry;
  ports::AccountStore& accounts;
  ports::AddressStore& addresses;
  ports::IdempotencyStore& idempotency;
  TokenService& tokens;
};

/// Most addresses one account keeps.
inline constexpr std::size_t kMaxAddressesPerAccount = 50;

/// Bolt's account API on both versions (contract section 7 and the v3 contract): Bearer access tokens (RFC 6750)
/// naming a shopper; reads need bolt.account.view or bolt.account.manage, writes bolt.account.manage. `dialect`
/// is the route's: v1 shapes and errors, or v3's.
class AccountEndpoint {
 public:
  explicit AccountEndpoint(AccountEndpointDeps deps)
      : d_(deps),
        idempotency_(deps.idempotency, deps.clock),
        detect_per_key_(deps.config.account_exists_per_key_per_minute, 60),
        detect_per_address_(deps.config.account_exists_per_address_per_minute, 60) {}

  Response get_account(const Request& request, Dialect dialect);
  Response patch_profile(const Request& request);
  Response add_address(const Request& request, Dialect dialect);
  /// PUT: the same id, new fields.
  Response edit_address(const Request& request, Dialect dialect);
  /// v1 POST on an address: deleted and added again under a new id.
  Response replace_address(const Request& request);
  Response delete_address(const Request& request, Dialect dialect);
  /// `GET /v1/account/exists` (detectAccount).
  Response detect_account(const Request& request);

 private:
  AccountEndpointDeps d_;
  Idempotency idempotency_;
  authorize::WindowThrottle detect_per_key_;
  authorize::WindowThrottle detect_per_address_;
};

}  // namespace boltauth::core::account
