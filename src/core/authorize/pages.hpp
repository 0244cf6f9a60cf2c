#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boltauth::core::authorize {

/// Text for HTML element content and double-quoted attribute values.
std::string html_escape(std::string_view text);

/// JSON text safe inside an inline <script> (no `<`, `>`, `&`, U+2028, U+2029 left raw).
std::string script_safe_json(std::string_view json);

/// The service's look on every page (the `[branding]` settings, validated by Config).
struct Brand {
  std::string name = "boltauth";
  std::string logo_url;  // empty: none
  std::string accent_color = "#3a3aff";
};

struct PageContext {
  std::string nonce;  // CSP nonce of the inline style (and script)
  Brand brand;
  std::string client_name;          // the merchant
  std::string login;                // handle of the pending login (hidden field)
  std::string email;                // prefill / the address the code went to
  std::string error;                // shown with role="alert"; empty: none
  std::string notice;               // neutral status line; empty: none
  std::int64_t valid_minutes = 10;  // how long a one-time code lives (otp_ttl)
};

/// Step 1: the email address. Plain HTML forms: works without JavaScript.
std::string email_page(const PageContext& ctx);
/// Step 2: the 6-digit code, with "send a new code" and "use another email".
std::string otp_page(const PageContext& ctx);
/// A live session's shopper (`ctx.email`): "Continue as ..." in one click, or "Not you?" to end that session and
/// log in as someone else.
std::string continue_page(const PageContext& ctx);
/// RP-initiated logout without proof that the shopper's merchant asked: "Log out?" with a form posting `fields`
/// (hidden) back to the logout endpoint.
std::string logout_confirm_page(const PageContext& ctx, const std::vector<std::pair<std::string, std::string>>& fields);
/// After a logout with nowhere registered to go back to.
std::string logged_out_page(const PageContext& ctx);
/// A page that never redirects by itself (unknown client, unregistered redirect_uri, expired login). With
/// `back_url` (only ever the merchant's registered redirect URI, carrying an error) it links the way back there,
/// labelled `back_label`; without, it says to go back to the site the shopper came from.
std::string error_page(const PageContext& ctx, std::string_view title, std::string_view message,
                       std::string_view back_url = {}, std::string_view back_label = {});
/// response_mode=web_message: posts `json` to the opener (popup) or parent (iframe), targeting only the origin
/// given as a JSON string in `origin_json`.
std::string web_message_page(const PageContext& ctx, std::string_view origin_json, std::string_view json);

}  // namespace boltauth::core::authorize
