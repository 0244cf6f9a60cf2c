#include "core/config.hpp"

#include <algorithm>

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
  if (auto bad = validate_branding(); !bad.empty()) return bad;
  return {};
}

namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool loopback_http(std::string_view url) {
  for (const char* p : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    const std::string_view prefix(p);
    if (url.rfind(prefix, 0) == 0 &&
        (url.size() == prefix.size() || url[prefix.size()] == ':' || url[prefix.size()] == '/'))
      return true;
  }
  return false;
}

}  // namespace

std::string Config::validate_branding() const {
  // The values go into every login page: the name as escaped text, the colour into the stylesheet and the logo
  // into an <img> and the Content-Security-Policy, so each is held to a shape that cannot break out of its place.
  if (brand_name.empty() || brand_name.size() > 64) return "branding.name must be 1 to 64 bytes";
  for (unsigned char c : brand_name)
    if (c < 0x20 || c == 0x7f) return "branding.name must not contain control characters";
  const auto& a = brand_accent_color;
  if (!((a.size() == 4 || a.size() == 7) && a[0] == '#' &&
        std::all_of(a.begin() + 1, a.end(), [](char c) { return is_hex(c); })))
    return "branding.accent_color must be #rgb or #rrggbb";
  const auto& logo = brand_logo_url;
  if (!logo.empty()) {
    if (logo.size() > 2048) return "branding.logo_url is too long";
    if (logo.rfind("https://", 0) != 0 && !loopback_http(logo))
      return "branding.logo_url must be an https URL (http only on loopback)";
    for (unsigned char c : logo)
      if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\' || c == ';' || c == ',')
        return "branding.logo_url must be a plain URL (no spaces, quotes, <, >, backslash, ; or ,)";
    const auto host_start = logo.find("//") + 2;
    if (host_start >= logo.size() || logo[host_start] == '/') return "branding.logo_url must name a host";
  }
  return {};
}

}  // namespace boltauth::core
