#pragma once
#include <optional>
#include <string_view>

#include "core/model/login.hpp"

namespace boltauth::core::ports {

/// Pending logins and login sessions of the authorization endpoint. Every method may throw StorageError.
class LoginStore {
 public:
  virtual ~LoginStore() = default;

  virtual void insert_request(const model::LoginRequest& request) = 0;
  virtual std::optional<model::LoginRequest> find_request(std::string_view id_hash) = 0;
  /// Records a freshly sent one-time code (resets the attempt count). False when no such request.
  virtual bool set_otp(std::string_view id_hash, std::string_view email, std::string_view otp_hash,
                       base::UnixSeconds sent_at, base::UnixSeconds expires_at) = 0;
  /// Spends one guess on the current code, atomically: true iff the current code is `otp_hash` (the one the
  /// caller compares against), unexpired at `now`, and fewer than `max_attempts` guesses were spent on it.
  /// Concurrent guesses can never exceed the limit, even across a resend.
  virtual bool claim_attempt(std::string_view id_hash, std::string_view otp_hash, base::UnixSeconds now,
                             std::int64_t max_attempts) = 0;
  /// Deletes the request iff its current code is still `otp_hash`; true for the one caller that removed it (the
  /// login completes once, and never with a code a resend replaced).
  virtual bool consume_request(std::string_view id_hash, std::string_view otp_hash) = 0;

  virtual void insert_session(const model::LoginSession& session) = 0;
  virtual std::optional<model::LoginSession> find_session(std::string_view id_hash) = 0;
  virtual void delete_session(std::string_view id_hash) = 0;

  /// The shopper proved control of the address with a one-time code. False when no such account.
  virtual bool mark_email_verified(std::string_view sub, base::UnixSeconds now) = 0;
};

}  // namespace boltauth::core::ports
