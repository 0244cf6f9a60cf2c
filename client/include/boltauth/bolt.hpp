#pragma once
/// @file
/// The Bolt API client: `boltauth::Bolt bolt(options); bolt.o_auth().o_auth_token(body, publishable_key);`
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "boltauth/errors.hpp"
#include "boltauth/http.hpp"
#include "boltauth/models.hpp"
#include "boltauth/retry.hpp"

namespace boltauth {

/// Bolt's servers by index, as in the OpenAPI file: production, sandbox, staging.
inline constexpr std::array<std::string_view, 3> kServerList{"https://api.bolt.com", "https://api-sandbox.bolt.com",
                                                             "https://api-staging.bolt.com"};

/// Client options (Bolt SDK: `server_url`, `server_idx`, security `x_api_key`, `timeout_ms`, `retry_config`).
struct BoltOptions {
  /// Base URL; when set it wins over `server_idx`. A trailing '/' is ignored.
  std::optional<std::string> server_url;
  /// Index into kServerList when no server_url is given. Out of range: std::invalid_argument.
  std::size_t server_idx = 0;
  /// Sent as `X-API-Key` on every request when set (Bolt's API security scheme).
  std::optional<std::string> x_api_key;
  /// Whole-request timeout of each attempt.
  std::chrono::milliseconds timeout{30'000};
  RetryConfig retry_config;
  /// Added to every request (e.g. `X-Bolt-Source-Name`).
  HttpHeaders extra_headers;
  /// Null: a CurlTransport made for this client.
  std::shared_ptr<Transport> transport;
  /// Clock and sleeper of the retry loop (tests inject them).
  RetryEnv retry_env;
};

/// Outcome of the non-throwing form.
using OAuthTokenResult = std::variant<models::OAuthTokenResponse, errors::ErrorsOauthServerResponse, errors::APIError>;

class Bolt;

/// The OAuth operations (Bolt SDK `bolt.o_auth`).
class OAuth {
 public:
  /// `POST /v1/oauth/token` (operation OAuthToken) with the body form-encoded, `X-Publishable-Key` when given.
  /// @throws errors::ErrorsOauthServerResponse on 400/403/422 with Bolt's JSON error body.
  /// @throws errors::APIError on any other non-2xx, a 2xx that is not the JSON model, or a transport failure.
  models::OAuthTokenResponse o_auth_token(const models::OAuthTokenRequestBody& body,
                                          const std::optional<std::string>& x_publishable_key = std::nullopt) const;
  /// The same call without exceptions.
  OAuthTokenResult o_auth_token_result(const models::OAuthTokenRequestBody& body,
                                       const std::optional<std::string>& x_publishable_key = std::nullopt) const;

 private:
  friend class Bolt;
  explicit OAuth(const Bolt& bolt) : bolt_(&bolt) {}
  const Bolt* bolt_;
};

/// The SDK entry point. Thread-safe once built; cheap calls share one transport (connection reuse).
class Bolt {
 public:
  explicit Bolt(BoltOptions options = {});
  Bolt(const Bolt&) = delete;
  Bolt& operator=(const Bolt&) = delete;

  const OAuth& o_auth() const { return o_auth_; }
  /// The base URL requests go to, without a trailing '/'.
  const std::string& server_url() const { return server_url_; }
  const BoltOptions& options() const { return options_; }
  Transport& transport() const { return *options_.transport; }

 private:
  BoltOptions options_;
  std::string server_url_;
  OAuth o_auth_;
};

}  // namespace boltauth
