#pragma once
/// @file
/// The Bolt API client: `boltauth::Bolt bolt(options); bolt.o_auth().o_auth_token(body, publishable_key);`,
/// `bolt.account().get_account(access_token);`
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "boltauth/account_models.hpp"
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

/// Outcome of the non-throwing form of every account call (`*_result`): the model, or the error the throwing form
/// would throw. `delete_address_result` answers std::monostate on success.
template <class T>
using AccountResult = std::variant<T, errors::ErrorsBoltApiResponse, errors::APIError>;

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

/// Bolt's v1 account operations (Bolt SDK `bolt.account`), on behalf of a shopper whose access token the caller
/// holds. Every call sends `Authorization: Bearer <access_token>` (not detect_account), `Accept: application/json`,
/// the SDK's User-Agent, `X-API-Key` when the options have one, `Idempotency-Key` when given, and the options' extra
/// headers; path ids and query values are percent-encoded.
///
/// Errors: a 4xx with Bolt's JSON error body (`errors_bolt_api_response`) throws errors::ErrorsBoltApiResponse;
/// anything else that is not a 2xx of the model throws errors::APIError (transport failure: status 0; a 2xx that
/// is not JSON or not the model: "unknown content-type received" / "invalid <Model> body"). Each call has a
/// `*_result` twin that returns an AccountResult instead of throwing.
///
/// Retries (BoltOptions::retry_config): GET, PUT and DELETE are idempotent. POST and PATCH are idempotent only
/// with an `idempotency_key` (the server then answers a repeat with the first answer and writes nothing);
/// without one they are retried only when the server surely did not act (see Idempotency).
class Account {
 public:
  /// `GET /v1/account` (getAccount): profile, address book and (raw) payment methods.
  models::AccountDetails get_account(const std::string& access_token) const;
  AccountResult<models::AccountDetails> get_account_result(const std::string& access_token) const;

  /// `PATCH /v1/account/profile` (updateAccountProfile): changes the names that are set; answers the profile.
  models::Profile update_account_profile(const std::string& access_token, const models::UpdateProfile& body,
                                         const std::optional<std::string>& idempotency_key = std::nullopt) const;
  AccountResult<models::Profile> update_account_profile_result(
      const std::string& access_token, const models::UpdateProfile& body,
      const std::optional<std::string>& idempotency_key = std::nullopt) const;

  /// `POST /v1/account/addresses` (addAddress). The first address of a book becomes its default.
  models::AddressView add_address(const std::string& access_token, const models::AddressInput& body,
                                  const std::optional<std::string>& idempotency_key = std::nullopt) const;
  AccountResult<models::AddressView> add_address_result(
      const std::string& access_token, const models::AddressInput& body,
      const std::optional<std::string>& idempotency_key = std::nullopt) const;

  /// `PUT /v1/account/addresses/{id}` (editAddress): replaces the fields, keeps the id.
  models::AddressView edit_address(const std::string& access_token, const std::string& id,
                                   const models::AddressInput& body) const;
  AccountResult<models::AddressView> edit_address_result(const std::string& access_token, const std::string& id,
                                                         const models::AddressInput& body) const;

  /// `POST /v1/account/addresses/{id}` (replaceAddress): deletes `id` and adds the address under a new id.
  models::AddressView replace_address(const std::string& access_token, const std::string& id,
                                      const models::AddressInput& body,
                                      const std::optional<std::string>& idempotency_key = std::nullopt) const;
  AccountResult<models::AddressView> replace_address_result(
      const std::string& access_token, const std::string& id, const models::AddressInput& body,
      const std::optional<std::string>& idempotency_key = std::nullopt) const;

  /// `DELETE /v1/account/addresses/{id}` (deleteAddress): an empty 200.
  void delete_address(const std::string& access_token, const std::string& id) const;
  AccountResult<std::monostate> delete_address_result(const std::string& access_token, const std::string& id) const;

  /// `GET /v1/account/exists` (detectAccount) with the query's set identifiers and `X-Publishable-Key`; no token.
  models::AccountsView detect_account(const std::string& x_publishable_key,
                                      const models::DetectAccountQuery& query) const;
  AccountResult<models::AccountsView> detect_account_result(const std::string& x_publishable_key,
                                                            const models::DetectAccountQuery& query) const;

 private:
  friend class Bolt;
  explicit Account(const Bolt& bolt) : bolt_(&bolt) {}
  const Bolt* bolt_;
};

/// The SDK entry point. Thread-safe once built; cheap calls share one transport (connection reuse).
class Bolt {
 public:
  explicit Bolt(BoltOptions options = {});
  Bolt(const Bolt&) = delete;
  Bolt& operator=(const Bolt&) = delete;

  const OAuth& o_auth() const { return o_auth_; }
  const Account& account() const { return account_; }
  /// The base URL requests go to, without a trailing '/'.
  const std::string& server_url() const { return server_url_; }
  const BoltOptions& options() const { return options_; }
  Transport& transport() const { return *options_.transport; }

 private:
  BoltOptions options_;
  std::string server_url_;
  OAuth o_auth_;
  Account account_;
};

}  // namespace boltauth
