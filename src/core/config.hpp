#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/error_code.hpp"

namespace boltauth::core {

enum class Mode { sandbox, production };

/// Protocol settings, parsed once at start-up and validated; immutable afterwards.
struct Config {
  std::string issuer = "http://127.0.0.1:8080";  // `iss` of id_tokens and discovery's issuer, byte for byte
  Mode mode = Mode::sandbox;
  protocol::ErrorStyle error_style = protocol::ErrorStyle::bolt;

  // Lifetimes in seconds (contract section 3).
  std::int64_t code_ttl = 300;
  std::int64_t access_token_ttl = 3600;
  std::int64_t refresh_token_ttl = 365 * 24 * 3600;
  std::int64_t id_token_ttl = 3600;
  /// How long after rotation the immediately previous refresh token may be replayed once (0 = never).
  std::int64_t refresh_grace_seconds = 0;

  /// Bolt lists `scope` as required on both grants, but RFC 6749 (sections 4.1.3 and 6) and OIDC clients omit it:
  /// by default an absent scope means "everything the code or refresh token carries". true: absent is
  /// invalid_request, as Bolt's OpenAPI file says.
  bool token_scope_required = false;
  /// Token requests per client per second; 0 = unlimited. Over it: 429 slow_down with Retry-After.
  std::uint32_t token_rate_limit_per_client = 0;
  std::size_t max_form_params = 32;
  /// Checklist B5: this many failed client authentications for one client id from one address within
  /// client_auth_failure_window seconds hold that pair off with 429 until the window ends. 0 = off.
  std::uint32_t client_auth_max_failures = 10;
  std::int64_t client_auth_failure_window = 60;

  // Authorization endpoint and login modal (contract section 6, checklist C10).
  std::int64_t otp_ttl = 600;             // a one-time code lives 10 minutes
  std::int64_t otp_max_attempts = 5;      // guesses per code
  std::int64_t otp_resend_cooldown = 30;  // seconds between two codes for one login
  std::int64_t login_request_ttl = 1800;  // an unfinished login is forgotten after 30 minutes
  std::int64_t session_ttl = 86400;       // the login session cookie: a second authorization skips the login
  /// Throttles, per rolling hour (fixed windows): codes sent per email and per client IP, guesses per IP.
  std::uint32_t otp_sends_per_email_per_hour = 5;
  std::uint32_t otp_sends_per_ip_per_hour = 20;
  std::uint32_t otp_attempts_per_ip_per_hour = 50;
  // `GET /v1/account/exists` answers whether an email or phone has an account: throttled so that nobody can
  // enumerate accounts at speed (0 = unlimited).
  std::uint32_t account_exists_per_key_per_minute = 60;      // per publishable key
  std::uint32_t account_exists_per_address_per_minute = 10;  // per source address

  /// The login pages' look (`[branding]`), on every page: the service's name, a logo (an https URL, or http on
  /// loopback) and the accent colour of buttons and links (#rgb or #rrggbb).
  std::string brand_name = "boltauth";
  std::string brand_logo_url;
  std::string brand_accent_color = "#3a3aff";

  /// Empty when valid, else a sentence naming the bad setting.
  std::string validate() const;
  /// The `[branding]` part of validate().
  std::string validate_branding() const;
};

}  // namespace boltauth::core
