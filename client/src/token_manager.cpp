#include "boltauth/token_manager.hpp"

namespace boltauth {

TokenManager::TokenManager(const Bolt& bolt, TokenManagerOptions options, std::string refresh_token,
                           RotationCallback on_rotated)
    : bolt_(bolt),
      options_(std::move(options)),
      on_rotated_(std::move(on_rotated)),
      refresh_token_(std::move(refresh_token)) {}

void TokenManager::apply(const models::OAuthTokenResponse& response) {
  // Caller holds mutex_.
  if (response.refresh_token) refresh_token_ = *response.refresh_token;
  if (response.access_token) {
    access_token_ = *response.access_token;
    // No expires_in (RFC 6749 section 5.1 makes it RECOMMENDED, not required): treat the token as valid for one
    // refresh_ahead interval so it is used briefly and then refreshed, never forever.
    const auto lifetime = response.expires_in ? std::chrono::seconds(*response.expires_in) : 2 * options_.refresh_ahead;
    expires_at_ = options_.now() + lifetime;
  }
}

void TokenManager::set_tokens(const models::OAuthTokenResponse& response) {
  std::lock_guard lock(mutex_);
  apply(response);
}

std::string TokenManager::access_token() { return obtain(false); }
std::string TokenManager::refresh() { return obtain(true); }

std::string TokenManager::refresh_token() const {
  std::lock_guard lock(mutex_);
  return refresh_token_;
}

std::uint64_t TokenManager::refresh_count() const {
  std::lock_guard lock(mutex_);
  return refresh_count_;
}

std::string TokenManager::obtain(bool force) {
  std::unique_lock lock(mutex_);
  if (!force && !access_token_.empty() && options_.now() + options_.refresh_ahead < expires_at_) return access_token_;
  if (in_flight_) {
    // Join the flight in progress: its outcome, success or error, is ours too.
    const std::uint64_t joined = generation_;
    flight_done_.wait(lock, [&] { return generation_ != joined; });
    if (last_error_) std::rethrow_exception(last_error_);
    return access_token_;
  }
  in_flight_ = true;
  const std::string presented = refresh_token_;
  ++refresh_count_;
  lock.unlock();

  std::exception_ptr error;
  try {
    models::OAuthTokenInputRefresh body;
    body.client_id = options_.client_id;
    body.client_secret = options_.client_secret;
    body.refresh_token = presented;
    body.scope = options_.scope;
    models::OAuthTokenResponse response = bolt_.o_auth().o_auth_token(body, options_.x_publishable_key);
    if (!response.access_token) throw errors::APIError("refresh response without access_token", 200, {});
    {
      std::lock_guard guard(mutex_);
      apply(response);
    }
    // Still in flight: no other refresh can start and no waiter returns before the new refresh token is persisted.
    if (on_rotated_ && response.refresh_token && *response.refresh_token != presented) {
      on_rotated_(*response.refresh_token, response);
    }
  } catch (...) {
    error = std::current_exception();
  }

  lock.lock();
  in_flight_ = false;
  last_error_ = error;
  ++generation_;
  flight_done_.notify_all();
  if (error) std::rethrow_exception(error);
  return access_token_;
}

}  // namespace boltauth
