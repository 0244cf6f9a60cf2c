#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/authorize/throttle.hpp"
#include "core/client_registry.hpp"
#include "core/config.hpp"
#include "core/exchange.hpp"
#include "core/model/client.hpp"
#include "core/model/login.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/key_source.hpp"
#include "core/ports/login_store.hpp"
#include "core/ports/otp_sender.hpp"
#include "core/token_service.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core::authorize {

struct AuthorizeEndpointDeps {
  const Config& config;
  const base::Clock& clock;
  base::Random& random;
  const crypto::TokenMinter& minter;
  ClientRegistry& registry;
  ports::AccountStore& accounts;
  TokenService& tokens;
  ports::LoginStore& logins;
  ports::OtpSender& otp_sender;
  /// The published signing keys: an `id_token_hint` must verify against them.
  ports::KeySource& keys;
  /// Delivery failures and other detail for the operator's log; may be null.
  const std::function<void(std::string_view)>* log_error = nullptr;
};

/// The paths this endpoint answers (the login steps are siblings of /v1/oauth/authorize, see pages.cpp).
inline constexpr std::string_view kAuthorizePath = "/v1/oauth/authorize";
inline constexpr std::string_view kLoginEmailPath = "/v1/oauth/login-email";
inline constexpr std::string_view kLoginOtpPath = "/v1/oauth/login-otp";
inline constexpr std::string_view kLoginResendPath = "/v1/oauth/login-resend";
inline constexpr std::string_view kLoginContinuePath = "/v1/oauth/login-continue";
inline constexpr std::string_view kLoginPagePath = "/v1/oauth/login";
inline constexpr std::string_view kLogoutPath = "/v1/oauth/logout";

/// `GET, POST /v1/oauth/authorize` and the login modal (contract section 6; checklist C and D): validates the
/// request, reuses a login session when it may, else runs email -> one-time code, then redirects with a code
/// (303) or posts it to the opener (web_message).
class AuthorizeEndpoint {
 public:
  explicit AuthorizeEndpoint(AuthorizeEndpointDeps deps)
      : d_(deps),
        sends_per_email_(deps.config.otp_sends_per_email_per_hour, 3600),
        sends_per_ip_(deps.config.otp_sends_per_ip_per_hour, 3600),
        attempts_per_ip_(deps.config.otp_attempts_per_ip_per_hour, 3600) {}

  Response authorize(const Request& request);
  Response login_email(const Request& request);
  Response login_otp(const Request& request);
  Response login_resend(const Request& request);
  /// The page of a login's current step: where each login form redirects (POST-redirect-GET).
  Response login_page(const Request& request);
  /// "Continue as <email>": completes a login with the browser's live session.
  Response login_continue(const Request& request);
  /// OpenID Connect RP-Initiated Logout 1.0: ends the login session (asking first unless the id_token_hint names
  /// the session's shopper), then goes back to a registered post_logout_redirect_uri or shows a page.
  Response logout(const Request& request);

  /// Names of the cookies (for tests and docs).
  static constexpr std::string_view kSessionCookie = "boltauth_session";
  static constexpr std::string_view kBrowserCookie = "boltauth_browser";
  /// Binds a web_message login to the browser that started it (partitioned, SameSite=None).
  static constexpr std::string_view kLoginCookie = "boltauth_login";

 private:
  friend class Flow;
  AuthorizeEndpointDeps d_;
  WindowThrottle sends_per_email_;
  WindowThrottle sends_per_ip_;
  WindowThrottle attempts_per_ip_;
};

/// `key=value` of the Cookie header(s); nullopt when absent.
std::optional<std::string> find_cookie(const Request& request, std::string_view name);

}  // namespace boltauth::core::authorize
