#pragma once
/// @file
/// A valid access token from any thread, refreshed ahead of expiry with one request in flight at a time.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "boltauth/bolt.hpp"

namespace boltauth {

struct TokenManagerOptions {
  std::string client_id;      ///< publishable key (or its last section)
  std::string client_secret;  ///< API key
  /// Scope asked on refresh; Bolt grants refreshed tokens `bolt.account.view` only (contract section 3).
  std::string scope = "bolt.account.view";
  std::optional<std::string> x_publishable_key;
  /// Refresh when less than this remains before expiry.
  std::chrono::seconds refresh_ahead{60};
  /// Wall clock; tests inject one.
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
};

/// Holds a refresh token and hands out access tokens. Refresh tokens rotate on every use (the old one dies and a
/// replay revokes the whole family), so the manager serializes refreshes (single flight: concurrent callers wait for
/// the one request in flight and share its result) and reports each new refresh token to `on_rotated` before any
/// caller sees the access token minted with it: persist it there, or lose the session after a crash.
class TokenManager {
 public:
  /// Called with the new refresh token and the whole response. Runs on the refreshing thread, before the token is
  /// handed out; if it throws, the exception reaches the caller of access_token() (the manager still keeps the new
  /// refresh token in memory, since the old one is already dead). It must not call access_token() or refresh() (the
  /// flight it runs in is still open: that would wait for itself); refresh_token() is fine.
  using RotationCallback = std::function<void(const std::string& refresh_token, const models::OAuthTokenResponse&)>;

  TokenManager(const Bolt& bolt, TokenManagerOptions options, std::string refresh_token,
               RotationCallback on_rotated = {});

  /// Seeds the manager with the response of the code exchange (access token, expiry, refresh token).
  void set_tokens(const models::OAuthTokenResponse& response);

  /// A valid access token, refreshing first when it expires within `refresh_ahead`.
  /// @throws errors::ErrorsOauthServerResponse / errors::APIError from the refresh (every waiter of that flight
  /// receives the same error).
  std::string access_token();
  /// Refreshes now (joining a flight already running) and returns the new access token.
  std::string refresh();

  /// The current refresh token.
  std::string refresh_token() const;
  /// Refresh requests this manager has sent (successful or not).
  std::uint64_t refresh_count() const;

 private:
  std::string obtain(bool force);
  void apply(const models::OAuthTokenResponse& response);

  const Bolt& bolt_;
  TokenManagerOptions options_;
  RotationCallback on_rotated_;
  mutable std::mutex mutex_;
  std::condition_variable flight_done_;
  std::string refresh_token_;
  std::string access_token_;
  std::chrono::system_clock::time_point expires_at_{};
  bool in_flight_ = false;
  std::uint64_t generation_ = 0;  // completed flights
  std::exception_ptr last_error_;
  std::uint64_t refresh_count_ = 0;
};

}  // namespace boltauth
