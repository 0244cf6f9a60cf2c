#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.hpp"

namespace boltauth::core::model {

/// One authorization request waiting for the shopper to log in (contract section 6): the validated request,
/// then the one-time code sent for it. Stored by the keyed hash of its handle, which travels in the login forms.
struct LoginRequest {
  std::string id_hash;
  std::string client_id;
  std::string redirect_uri;         // where the response goes (the registered URI when the request named none)
  bool redirect_uri_given = false;  // the request carried redirect_uri: the code is bound to it (RFC 6749 4.1.3)
  std::string scope;                // canonical ScopeSet string
  std::string state;
  std::string nonce;
  std::string code_challenge;
  std::string response_mode;  // "query" or "web_message"
  std::string browser_hash;   // keyed hash of the browser cookie the request is bound to; empty: not bound
  std::string email;          // normalized; empty until the email step
  std::string otp_hash;       // keyed hash of the current one-time code; empty until sent
  base::UnixSeconds otp_expires_at = 0;
  base::UnixSeconds otp_sent_at = 0;
  std::int64_t attempts = 0;  // guesses spent on the current code
  base::UnixSeconds created_at = 0;
  base::UnixSeconds expires_at = 0;
  bool operator==(const LoginRequest&) const = default;
};

/// A browser's login session (the cookie holds the handle, storage its keyed hash).
struct LoginSession {
  std::string id_hash;
  std::string sub;
  base::UnixSeconds auth_time = 0;
  base::UnixSeconds expires_at = 0;
  bool operator==(const LoginSession&) const = default;
};

}  // namespace boltauth::core::model
