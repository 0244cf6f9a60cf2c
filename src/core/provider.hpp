#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/account/account_endpoint.hpp"
#include "core/authorize/authorize_endpoint.hpp"
#include "core/authorize/demo_endpoint.hpp"
#include "core/client_registry.hpp"
#include "core/config.hpp"
#include "core/exchange.hpp"
#include "core/key_ring.hpp"
#include "core/lifecycle/lifecycle_endpoint.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/address_store.hpp"
#include "core/ports/client_store.hpp"
#include "core/ports/grant_store.hpp"
#include "core/ports/idempotency_store.hpp"
#include "core/ports/key_source.hpp"
#include "core/ports/legacy_token_store.hpp"
#include "core/ports/login_store.hpp"
#include "core/ports/otp_sender.hpp"
#include "core/routes.hpp"
#include "core/testing/testing_endpoint.hpp"
#include "core/token/token_endpoint.hpp"
#include "core/token_service.hpp"
#include "core/userinfo/userinfo_endpoint.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core {

/// The token endpoint discovery advertises (OIDC Discovery 1.0 section 3): Bolt's token endpoint in the RFC 6749
/// dialect.
inline constexpr std::string_view kStandardTokenPath = "/oauth2/token";

struct ProviderDeps {
  const Config& config;
  const base::Clock& clock;
  base::Random& random;
  const crypto::TokenMinter& minter;
  ports::KeySource& keys;
  ports::ClientStore& clients;
  ports::AccountStore& accounts;
  ports::GrantStore& grants;
  ports::LegacyTokenStore& legacy;
  ports::SealerSource& sealers;
  ports::LoginStore& logins;
  ports::OtpSender& otp_sender;
  ports::AddressStore& addresses;
  ports::IdempotencyStore& idempotency;
  /// The sandbox demo merchant's credentials for `/demo`; may be empty (then the demo page says so).
  std::function<std::optional<authorize::DemoClient>()> demo_client;
  /// Called once per unexpected failure with detail for the log; never sent to the client.
  std::function<void(std::string_view)> log_error;
  /// Called with the debug detail of refused requests (operators' `--log-level debug`); may be empty.
  std::function<void(std::string_view)> log_debug;
  /// Failed client-authentication counts shared by every node of one database; null: in this process.
  ports::ThrottleStore* throttle_store = nullptr;
  /// Reads a request's rows in one go where the store can (PostgreSQL); null: one at a time.
  ports::ReadAhead* read_ahead = nullptr;
};

/// The authorization server as a pure function from Request to Response: routing, the endpoints, and the one
/// place where storage failures become `server_error` / `temporarily_unavailable`.
class Provider {
 public:
  explicit Provider(ProviderDeps deps);
  // The endpoints hold references to registry_: a Provider stays where it was built.
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;
  Response handle(const Request& request) noexcept;

  ClientRegistry& registry() { return registry_; }
  const RouteTable& routes() const { return routes_; }
  /// The rows the request's handler reads first, named from the request alone, for a store that reads them ahead
  /// without waiting (ports::ReadAhead::prefetch_async); none when its route names none or no ReadAhead is set.
  std::optional<ports::ReadAheadKeys> read_ahead_keys(const Request& request) noexcept;
  /// The ReadAhead the endpoints use (null: none).
  ports::ReadAhead* read_ahead() const noexcept { return d_.read_ahead; }
  /// The answer to a request nothing was kept of, in its route's dialect: 503 `temporarily_unavailable` (with
  /// Retry-After) when `transient`, else 500 `server_error`. Also the HTTP layer's answer when a deferred commit
  /// fails.
  Response failure(const Request& request, bool transient) const;

 private:
  void add_routes();
  Response route(const Request& request);
  std::pair<std::string, std::string> bodies();  // discovery and JWKS for the current ring
  Response discovery();
  Response jwks();

  ProviderDeps d_;
  ClientRegistry registry_;
  TokenService tokens_;
  token::TokenEndpoint token_;
  account::AccountEndpoint account_;
  testing::TestingEndpoint testing_;
  boost::json::object discovery_doc_;  // without id_token_signing_alg_values_supported, which follows the keys
  std::mutex cache_mutex_;
  std::shared_ptr<const KeyRing> cached_ring_;  // the ring the two bodies below were made from
  lifecycle::LifecycleEndpoint lifecycle_;
  userinfo::UserinfoEndpoint userinfo_;
  authorize::AuthorizeEndpoint authorize_;
  authorize::DemoEndpoint demo_;
  std::string discovery_body_;
  std::string jwks_body_;
  RouteTable routes_;
};

}  // namespace boltauth::core
