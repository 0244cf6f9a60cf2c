#pragma once
#include "base/clock.hpp"
#include "core/client_registry.hpp"
#include "core/exchange.hpp"
#include "core/ports/account_store.hpp"
#include "core/token_service.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core::account {

struct AccountEndpointDeps {
  const base::Clock& clock;
  const crypto::TokenMinter& minter;
  ClientRegistry& registry;
  ports::AccountStore& accounts;
  TokenService& tokens;
};

/// `GET /v1/account` and `PATCH /v1/account/profile` (contract section 7): Bearer access tokens (RFC 6750).
class AccountEndpoint {
 public:
  explicit AccountEndpoint(AccountEndpointDeps deps) : d_(deps) {}
  Response get_account(const Request& request);
  Response patch_profile(const Request& request);

 private:
  AccountEndpointDeps d_;
};

}  // namespace boltauth::core::account
