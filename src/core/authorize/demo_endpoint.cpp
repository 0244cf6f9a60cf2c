#include "core/authorize/demo_endpoint.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "base/base64url.hpp"
#include "base/constant_time.hpp"
#include "core/authorize/authorize_endpoint.hpp"
#include "core/authorize/pages.hpp"
#include "crypto/digest.hpp"
#include "protocol/form.hpp"

namespace boltauth::core::authorize {
namespace {

constexpr std::string_view kCookie = "boltauth_demo";
constexpr std::string_view kScope = "openid email bolt.account.manage bolt.account.view";

std::string pretty(const boost::json::value& v, int indent = 0) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string pad_in(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) return "{}";
    std::string out = "{\n";
    bool first = true;
    for (const auto& [k, val] : o) {
      if (!first) out += ",\n";
      first = false;
      out += pad_in + boost::json::serialize(boost::json::string(k)) + ": " + pretty(val, indent + 1);
    }
    return out + "\n" + pad + "}";
  }
  return boost::json::serialize(v);
}

// The payload or header of a JWS, as JSON text; empty when it does not decode.
std::string decode_part(std::string_view jwt, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) {
    start = jwt.find('.', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  const auto end = jwt.find('.', start);
  const auto bytes =
      base::base64url_decode(jwt.substr(start, end == std::string_view::npos ? jwt.size() - start : end - start));
  if (!bytes) return {};
  boost::system::error_code ec;
  auto v = boost::json::parse(crypto::as_view(*bytes), ec);
  if (ec) return {};
  return pretty(v);
}

Response demo_page(base::Random& random, int status, const std::string& title, const std::string& inner) {
  const std::string nonce = random.token(16);
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>" +
      html_escape(title) + "</title><style nonce=\"" + nonce +
      "\">body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}"
      "pre{background:#f4f5f7;padding:1rem;overflow:auto;border-radius:8px;white-space:pre-wrap;"
      "word-break:break-all}a.button{display:inline-block;padding:.75rem 1.25rem;background:#3a3aff;"
      "color:#fff;border-radius:8px;text-decoration:none;font-weight:600}.ok{color:#1d5b2a}.bad{color:#b00020}"
      "</style></head><body><main>" +
      inner + "</main></body></html>\n";
  r.with_header("Content-Security-Policy", "default-src 'none'; style-src 'nonce-" + nonce +
                                               "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
      .with_header("X-Frame-Options", "DENY")
      .with_header("Referrer-Policy", "no-referrer")
      .with_header("Cache-Control", "no-store");
  return r;
}

}  // namespace

Response DemoEndpoint::start(const Request& request) {
  if (d_.config.mode != Mode::sandbox) return demo_page(d_.random, 404, "Not found", "<h1>Not found</h1>");
  if (request.method != "GET" && request.method != "HEAD")
    return demo_page(d_.random, 405, "Method not allowed", "<h1>Use GET</h1>").with_header("Allow", "GET");
  const auto client = d_.credentials();
  if (!client)
    return demo_page(d_.random, 503, "Demo unavailable",
                     "<h1>Demo unavailable</h1><p>This server has no demo client. A sandbox server creates it at start "
                     "(on PostgreSQL: on a database without clients).</p>");
  // What a merchant's server does: fresh PKCE verifier, state and nonce, kept in its own session cookie.
  const std::string verifier = d_.random.token(32);
  const std::string state = d_.random.token(16);
  const std::string nonce = d_.random.token(16);
  const std::string challenge = base::base64url_encode(crypto::sha256(verifier));
  const std::string redirect_uri = d_.config.issuer + "/demo/callback";
  const std::string url =
      d_.config.issuer +
      "/v1/oauth/authorize?response_type=code&client_id=" + protocol::form_encode(client->client_id) +
      "&redirect_uri=" + protocol::form_encode(redirect_uri) + "&scope=" + protocol::form_encode(kScope) +
      "&state=" + state + "&nonce=" + nonce + "&code_challenge=" + challenge + "&code_challenge_method=S256";
  Response r = demo_page(
      d_.random, 200, "Demo merchant",
      "<h1>Demo merchant</h1><p>A sandbox shop that uses boltauth to log shoppers in: authorization code flow with "
      "PKCE, the code exchanged on the shop's server, then the token response and the id_token shown below.</p>"
      "<p><a class=\"button\" id=\"login\" href=\"" +
          html_escape(url) +
          "\">Log in with Bolt</a></p><p>Any email works: the one-time code lands in "
          "<code>&lt;data dir&gt;/outbox/otp.jsonl</code> (or use a sandbox test shopper's fixed "
          "<code>otp_code</code>).</p>");
  r.with_header("Set-Cookie", std::string(kCookie) + "=" + state + "." + verifier + "." + nonce +
                                  "; Path=/demo; Max-Age=1800; HttpOnly; SameSite=Lax");
  return r;
}

Response DemoEndpoint::callback(const Request& request) {
  if (d_.config.mode != Mode::sandbox) return demo_page(d_.random, 404, "Not found", "<h1>Not found</h1>");
  if (request.method != "GET")
    return demo_page(d_.random, 405, "Method not allowed", "<h1>Use GET</h1>").with_header("Allow", "GET");
  const auto client = d_.credentials();
  auto parsed = protocol::parse_form(request.query, 32);
  const auto cookie = find_cookie(request, kCookie);
  if (!client || !parsed.params || !cookie)
    return demo_page(d_.random, 400, "Demo", "<h1>Start again</h1><p><a href=\"../demo\">Back to the demo</a></p>");
  const auto& q = *parsed.params;
  const std::string_view c = *cookie;
  const auto dot1 = c.find('.');
  const auto dot2 = c.find('.', dot1 == std::string_view::npos ? c.size() : dot1 + 1);
  if (dot1 == std::string_view::npos || dot2 == std::string_view::npos)
    return demo_page(d_.random, 400, "Demo", "<h1>Start again</h1><p><a href=\"../demo\">Back to the demo</a></p>");
  const std::string state(c.substr(0, dot1));
  const std::string verifier(c.substr(dot1 + 1, dot2 - dot1 - 1));
  const std::string nonce(c.substr(dot2 + 1));
  std::string checks;
  // RFC 6749 section 10.12 (state) and RFC 9207 (iss): the checks a merchant makes before redeeming.
  if (q.get("state").value_or("") != state)
    return demo_page(d_.random, 400, "Demo",
                     "<h1 class=\"bad\">state mismatch</h1><p><a href=\"../demo\">Start again</a></p>");
  if (q.get("iss").value_or("") != d_.config.issuer)
    return demo_page(d_.random, 400, "Demo",
                     "<h1 class=\"bad\">iss mismatch</h1><p><a href=\"../demo\">Start again</a></p>");
  if (const auto err = q.get("error"))
    return demo_page(d_.random, 400, "Demo",
                     "<h1 class=\"bad\">Login failed: " + html_escape(*err) + "</h1><p>" +
                         html_escape(q.get("error_description").value_or("")) +
                         "</p><p><a href=\"../demo\">Start again</a></p>");
  const auto code = q.get("code");
  if (!code) return demo_page(d_.random, 400, "Demo", "<h1 class=\"bad\">No code</h1>");

  Request token;
  token.method = "POST";
  token.path = "/v1/oauth/token";
  token.remote_address = "127.0.0.1";
  token.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  token.body = "grant_type=authorization_code&code=" + protocol::form_encode(*code) +
               "&client_id=" + protocol::form_encode(client->client_id) +
               "&client_secret=" + protocol::form_encode(client->client_secret) +
               "&redirect_uri=" + protocol::form_encode(d_.config.issuer + "/demo/callback") +
               "&code_verifier=" + protocol::form_encode(verifier) + "&scope=" + protocol::form_encode(kScope) +
               "&state=" + protocol::form_encode(state);
  const Response res = d_.token(token);
  boost::system::error_code ec;
  const auto body = boost::json::parse(res.body, ec);
  std::string inner = "<h1>" + std::string(res.status == 200 ? "Logged in" : "Token request failed") + "</h1>";
  inner += "<h2>OAuthTokenResponse (HTTP " + std::to_string(res.status) + ")</h2><pre id=\"token-response\">" +
           html_escape(ec ? res.body : pretty(body)) + "</pre>";
  if (!ec && body.is_object() && body.as_object().contains("id_token") && body.at("id_token").is_string()) {
    const std::string jwt(body.at("id_token").as_string());
    const std::string payload = decode_part(jwt, 1);
    inner += "<h2>id_token header</h2><pre id=\"id-token-header\">" + html_escape(decode_part(jwt, 0)) + "</pre>";
    inner += "<h2>id_token payload</h2><pre id=\"id-token-payload\">" + html_escape(payload) + "</pre>";
    const bool nonce_ok = payload.find("\"nonce\": \"" + nonce + "\"") != std::string::npos;
    inner += std::string("<p class=\"") + (nonce_ok ? "ok\">nonce matches" : "bad\">nonce does not match") + "</p>";
  }
  inner += "<p><a href=\"../demo\">Log in again</a></p>";
  Response r = demo_page(d_.random, res.status == 200 ? 200 : 502, "Demo merchant", inner);
  r.with_header("Set-Cookie", std::string(kCookie) + "=; Path=/demo; Max-Age=0; HttpOnly; SameSite=Lax");
  return r;
}

}  // namespace boltauth::core::authorize
