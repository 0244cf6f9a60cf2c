#pragma once
/// @file
/// Exceptions thrown by the SDK, named as in Bolt's SDKs (`errors.APIError`, `errors.ErrorsOauthServerResponse`,
/// `errors.ErrorsBoltApiResponse`).
#include <stdexcept>
#include <string>
#include <vector>

#include "boltauth/account_models.hpp"
#include "boltauth/http.hpp"
#include "boltauth/models.hpp"

namespace boltauth::errors {

/// Base of every SDK exception.
class BoltError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Any other failure of an API call: a non-2xx status without Bolt's error body of that call (OAuth or v1), a 2xx
/// that is not JSON (or not the model), or a transport failure (then status_code() is 0).
class APIError : public BoltError {
 public:
  APIError(std::string message, int status_code, std::string body, HttpHeaders headers = {});
  /// HTTP status; 0 when no response arrived.
  int status_code() const noexcept { return status_code_; }
  /// Raw response body (empty without a response).
  const std::string& body() const noexcept { return body_; }
  const HttpHeaders& headers() const noexcept { return headers_; }

 private:
  int status_code_;
  std::string body_;
  HttpHeaders headers_;
};

/// The token endpoint refused the request with 400, 403 or 422 and Bolt's JSON error body
/// (OpenAPI `errors_oauth_server_response`).
class ErrorsOauthServerResponse : public BoltError {
 public:
  ErrorsOauthServerResponse(models::ErrorsOauthServerResponseData data, int status_code, std::string body);
  /// `error` and `error_description` as sent.
  const models::ErrorsOauthServerResponseData& data() const noexcept { return data_; }
  int status_code() const noexcept { return status_code_; }
  const std::string& body() const noexcept { return body_; }

 private:
  models::ErrorsOauthServerResponseData data_;
  int status_code_;
  std::string body_;
};

/// An account call was refused with a 4xx and Bolt's v1 JSON error body (OpenAPI `errors_bolt_api_response`):
/// 400 invalid input (the message names the field), 401 token missing or invalid, 403 insufficient scope, 404 no
/// such address, 409 Idempotency-Key still in flight, 415, 422 refused by a rule, 429 throttled. headers() keeps
/// `WWW-Authenticate` and `Retry-After`.
class ErrorsBoltApiResponse : public BoltError {
 public:
  ErrorsBoltApiResponse(models::ErrorsBoltApiResponseData data, int status_code, std::string body,
                        HttpHeaders headers = {});
  const models::ErrorsBoltApiResponseData& data() const noexcept { return data_; }
  /// The `{code, message}` entries as sent.
  const std::vector<models::ErrorBoltApi>& errors() const noexcept { return data_.errors; }
  int status_code() const noexcept { return status_code_; }
  const std::string& body() const noexcept { return body_; }
  const HttpHeaders& headers() const noexcept { return headers_; }

 private:
  models::ErrorsBoltApiResponseData data_;
  int status_code_;
  std::string body_;
  HttpHeaders headers_;
};

/// Why an id_token was refused (see IdTokenVerifier).
enum class IdTokenFailure {
  malformed,         ///< not a compact JWS, bad base64url or JSON, duplicate keys
  unsupported_alg,   ///< alg none / HS* / not allowed / no key of that kid for the alg
  forbidden_header,  ///< jwk, jku, x5u, x5c or crit header
  unknown_kid,       ///< kid absent from the JWKS even after one refetch
  bad_signature,
  wrong_issuer,
  wrong_audience,
  wrong_azp,
  expired,
  issued_in_future,
  missing_claim,
  nonce_mismatch,
  at_hash_mismatch,
  discovery_failed,  ///< discovery or JWKS could not be fetched or is invalid
};

/// An id_token that must not be trusted.
class IdTokenError : public BoltError {
 public:
  IdTokenError(IdTokenFailure failure, const std::string& message) : BoltError(message), failure_(failure) {}
  IdTokenFailure failure() const noexcept { return failure_; }

 private:
  IdTokenFailure failure_;
};

}  // namespace boltauth::errors
