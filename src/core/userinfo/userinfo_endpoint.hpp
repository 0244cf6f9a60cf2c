#pragma once
#include "base/clock.hpp"
#include "core/config.hpp"
#include "core/exchange.hpp"
#include "core/ports/account_store.hpp"
#include "core/token_service.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core::userinfo {

struct UserinfoEndpointDeps {
  const Config& config;
  const base::Clock& clock;
  const crypto::TokenMinter& minter;
  ports::AccountStore& accounts;
  TokenService& tokens;
};

/// `GET`/`POST /v1/oauth/userinfo` (OpenID Connect Core 1.0 section 5.3): the claims of the account an access
/// token with `openid` was issued for. Errors follow RFC 6750 section 3.1.
class UserinfoEndpoint {
 public:
  explicit UserinfoEndpoint(UserinfoEndpointDeps deps) : d_(deps) {}
  Response handle(const Request& request);

 private:
  UserinfoEndpointDeps d_;
};

}  // namespace boltauth::core::userinfo
