#include "core/authorize/pages.hpp"

namespace boltauth::core::authorize {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string script_safe_json(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      // U+2028/U+2029 end a line in older JavaScript parsers.
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

// One small stylesheet, inline under the CSP nonce: no third-party or even same-origin resources to load.
constexpr std::string_view kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d1d1f}
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
@media (max-width:30rem){main{margin:0;min-height:100vh;border-radius:0;box-shadow:none}}
h1{font-size:1.35rem;margin:0 0 .5rem}
p{margin:.5rem 0 1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input{width:100%;font:inherit;padding:.7rem .8rem;border:1px solid #8a8f98;border-radius:8px}
input:focus,button:focus,a:focus{outline:3px solid var(--accent);outline-offset:2px}
input[aria-invalid=true]{border-color:#b00020}
button,a.button{display:block;text-align:center;text-decoration:none;font:inherit;font-weight:600;width:100%;padding:.75rem;margin-top:1rem;border:0;border-radius:8px;background:var(--accent);color:#fff;cursor:pointer}
button.link{display:inline;background:none;color:var(--accent);width:auto;padding:.25rem 0;margin-top:.5rem;text-decoration:underline;font-weight:400}
a{color:var(--accent)}
header{display:flex;align-items:center;gap:.6rem;margin:0 0 1.25rem;font-weight:600;color:#333}
header img{height:32px;width:auto;max-width:8rem}
.error{color:#b00020;font-weight:600}
.notice{color:#1d5b2a}
.merchant{color:#555;font-size:.95rem}
.row{display:flex;gap:1rem;flex-wrap:wrap}
)css";

// Every page starts with the service's name (and logo): the shopper sees whose login this is.
std::string head(const PageContext& ctx, std::string_view title) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"referrer\" content=\"no-referrer\"><title>";
  h += html_escape(title) + " \xC2\xB7 " + html_escape(ctx.brand.name);
  // The colour was validated as #rgb/#rrggbb (Config::validate_branding): nothing else reaches the stylesheet.
  h += "</title><style nonce=\"" + ctx.nonce + "\">:root{--accent:" + ctx.brand.accent_color + "}";
  h += kStyle;
  h += "</style></head><body><main><header>";
  if (!ctx.brand.logo_url.empty())
    h += "<img src=\"" + html_escape(ctx.brand.logo_url) + "\" alt=\"\" referrerpolicy=\"no-referrer\">";
  h += "<span class=\"brand\">" + html_escape(ctx.brand.name) + "</span></header>";
  return h;
}

constexpr std::string_view kTail = "</main></body></html>\n";

std::string messages(const PageContext& ctx, const char* id) {
  std::string out;
  if (!ctx.error.empty())
    out += std::string("<p id=\"") + id + "\" class=\"error\" role=\"alert\">" + html_escape(ctx.error) + "</p>";
  if (!ctx.notice.empty()) out += "<p class=\"notice\" role=\"status\">" + html_escape(ctx.notice) + "</p>";
  return out;
}

std::string hidden_login(const PageContext& ctx) {
  return "<input type=\"hidden\" name=\"login\" value=\"" + html_escape(ctx.login) + "\">";
}

}  // namespace

std::string email_page(const PageContext& ctx) {
  std::string p = head(ctx, "Log in");
  p += "<h1>Log in</h1><p class=\"merchant\">to continue to <strong>" + html_escape(ctx.client_name) + "</strong></p>";
  p += messages(ctx, "email-error");
  // Relative action: the login steps are siblings of /v1/oauth/authorize, so a path prefix before it still works.
  p += "<form method=\"post\" action=\"login-email\" novalidate>" + hidden_login(ctx);
  p += "<label for=\"email\">Email address</label>";
  p += "<input id=\"email\" type=\"email\" name=\"email\" autocomplete=\"email\" required autofocus "
       "spellcheck=\"false\" autocapitalize=\"none\" value=\"" +
       html_escape(ctx.email) + "\"";
  if (!ctx.error.empty()) p += " aria-invalid=\"true\" aria-describedby=\"email-error\"";
  p += "><button type=\"submit\">Continue</button></form>";
  p += "<p class=\"merchant\">We will email you a 6-digit code. No password needed.</p>";
  p += kTail;
  return p;
}

std::string otp_page(const PageContext& ctx) {
  std::string p = head(ctx, "Enter your code");
  p += "<h1>Check your email</h1>";
  // The same sentence whether or not the address has an account (checklist C10).
  p += "<p>Enter the 6-digit code we sent to <strong>" + html_escape(ctx.email) + "</strong>. It is valid for " +
       std::to_string(ctx.valid_minutes) + (ctx.valid_minutes == 1 ? " minute.</p>" : " minutes.</p>");
  p += messages(ctx, "otp-error");
  p += "<form method=\"post\" action=\"login-otp\">" + hidden_login(ctx);
  p += "<label for=\"otp\">One-time code</label>";
  p += "<input id=\"otp\" name=\"otp\" autocomplete=\"one-time-code\" inputmode=\"numeric\" pattern=\"[0-9]{6}\" "
       "maxlength=\"6\" required autofocus";
  if (!ctx.error.empty()) p += " aria-invalid=\"true\" aria-describedby=\"otp-error\"";
  p += "><button type=\"submit\">Log in</button></form>";
  p += "<div class=\"row\"><form method=\"post\" action=\"login-resend\">" + hidden_login(ctx) +
       "<button class=\"link\" type=\"submit\">Send a new code</button></form>";
  p += "<form method=\"post\" action=\"login-email\">" + hidden_login(ctx) +
       "<input type=\"hidden\" name=\"change\" value=\"1\"><button class=\"link\" type=\"submit\">Use another "
       "email</button></form></div>";
  p += kTail;
  return p;
}

std::string continue_page(const PageContext& ctx) {
  std::string p = head(ctx, "Continue");
  p += "<h1>Welcome back</h1><p class=\"merchant\">to continue to <strong>" + html_escape(ctx.client_name) +
       "</strong></p>";
  p += "<p>You are logged in as <strong id=\"who\">" + html_escape(ctx.email) + "</strong>.</p>";
  p += "<form method=\"post\" action=\"login-continue\">" + hidden_login(ctx) + "<button type=\"submit\">Continue as " +
       html_escape(ctx.email) + "</button></form>";
  p += "<form method=\"post\" action=\"login-email\">" + hidden_login(ctx) +
       "<input type=\"hidden\" name=\"not_me\" value=\"1\"><span class=\"merchant\">Not you? </span>"
       "<button class=\"link\" type=\"submit\">Use another account</button></form>";
  p += kTail;
  return p;
}

std::string logout_confirm_page(const PageContext& ctx,
                                const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string p = head(ctx, "Log out");
  p += "<h1>Log out?</h1><p>You are logged in to " + html_escape(ctx.brand.name) + " in this browser";
  if (!ctx.client_name.empty()) p += " and <strong>" + html_escape(ctx.client_name) + "</strong> asks to log you out";
  p += ".</p>";
  // Relative action: a sibling of /v1/oauth/authorize, like the login steps.
  p += "<form method=\"post\" action=\"logout\">";
  for (const auto& [name, value] : fields)
    p += "<input type=\"hidden\" name=\"" + html_escape(name) + "\" value=\"" + html_escape(value) + "\">";
  p += "<button type=\"submit\" id=\"logout\">Log out</button></form>";
  p += "<p class=\"merchant\">If you did not ask for this, close this window: you stay logged in.</p>";
  p += kTail;
  return p;
}

std::string logged_out_page(const PageContext& ctx) {
  std::string p = head(ctx, "Logged out");
  p += "<h1>You are logged out</h1><p role=\"status\">The next login in this browser asks for your email again.";
  p += "</p><p class=\"merchant\">You can close this window.</p>";
  p += kTail;
  return p;
}

std::string error_page(const PageContext& ctx, std::string_view title, std::string_view message,
                       std::string_view back_url, std::string_view back_label) {
  std::string p = head(ctx, title);
  p += "<h1>" + html_escape(title) + "</h1><p role=\"alert\">" + html_escape(message) + "</p>";
  if (!back_url.empty())
    p += "<a class=\"button\" id=\"back\" href=\"" + html_escape(back_url) + "\">" + html_escape(back_label) + "</a>";
  else
    p += "<p class=\"merchant\">Go back to the site you came from and start again.</p>";
  p += kTail;
  return p;
}

std::string web_message_page(const PageContext& ctx, std::string_view origin_json, std::string_view json) {
  const std::string& nonce = ctx.nonce;
  std::string p = head(ctx, "Logging in");
  p += "<h1>Done</h1><p role=\"status\">You can close this window.</p>";
  // Only the registered origin may receive the result; never "*".
  p += "<script nonce=\"" + nonce + "\">(function(){var d=" + script_safe_json(json) +
       ";var o=" + script_safe_json(origin_json) +
       ";var t=window.opener||(window.parent!==window?window.parent:null);if(t){t.postMessage(d,o);}"
       "if(window.opener){window.close();}})();</script>";
  p += kTail;
  return p;
}

}  // namespace boltauth::core::authorize
