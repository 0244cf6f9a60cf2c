#pragma once
#include <optional>
#include <string_view>

#include "base/clock.hpp"
#include "core/auth_throttle.hpp"
#include "core/client_registry.hpp"
#include "core/exchange.hpp"
#include "core/model/client.hpp"
#include "core/ports/read_ahead.hpp"
#include "protocol/error_code.hpp"
#include "protocol/form.hpp"

namespace boltauth::core {

/// Outcome of client authentication: the client, or the error to answer. `basic_attempted` tells the error
/// mapper to add `WWW-Authenticate: Basic` (RFC 6749 section 5.2).
struct ClientAuthResult {
  std::optional<model::Client> client;
  std::optional<protocol::OAuthError> error;  // set iff !client
  bool basic_attempted = false;
  std::int64_t retry_after = 0;  // > 0: throttled (429 slow_down); the Retry-After value in seconds
  /// The client_id as the client spelled it (full publishable key or its last section); set with `client`.
  std::string presented_id;
};

/// Client authentication shared by the token, introspection and revocation endpoints: HTTP Basic
/// (RFC 6749 section 2.3.1, form-urlencoded before base64) or `client_id` + `client_secret` in the body,
/// never both; the id is the full publishable key or its last section (contract section 1).
/// `throttle` (may be null) holds off a client id that keeps failing from one address (checklist B5); the
/// token, introspection and revocation endpoints share one, so alternating endpoints buys no extra guesses.
/// Rows the caller reads right after authenticating (a token's grant), fetched together with the client's and the
/// throttle's when the store reads ahead (ports::ReadAhead). Optional: `scope` null reads one at a time.
struct ReadAheadRequest {
  ports::ReadAheadScope* scope = nullptr;
  std::optional<std::int64_t> grant_id;
  std::uint64_t jti = 0;
  bool client_grant = false;  // the client's client_credentials grant
};

/// The rows authenticate_client reads for this request (the client its credentials name, that client's failure
/// window, and those of `ahead`), named before any is read and without judging the credentials; nullopt when it
/// would read none.
std::optional<ports::ReadAheadKeys> read_ahead_keys(const Request& request, const protocol::FormParams& params,
                                                    const AuthThrottle* throttle, const ReadAheadRequest& ahead);

ClientAuthResult authenticate_client(ClientRegistry& registry, const Request& request,
                                     const protocol::FormParams& params, AuthThrottle* throttle = nullptr,
                                     base::UnixSeconds now = 0, const ReadAheadRequest& ahead = {});

}  // namespace boltauth::core
