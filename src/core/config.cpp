#include "core/config.hpp"

namespace boltauth::core {

std::string Config::validate() const {
  if (issuer.empty()) return "issuer must not be empty";
  // OIDC Discovery 1.0 section 3: the issuer is an https URL without query or fragment; http is allowed
  // for loopback and sandbox use.
  if (issuer.rfind("https://", 0) != 0 && issuer.rfind("http://", 0) != 0) return "issuer must be an http(s) URL";
  if (issuer.find_first_of("?#") != std::string::npos) return "issuer must not have a query or fragment";
  if (issuer.back() == '/') return "issuer must not end with '/'";
  if (code_ttl <= 0 || code_ttl > 600) return "code_ttl must be in 1..600 seconds (RFC 6749 section 4.1.2)";
  if (access_token_ttl <= 0) return "access_token_ttl must be positive";
  if (refresh_token_ttl <= 0) return "refresh_token_ttl must be positive";
  if (id_token_ttl <= 0) return "id_token_ttl must be positive";
  if (refresh_grace_seconds < 0 || refresh_grace_seconds > 300) return "refresh_grace_seconds must be in 0..300";
  if (client_auth_failure_window <= 0 || client_auth_failure_window > 86400)
    return "client_auth_failure_window must be in 1..86400 seconds";
  if (max_form_params < 8 || max_form_params > 1000) return "max_form_params must be in 8..1000";
  if (otp_ttl < 60 || otp_ttl > 3600) return "otp_ttl must be in 60..3600 seconds";
  if (otp_max_attempts < 1 || otp_max_attempts > 10) return "otp_max_attempts must be in 1..10";
  if (otp_resend_cooldown < 0 || otp_resend_cooldown > 600) return "otp_resend_cooldown must be in 0..600";
  if (login_request_ttl < otp_ttl) return "login_request_ttl must be at least otp_ttl";
  if (session_ttl < 0) return "session_ttl must not be negative";
  return {};
}

}  // namespace boltauth::core
