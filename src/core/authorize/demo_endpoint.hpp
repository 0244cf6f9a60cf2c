#pragma once
#include <functional>
#include <optional>
#include <string>

#include "base/random.hpp"
#include "core/config.hpp"
#include "core/exchange.hpp"

namespace boltauth::core::authorize {

/// The sandbox demo merchant's credentials (kept by the server layer next to the database).
struct DemoClient {
  std::string client_id;  // publishable key
  std::string client_secret;
};

struct DemoEndpointDeps {
  const Config& config;
  base::Random& random;
  /// The demo client, or nullopt when this data dir has none.
  std::function<std::optional<DemoClient>()> credentials;
  /// The token endpoint, called in-process: the demo's "server-side" exchange.
  std::function<Response(const Request&)> token;
};

/// `GET /demo` and `GET /demo/callback` (sandbox only): a tiny merchant that logs a shopper in with PKCE,
/// exchanges the code on its server side and shows the OAuthTokenResponse and the decoded id_token.
class DemoEndpoint {
 public:
  explicit DemoEndpoint(DemoEndpointDeps deps) : d_(std::move(deps)) {}
  Response start(const Request& request);
  Response callback(const Request& request);

 private:
  DemoEndpointDeps d_;
};

}  // namespace boltauth::core::authorize
