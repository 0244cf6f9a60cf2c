#include "core/authorize/authorize_endpoint.hpp"

#include <strings.h>

#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "base/constant_time.hpp"
#include "core/authorize/pages.hpp"
#include "core/checks.hpp"
#include "crypto/jws.hpp"
#include "protocol/error_code.hpp"
#include "protocol/form.hpp"
#include "protocol/scope.hpp"

namespace boltauth::core::authorize {
namespace {

using checks::valid_pkce_string;  // RFC 7636 section 4.2
using protocol::ErrorCode;
using protocol::OAuthError;

// A refusal that goes back to the client on its redirect URI, with this error_description.
OAuthError refusal(ErrorCode code, std::string_view description) {
  return OAuthError{code, std::string(description), {}};
}

bool is_form_content_type(std::optional<std::string_view> value) {
  if (!value) return false;
  std::string_view v = value->substr(0, value->find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  return v.size() == 33 && ::strncasecmp(v.data(), "application/x-www-form-urlencoded", 33) == 0;
}

// scheme://authority of an absolute http(s) URI (registered URIs are validated at registration).
std::string origin_of(std::string_view uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto end = uri.find_first_of("/?", scheme_end + 3);
  return std::string(uri.substr(0, end));
}

// Where cookies live: the issuer's path (reverse-proxy prefix) followed by /v1/oauth.
std::string cookie_path(const std::string& issuer) {
  const auto scheme_end = issuer.find("://");
  const auto slash = scheme_end == std::string::npos ? std::string::npos : issuer.find('/', scheme_end + 3);
  return (slash == std::string::npos ? std::string() : issuer.substr(slash)) + "/v1/oauth";
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool requests_openid(const protocol::FormParams& params) {
  const auto scope = params.get("scope");
  if (!scope) return false;
  const auto parsed = protocol::parse_scope(*scope);
  return parsed.scope && parsed.scope->has(protocol::ScopeToken::openid);
}

constexpr std::size_t kMaxState = 4096;

// RFC 6454 section 6.1: scheme "://" host [":" port], without the path; a default port is omitted.
std::string issuer_origin(std::string_view issuer) {
  const auto scheme_end = issuer.find("://");
  if (scheme_end == std::string_view::npos) return std::string(issuer);
  auto origin = issuer.substr(0, issuer.find('/', scheme_end + 3));
  const std::string_view scheme = issuer.substr(0, scheme_end);
  const std::string_view default_port = scheme == "https" ? ":443" : ":80";
  if (origin.size() > default_port.size() && origin.substr(origin.size() - default_port.size()) == default_port)
    origin.remove_suffix(default_port.size());
  return std::string(origin);
}
constexpr std::size_t kMaxNonce = 512;

// Whether browsers keep a Secure cookie from this issuer: https, or a loopback host, which browsers treat as a
// secure context over http (W3C Secure Contexts section 3.2).
bool secure_cookie_issuer(std::string_view issuer) {
  if (issuer.rfind("https://", 0) == 0) return true;
  if (issuer.rfind("http://", 0) != 0) return false;
  std::string_view authority = issuer.substr(7);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.rfind("[::1]", 0) == 0) return true;
  const std::string_view host = authority.substr(0, authority.find(':'));
  const bool localhost = host == "localhost" || (host.size() > 10 && host.substr(host.size() - 10) == ".localhost");
  return localhost || host.rfind("127.", 0) == 0;
}

}  // namespace

std::optional<std::string> find_cookie(const Request& request, std::string_view name) {
  for (const auto& [k, v] : request.headers) {
    if (k != "cookie") continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

/// One request's worth of work: the shared headers, the redirect or web_message answer, the pages.
class Flow {
 public:
  Flow(AuthorizeEndpoint& e, const Request& request)
      : e_(e), d_(e.d_), request_(request), now_(d_.clock.now()), nonce_(d_.random.token(16)) {}

  // --- GET/POST /v1/oauth/authorize --------------------------------------------------------------------
  // Checklist C1, C2: the client and the redirect URI come first, and until both are known to be safe every failure
  // is a page; after them errors go back to the client (RFC 6749 section 4.1.2.1).
  Response authorize() {
    if (auto refused = read_params()) return std::move(*refused);
    if (auto refused = find_client()) return std::move(*refused);
    if (auto refused = choose_redirect_uri()) return std::move(*refused);
    if (auto err = check_state()) return redirect_error(*err);
    if (auto err = check_response_mode()) return redirect_error(*err);
    if (auto err = check_response_type()) return redirect_error(*err);
    if (auto err = check_scope()) return redirect_error(*err);
    if (auto err = check_nonce()) return redirect_error(*err);
    if (auto err = check_pkce()) return redirect_error(*err);
    if (auto err = check_prompt()) return redirect_error(*err);
    if (auto err = check_max_age()) return redirect_error(*err);
    if (auto err = check_id_token_hint()) return redirect_error(*err);
    return reuse_session_or_start_login();
  }

  // --- GET /v1/oauth/login: the page of a login's current step (where every login form redirects) ---------
  Response login_page() {
    auto parsed = protocol::parse_form(request_.query, d_.config.max_form_params);
    if (!parsed.params) return page_error(400, "Invalid request", "The request is malformed.");
    params_ = std::move(*parsed.params);
    std::string handle;
    if (auto err = bind_pending(handle)) return std::move(*err);
    PageContext ctx = page_context(handle);
    ctx.email = pending_.email;
    const std::string message(params_.get("m").value_or(""));
    int status = 200;
    std::optional<std::int64_t> retry_after;
    const auto fail = [&](int s, std::string text, std::optional<std::int64_t> retry = std::nullopt) {
      status = s;
      ctx.error = std::move(text);
      retry_after = retry;
    };
    if (message == "throttled") fail(429, "Too many codes were requested. Try again later.", 3600);
    if (message == "undeliverable") fail(503, "We could not send the code right now. Try again in a moment.", 30);
    const bool email_step =
        pending_.otp_hash.empty() || params_.get("step") == std::optional<std::string_view>("email");
    if (email_step) {
      if (message == "email") fail(400, "Enter a valid email address, like name@example.com.");
    } else if (message == "sent") {
      ctx.notice = "We sent a new code.";
    } else if (message == "wait") {
      if (const auto wait = pending_.otp_sent_at + d_.config.otp_resend_cooldown - now_; wait > 0)
        fail(429, "Please wait " + std::to_string(wait) + " seconds before asking for a new code.", wait);
    } else if (message == "ip") {
      fail(429, "Too many attempts from your network. Try again later.", 3600);
    } else if (message == "format") {
      fail(400, "Enter the 6 digits of the code.");
    } else if (message == "spent") {
      fail(400, pending_.otp_expires_at <= now_ ? "This code has expired. Ask for a new code."
                                                : "Too many wrong codes. Ask for a new code.");
    } else if (message == "wrong") {
      const auto left = d_.config.otp_max_attempts - pending_.attempts;
      fail(400, left > 0 ? "That code is not right. " + std::to_string(left) +
                               (left == 1 ? " attempt left." : " attempts left.")
                         : "That code is not right. Ask for a new code.");
    }
    Response r = page(status, email_step ? email_page(ctx) : otp_page(ctx));
    if (retry_after) r.with_header("Retry-After", std::to_string(*retry_after));
    return r;
  }

  // --- POST /v1/oauth/login-continue: "Continue as <email>" on the session's shopper ------------------------
  Response login_continue() {
    std::string handle;
    if (auto err = load_pending(handle)) return std::move(*err);
    PageContext ctx = page_context(handle);
    // The session may have ended since the page was shown (logout in another tab, expiry): log in instead.
    const auto session = current_session();
    if (!session) return to_step(ctx.login, "email", "");
    if (!d_.logins.consume_request(pending_.id_hash, pending_.otp_hash))
      return page_error(400, "Login already finished", "This login was already completed.");
    return complete(pending_, session->sub, session->auth_time);
  }

  // --- POST /v1/oauth/login-email ------------------------------------------------------------------------
  Response login_email() {
    std::string handle;
    if (auto err = load_pending(handle)) return std::move(*err);
    PageContext ctx = page_context(handle);
    if (params_.get("not_me")) {
      // "Not you?" on the session's shopper: that session ends here, and the login asks who is there.
      Response r = to_step(handle, "email", "");
      if (const auto session_handle = find_cookie(request_, AuthorizeEndpoint::kSessionCookie)) {
        d_.logins.delete_session(d_.minter.storage_hash(*session_handle));
        r.with_header("Set-Cookie", cookie(AuthorizeEndpoint::kSessionCookie, "", 0));
      }
      return r;
    }
    if (params_.get("change")) return to_step(handle, "email", "");
    const auto input = params_.get("email");
    const auto email = input ? ClientRegistry::normalize_email(*input) : std::nullopt;
    if (!email) return to_step(handle, "email", "email");
    ctx.email = *email;
    // A double submit of the same address within the cool-down does not send a second code.
    if (pending_.email == *email && !pending_.otp_hash.empty() &&
        now_ - pending_.otp_sent_at < d_.config.otp_resend_cooldown && pending_.otp_expires_at > now_)
      return to_step(handle, "", "");
    return send_code(ctx, /*from_email_page=*/true);
  }

  // --- POST /v1/oauth/login-resend -----------------------------------------------------------------------
  Response login_resend() {
    std::string handle;
    if (auto err = load_pending(handle)) return std::move(*err);
    PageContext ctx = page_context(handle);
    ctx.email = pending_.email;
    if (pending_.email.empty()) return to_step(handle, "email", "");
    if (pending_.otp_sent_at + d_.config.otp_resend_cooldown - now_ > 0) return to_step(handle, "", "wait");
    return send_code(ctx, /*from_email_page=*/false);
  }

  // --- POST /v1/oauth/login-otp --------------------------------------------------------------------------
  Response login_otp() {
    std::string handle;
    if (auto err = load_pending(handle)) return std::move(*err);
    if (pending_.otp_hash.empty()) return to_step(handle, "email", "");
    if (!e_.attempts_per_ip_.allow(request_.remote_address, now_)) return to_step(handle, "", "ip");
    const std::string otp = trim(params_.get("otp").value_or(""));
    if (otp.size() != 6 || !all_digits(otp)) return to_step(handle, "", "format");
    // Checklist C10: at most otp_max_attempts guesses per code, counted atomically before comparing.
    if (!d_.logins.claim_attempt(pending_.id_hash, pending_.otp_hash, now_, d_.config.otp_max_attempts))
      return to_step(handle, "", "spent");
    auto account = d_.accounts.find_by_email(pending_.email);
    bool match = base::constant_time_equal(d_.minter.storage_hash(otp_material(otp)), pending_.otp_hash);
    // Sandbox test accounts also log in with their fixed code (contract section 8).
    if (!match && d_.config.mode == Mode::sandbox && account) match = d_.registry.fixed_otp_matches(*account, otp);
    // The same answer whether or not the address has an account.
    if (!match) return to_step(handle, "", "wrong");
    if (!d_.logins.consume_request(pending_.id_hash, pending_.otp_hash))
      return page_error(400, "Login already finished", "This login was already completed.");

    if (!account) {
      // Bolt creates the account at the first login; the code just proved the address (email_verified).
      AccountSpec spec;
      spec.email = pending_.email;
      spec.email_verified = true;
      auto created = d_.registry.create_account(spec);
      if (auto* a = std::get_if<model::Account>(&created))
        account = *a;
      else
        account = d_.accounts.find_by_email(pending_.email);  // created concurrently by another login
      if (!account) throw std::runtime_error("account creation failed for a verified email");
    } else if (!account->email_verified) {
      d_.logins.mark_email_verified(account->sub, now_);
    }
    if (account->deactivate_at && *account->deactivate_at <= now_)
      return redirect_error(refusal(ErrorCode::access_denied, "This account is deactivated."));

    // The login session: a second authorization in this browser skips the login.
    const std::string session_handle = d_.random.token(32);
    d_.logins.insert_session(
        model::LoginSession{d_.minter.storage_hash(session_handle), account->sub, now_, now_ + d_.config.session_ttl});
    Response r = complete(pending_, account->sub, now_);
    r.with_header("Set-Cookie", cookie(AuthorizeEndpoint::kSessionCookie, session_handle, d_.config.session_ttl));
    return r;
  }

  // --- GET/POST /v1/oauth/logout: OpenID Connect RP-Initiated Logout 1.0 --------------------------------------
  Response logout() {
    if (auto refused = read_params()) return std::move(*refused);
    const auto& params = params_;

    // Section 2: id_token_hint names the shopper and the merchant (its audience). Expired ones are fine: a
    // relying party typically logs out with the last id_token it has, however old.
    std::optional<std::string> hinted_sub;
    std::optional<model::Client> client;
    if (const auto hint = params.get("id_token_hint")) {
      const auto claims = verified_hint(*hint);
      if (!claims) return page_error(400, "Invalid request", "id_token_hint is not an id_token of this issuer.");
      hinted_sub = std::string(claims->at("sub").as_string());
      client = d_.registry.resolve(hinted_client(*claims));
    }
    if (const auto client_id = params.get("client_id")) {
      auto named = d_.registry.resolve(*client_id);
      if (!named) return page_error(400, "Unknown client", "This merchant is not registered.");
      if (client && client->id != named->id)
        return page_error(400, "Invalid request", "client_id and id_token_hint name different merchants.");
      client = std::move(named);
    }
    // Section 3.1: the browser goes back only to a URI registered for that merchant, compared as exact strings;
    // anything else is a page here, never a redirect (an open redirector otherwise).
    std::string back;
    if (const auto uri = params.get("post_logout_redirect_uri")) {
      if (!client)
        return page_error(400, "Invalid request", "post_logout_redirect_uri needs client_id or id_token_hint.");
      const auto& allowed = client->post_logout_redirect_uris;
      if (std::find(allowed.begin(), allowed.end(), *uri) == allowed.end())
        return page_error(400, "Invalid post-logout redirect URI",
                          "The post_logout_redirect_uri is not registered for this merchant.");
      redirect_uri_ = std::string(*uri);
      state_ = std::string(params.get("state").value_or(""));
      if (state_.size() > kMaxState) return page_error(400, "Invalid request", "state is too long.");
    }
    if (client) client_ = *client;

    const auto handle = find_cookie(request_, AuthorizeEndpoint::kSessionCookie);
    const auto session = current_session();
    // Section 2: a logout request can come from any site (a link, an image); unless the id_token_hint proves the
    // merchant of this very shopper sent it, the shopper is asked first, on a form only our own page can post.
    const bool confirmed = request_.method == "POST" && params.get("confirm") && same_origin_post();
    if (session && !confirmed && !(hinted_sub && *hinted_sub == session->sub)) {
      std::vector<std::pair<std::string, std::string>> fields{{"confirm", "1"}};
      if (client) fields.emplace_back("client_id", client->id);
      if (!redirect_uri_.empty()) fields.emplace_back("post_logout_redirect_uri", redirect_uri_);
      if (!state_.empty()) fields.emplace_back("state", state_);
      PageContext ctx = base_context();
      ctx.client_name = client ? client->name : std::string();
      return page(200, logout_confirm_page(ctx, fields));
    }
    // The session ends on this server (every node shares the store), and the cookie goes.
    if (handle) {
      d_.logins.delete_session(d_.minter.storage_hash(*handle));
    }
    Response r;
    if (!redirect_uri_.empty()) {
      r = redirect({{"state", state_}});
    } else if (request_.method == "POST") {
      // POST-redirect-GET: the "logged out" page is a GET of this endpoint, which reload cannot turn into a post.
      r.status = 303;
      r.content_type = "text/html; charset=utf-8";
      security_headers(r, false);
      r.with_header("Location", "logout");
    } else {
      PageContext ctx = base_context();
      ctx.client_name = client ? client->name : std::string();
      r = page(200, logged_out_page(ctx));
    }
    if (handle) r.with_header("Set-Cookie", cookie(AuthorizeEndpoint::kSessionCookie, "", 0));
    return r;
  }

 private:
  // --- authorize steps, in order: each establishes one part of pending_ (or of the members below it) -----------

  // RFC 6749 section 3.1, OIDC Core section 3.1.2.1: the parameters of a GET query or a POSTed form, each at most
  // once, into params_; else a page. Logout reads its request the same way (RP-Initiated Logout 1.0 section 2).
  std::optional<Response> read_params() {
    // No HEAD: both endpoints have side effects (a pending login, a code with a session, an ended session), which
    // link scanners and prefetchers must not trigger.
    if (request_.method != "GET" && request_.method != "POST")
      return page_error(405, "Method not allowed", "Use GET or POST.").with_header("Allow", "GET, POST");
    std::string_view raw = request_.query;
    if (request_.method == "POST") {
      if (!is_form_content_type(request_.header("content-type")))
        return page_error(400, "Invalid request", "The form must be application/x-www-form-urlencoded.");
      raw = request_.body;
    }
    auto parsed = protocol::parse_form(raw, d_.config.max_form_params);
    // Before the redirect URI is known to be safe nothing may redirect, so this is a page.
    if (!parsed.params)
      return page_error(400, "Invalid request",
                        parsed.error == protocol::FormError::duplicate ? "A parameter appears more than once."
                                                                       : "The request is malformed.");
    params_ = std::move(*parsed.params);
    return std::nullopt;
  }

  // RFC 6749 section 4.1.2.1 (checklist C1): client_id names a client registered for the code grant; else a page.
  std::optional<Response> find_client() {
    const auto client_id = params_.get("client_id");
    if (!client_id) return page_error(400, "Invalid request", "The request names no client (client_id).");
    auto client = d_.registry.resolve(*client_id);
    if (!client || !client->allows_grant("authorization_code"))
      return page_error(400, "Unknown client", "This merchant is not registered for logins.");
    client_ = std::move(*client);
    pending_.client_id = client_.id;
    return std::nullopt;
  }

  // RFC 6749 section 3.1.2.3, RFC 9700 section 2.1, OIDC Core section 3.1.2.1 (checklist C2): a registered
  // redirect URI, compared as a plain string with no normalization; else a page, never a redirect.
  std::optional<Response> choose_redirect_uri() {
    const auto redirect_uri = params_.get("redirect_uri");
    if (redirect_uri) {
      bool registered = false;
      for (const auto& u : client_.redirect_uris) registered = registered || u == *redirect_uri;
      if (!registered)
        return page_error(400, "Invalid redirect URI", "The redirect_uri is not registered for this merchant.");
      redirect_uri_ = std::string(*redirect_uri);
    } else if (requests_openid(params_)) {
      // OpenID Connect makes redirect_uri REQUIRED, even with a single one registered.
      return page_error(400, "Invalid request", "redirect_uri is required for an OpenID Connect request.");
    } else if (client_.redirect_uris.size() == 1) {
      redirect_uri_ = client_.redirect_uris.front();
    } else {
      return page_error(400, "Invalid request",
                        client_.redirect_uris.empty() ? "This merchant has no registered redirect URI."
                                                      : "redirect_uri is required: this merchant registered several.");
    }
    pending_.redirect_uri = redirect_uri_;
    pending_.redirect_uri_given = redirect_uri.has_value();
    return std::nullopt;
  }

  // RFC 6749 section 4.1.2: state comes back on every answer; one longer than kMaxState is refused, without it.
  std::optional<OAuthError> check_state() {
    state_ = std::string(params_.get("state").value_or(""));
    if (state_.size() > kMaxState) {
      state_.clear();  // never echoed: the error goes back without it
      return refusal(ErrorCode::invalid_request, "state is too long.");
    }
    pending_.state = state_;
    return std::nullopt;
  }

  // OAuth 2.0 Multiple Response Type Encoding Practices section 2.1: response_mode is query (the default) or Bolt's
  // web_message.
  std::optional<OAuthError> check_response_mode() {
    const auto mode = params_.get("response_mode");
    web_message_ = mode && *mode == "web_message";
    if (mode && *mode != "query" && *mode != "web_message")
      return refusal(ErrorCode::invalid_request, "response_mode must be query or web_message.");
    pending_.response_mode = web_message_ ? "web_message" : "query";
    return std::nullopt;
  }

  // RFC 6749 sections 3.1.1 and 4.1.2.1: response_type is required, and only `code` is supported.
  std::optional<OAuthError> check_response_type() {
    const auto response_type = params_.get("response_type");
    if (!response_type) return refusal(ErrorCode::invalid_request, "response_type is required.");
    if (*response_type != "code")
      return refusal(ErrorCode::unsupported_response_type, "Only response_type=code is supported.");
    return std::nullopt;
  }

  // RFC 6749 section 3.3: there is no default scope, so one is required, and every value in it must be known.
  std::optional<OAuthError> check_scope() {
    const auto scope_text = params_.get("scope");
    if (!scope_text) return refusal(ErrorCode::invalid_scope, "scope is required.");
    const auto scope = protocol::parse_scope(*scope_text);
    if (!scope.scope || scope.scope->empty())
      return refusal(ErrorCode::invalid_scope, "The scope is unknown or malformed.");
    pending_.scope = scope.scope->to_string();
    return std::nullopt;
  }

  // OIDC Core section 3.1.2.1: nonce is optional and goes into the id_token; one longer than kMaxNonce is refused.
  std::optional<OAuthError> check_nonce() {
    const auto nonce = params_.get("nonce");
    if (nonce && nonce->size() > kMaxNonce) return refusal(ErrorCode::invalid_request, "nonce is too long.");
    pending_.nonce = std::string(nonce.value_or(""));
    return std::nullopt;
  }

  // RFC 7636 section 4.3 and RFC 9700 section 2.1.1: S256 only; `plain` (also the default method) is refused.
  std::optional<OAuthError> check_pkce() {
    const auto challenge = params_.get("code_challenge");
    const auto method = params_.get("code_challenge_method");
    if (method && *method != "S256") return refusal(ErrorCode::invalid_request, "code_challenge_method must be S256.");
    if (challenge && !method) return refusal(ErrorCode::invalid_request, "code_challenge_method=S256 is required.");
    if (method && !challenge) return refusal(ErrorCode::invalid_request, "code_challenge is missing.");
    if (challenge && !valid_pkce_string(*challenge))
      return refusal(ErrorCode::invalid_request, "code_challenge must be 43 to 128 unreserved characters.");
    if (!challenge && client_.pkce_required)
      return refusal(ErrorCode::invalid_request, "This merchant requires PKCE (code_challenge with S256).");
    pending_.code_challenge = std::string(challenge.value_or(""));
    return std::nullopt;
  }

  // OIDC Core section 3.1.2.1: prompt is a space-separated list in which `none` stands alone. Unknown values and
  // display, ui_locales, login_hint, acr_values never cause errors (checklist C7).
  std::optional<OAuthError> check_prompt() {
    std::size_t prompt_count = 0;
    if (const auto prompt = params_.get("prompt")) {
      std::string_view rest = *prompt;
      while (!rest.empty()) {
        const auto sp = rest.find(' ');
        const auto v = rest.substr(0, sp);
        rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        if (v.empty()) continue;
        ++prompt_count;
        prompt_none_ = prompt_none_ || v == "none";
        prompt_login_ = prompt_login_ || v == "login";
      }
    }
    if (prompt_none_ && prompt_count > 1)
      return refusal(ErrorCode::invalid_request, "prompt=none cannot be combined with other values.");
    return std::nullopt;
  }

  // OIDC Core section 3.1.2.1: max_age is a whole number of seconds (nine digits at most).
  std::optional<OAuthError> check_max_age() {
    if (const auto m = params_.get("max_age")) {
      if (!all_digits(*m) || m->size() > 9)
        return refusal(ErrorCode::invalid_request, "max_age must be a number of seconds.");
      max_age_ = std::stoll(std::string(*m));
    }
    return std::nullopt;
  }

  // OIDC Core section 3.1.2.1: id_token_hint names the shopper the client expects, and must be an id_token this
  // issuer signed (expired ones are fine: the hint is about who, not about when).
  std::optional<OAuthError> check_id_token_hint() {
    if (const auto hint = params_.get("id_token_hint")) {
      hinted_sub_ = verified_hint_subject(*hint);
      if (!hinted_sub_) return refusal(ErrorCode::invalid_request, "id_token_hint is not an id_token of this issuer.");
    }
    return std::nullopt;
  }

  // OIDC Core sections 3.1.2.3 and 3.1.2.6: a live session answers at once for prompt=none or the shopper the
  // id_token_hint names, else is offered ("Continue as <email>", with "Not you?"); prompt=login and max_age pass
  // it over; prompt=none with no session that may answer is login_required.
  Response reuse_session_or_start_login() {
    Response r;
    auto session = current_session();
    if (session && hinted_sub_ && *hinted_sub_ != session->sub) {
      // Another shopper is logged in here: never a code for the session's shopper. prompt=none cannot ask, so
      // it answers login_required; otherwise the session ends and the login asks who is there.
      if (prompt_none_) return redirect_error(refusal(ErrorCode::login_required, "Another shopper is logged in."));
      d_.logins.delete_session(session->id_hash);
      r.with_header("Set-Cookie", cookie(AuthorizeEndpoint::kSessionCookie, "", 0));
      session.reset();
    }
    // max_age=0 means "log in now" (OIDC Core section 3.1.2.1), like prompt=login.
    const bool too_old = session && max_age_ && (*max_age_ == 0 || now_ - session->auth_time > *max_age_);
    if (prompt_login_ || too_old) session.reset();  // passed over: neither answers nor is offered
    if (session && (prompt_none_ || (hinted_sub_ && *hinted_sub_ == session->sub)))
      return complete(pending_, session->sub, session->auth_time);
    if (prompt_none_) return redirect_error(refusal(ErrorCode::login_required, "The shopper is not logged in."));
    return start_login(std::move(r), session);
  }

  // RFC 6749 section 10.12, RFC 9700 section 4.7: stores the pending login, bound to this browser, and shows its
  // first page: "Continue as <email>" for the `offered` session's shopper, else the email form.
  Response start_login(Response r, const std::optional<model::LoginSession>& offered) {
    const std::string login_handle = d_.random.token(32);
    pending_.id_hash = d_.minter.storage_hash(login_handle);
    pending_.created_at = now_;
    pending_.expires_at = now_ + d_.config.login_request_ttl;
    bind_to_browser(r);
    d_.logins.insert_request(pending_);
    PageContext ctx = page_context(login_handle);
    if (offered) {
      if (const auto account = d_.accounts.find(offered->sub)) {
        ctx.email = account->email;
        return finish_page(std::move(r), 200, continue_page(ctx));
      }
    }
    if (const auto hint = params_.get("login_hint"); hint && hint->size() <= 254) ctx.email = std::string(*hint);
    return finish_page(std::move(r), 200, email_page(ctx));
  }

  // Login CSRF (RFC 6749 section 10.12; RFC 9700 section 4.7): the later steps need this browser's cookie, so a
  // leaked handle and code cannot finish the login from another cookie jar.
  void bind_to_browser(Response& r) {
    // A cross-site iframe (web_message) gets no SameSite=Lax cookie, so that mode uses a partitioned
    // SameSite=None cookie (CHIPS), which browsers keep only when Secure: an https issuer, or loopback where
    // browsers accept Secure cookies over http. Elsewhere a web_message login stays unbound.
    if (web_message_ && !secure_cookie_issuer(d_.config.issuer)) return;
    const auto name = web_message_ ? AuthorizeEndpoint::kLoginCookie : AuthorizeEndpoint::kBrowserCookie;
    auto browser = find_cookie(request_, name);
    if (!browser || browser->size() < 32 || browser->size() > 64) browser = d_.random.token(32);
    // Set again each time: the cookie must outlive this pending login.
    r.with_header("Set-Cookie",
                  web_message_ ? login_cookie(*browser) : cookie(name, *browser, d_.config.login_request_ttl));
    pending_.browser_hash = d_.minter.storage_hash(*browser);
  }

  // --- pieces ----------------------------------------------------------------------------------------------

  // Parses the login form and loads the pending login it names; a Response when that fails.
  std::optional<Response> load_pending(std::string& handle) {
    if (auto refused = read_login_form()) return refused;
    return bind_pending(handle);
  }

  std::optional<Response> read_login_form() {
    if (request_.method != "POST")
      return page_error(405, "Method not allowed", "Use POST.").with_header("Allow", "POST");
    if (!is_form_content_type(request_.header("content-type")))
      return page_error(400, "Invalid request", "The form must be application/x-www-form-urlencoded.");
    // Login CSRF (RFC 6749 section 10.12, RFC 9700 section 4.7): the login forms post only from our own pages,
    // so another site cannot post its own login handle and code from the shopper's browser and plant the
    // attacker's session there. Every current browser sends `Sec-Fetch-Site`, which decides when present. Without
    // it, `Origin` must name the issuer's origin: our pages' `Referrer-Policy: no-referrer` makes browsers send
    // `Origin: null` even for same-origin posts, and `null` cannot be told apart from a sandboxed attacker
    // frame, so it is refused like a post that carries neither header (fail closed).
    if (!same_origin_post())
      return page_error(403, "Forbidden",
                        "This form can only be sent from the login page of this site. Go back to the merchant and "
                        "start the login again.");
    auto parsed = protocol::parse_form(request_.body, d_.config.max_form_params);
    if (!parsed.params) return page_error(400, "Invalid request", "The form is malformed.");
    params_ = std::move(*parsed.params);
    return std::nullopt;
  }

  // The pending login `params_` names, in this browser; a Response when there is none.
  std::optional<Response> bind_pending(std::string& handle) {
    const auto login = params_.get("login");
    std::optional<model::LoginRequest> pending;
    if (login && login->size() <= 64) pending = d_.logins.find_request(d_.minter.storage_hash(*login));
    if (!pending) return page_error(400, "Login expired", "This login has expired or is unknown.");
    if (pending->expires_at <= now_) return expired_page(*pending, "This login took too long and has expired.");
    if (!pending->browser_hash.empty()) {
      const auto browser =
          find_cookie(request_, pending->response_mode == "web_message" ? AuthorizeEndpoint::kLoginCookie
                                                                        : AuthorizeEndpoint::kBrowserCookie);
      if (!browser || !base::constant_time_equal(d_.minter.storage_hash(*browser), pending->browser_hash))
        return expired_page(*pending, "This login was started in another browser.");
    }
    auto client = d_.registry.resolve(pending->client_id);
    if (!client) return page_error(400, "Unknown client", "This merchant is no longer registered.");
    client_ = *client;
    pending_ = *pending;
    redirect_uri_ = pending_.redirect_uri;
    state_ = pending_.state;
    web_message_ = pending_.response_mode == "web_message";
    handle = std::string(*login);
    return std::nullopt;
  }

  // A login that cannot go on but whose merchant is known: the page links back to the merchant's registered
  // redirect URI with an error (RFC 6749 section 4.1.2.1: access_denied), so the shopper is not stranded and the
  // merchant can start a new login. Nothing else travels on that link: no code, no login handle. A web_message
  // login's merchant page is still open behind the popup or around the frame: the page says to go back there.
  Response expired_page(const model::LoginRequest& pending, std::string_view message) {
    auto client = d_.registry.resolve(pending.client_id);
    if (!client) return page_error(400, "Login expired", message);
    const std::string merchant = client->name;
    if (pending.response_mode == "web_message")
      return page_error(400, "Login expired",
                        std::string(message) + " Close this window and start again from " + merchant + ".");
    web_message_ = false;
    client_ = *client;
    redirect_uri_ = pending.redirect_uri;
    state_ = pending.state;
    const std::string back = location({{"error", std::string(protocol::to_string(ErrorCode::access_denied))},
                                       {"error_description", "The login expired before it was finished."},
                                       {"state", state_},
                                       {"iss", d_.config.issuer}});
    return page(400, error_page(base_context(), "Login expired", message, back, "Back to " + merchant));
  }

  bool same_origin_post() const {
    const auto site = request_.header("sec-fetch-site");
    const auto origin = request_.header("origin");
    return site ? *site == "same-origin" : origin && *origin == issuer_origin(d_.config.issuer);
  }

  std::string otp_material(std::string_view otp) const { return "otp:" + pending_.id_hash + ":" + std::string(otp); }

  Response send_code(PageContext& ctx, bool from_email_page) {
    // Checklist C10: per-email and per-IP throttling of sends.
    const std::string_view step = from_email_page ? "email" : "";
    if (!e_.sends_per_email_.allow(ctx.email, now_) || !e_.sends_per_ip_.allow(request_.remote_address, now_))
      return to_step(ctx.login, step, "throttled");
    const std::string code = d_.random.digits(6);
    if (!d_.logins.set_otp(pending_.id_hash, ctx.email, d_.minter.storage_hash(otp_material(code)), now_,
                           now_ + d_.config.otp_ttl))
      return page_error(400, "Login expired", "This login has expired or is unknown.");
    ports::OtpMessage message{ctx.email, code, client_.name, static_cast<int>(d_.config.otp_ttl / 60)};
    std::string error;
    if (!d_.otp_sender.send(message, error)) {
      if (d_.log_error && *d_.log_error) (*d_.log_error)("otp delivery: " + error);
      return to_step(ctx.login, step, "undeliverable");
    }
    return to_step(ctx.login, "", from_email_page ? "" : "sent");
  }

  // POST-redirect-GET: every login form answers 303 to the page of the step it leads to, so back and reload
  // never post a form again (a reloaded guess would spend another attempt). The page is `login?login=HANDLE`
  // (relative: a sibling of the form's path), `step=email` to ask for the address again, `m` one message code
  // of a fixed set (never text from the request). The handle in the URL alone is useless: it is bound to this
  // browser by a cookie, and the access log drops query strings.
  Response to_step(std::string_view handle, std::string_view step, std::string_view message) {
    std::string location = "login?login=" + protocol::form_encode(handle);
    if (!step.empty()) location += "&step=" + std::string(step);
    if (!message.empty()) location += "&m=" + std::string(message);
    Response r;
    r.status = 303;
    r.content_type = "text/html; charset=utf-8";
    security_headers(r, false);
    r.with_header("Location", location);
    return r;
  }

  // The `sub` of an id_token_hint when it is a JWS signed by one of our published keys, naming us as issuer.
  std::optional<std::string> verified_hint_subject(std::string_view hint) {
    const auto claims = verified_hint(hint);
    if (!claims) return std::nullopt;
    return std::string(claims->at("sub").as_string());
  }

  // The claims of an id_token_hint signed by one of our published keys, naming us as issuer and a subject.
  std::optional<boost::json::object> verified_hint(std::string_view hint) {
    const auto ring = d_.keys.ring(now_);
    if (!ring) return std::nullopt;
    auto verified = crypto::verify_jws(hint, ring->jwks());
    if (!verified.claims) return std::nullopt;
    const auto* iss = verified.claims->if_contains("iss");
    const auto* sub = verified.claims->if_contains("sub");
    if (!iss || !iss->is_string() || iss->as_string() != d_.config.issuer) return std::nullopt;
    if (!sub || !sub->is_string() || sub->as_string().empty()) return std::nullopt;
    return std::move(*verified.claims);
  }

  // The client an id_token was issued to: `azp`, else its single audience.
  static std::string hinted_client(const boost::json::object& claims) {
    if (const auto* azp = claims.if_contains("azp"); azp && azp->is_string()) return std::string(azp->as_string());
    const auto* aud = claims.if_contains("aud");
    if (aud && aud->is_string()) return std::string(aud->as_string());
    if (aud && aud->is_array() && aud->as_array().size() == 1 && aud->as_array()[0].is_string())
      return std::string(aud->as_array()[0].as_string());
    return {};
  }

  std::optional<model::LoginSession> current_session() {
    const auto handle = find_cookie(request_, AuthorizeEndpoint::kSessionCookie);
    if (!handle || handle->empty() || handle->size() > 64) return std::nullopt;
    auto session = d_.logins.find_session(d_.minter.storage_hash(*handle));
    if (!session || session->expires_at <= now_) return std::nullopt;
    auto account = d_.accounts.find(session->sub);
    if (!account || (account->deactivate_at && *account->deactivate_at <= now_)) return std::nullopt;
    return session;
  }

  // Mints the code with every binding the token endpoint enforces (contract section 3) and answers.
  Response complete(const model::LoginRequest& p, const std::string& sub, base::UnixSeconds auth_time) {
    model::Grant grant;
    grant.client_id = p.client_id;
    grant.sub = sub;
    grant.scope = p.scope;
    grant.redirect_uri = p.redirect_uri_given ? p.redirect_uri : std::string();
    grant.code_challenge = p.code_challenge;
    grant.nonce = p.nonce;
    grant.state = p.state;
    grant.auth_time = auth_time;
    grant.code_expires_at = now_ + d_.config.code_ttl;
    const std::string code = d_.tokens.issue_code(std::move(grant), now_);
    redirect_uri_ = p.redirect_uri;
    state_ = p.state;
    web_message_ = p.response_mode == "web_message";
    if (web_message_) {
      // Bolt's embedded authorize() result shape.
      // Bolt's fields, plus `iss` (RFC 9207 section 2: every authorization response names its issuer).
      boost::json::object o{
          {"authorizationCode", code}, {"scope", p.scope}, {"state", p.state}, {"iss", d_.config.issuer}};
      return web_message(o);
    }
    return redirect({{"code", code}, {"scope", p.scope}, {"state", p.state}, {"iss", d_.config.issuer}});
  }

  // Checklist C5: error redirects carry only error, error_description, state and iss.
  Response redirect_error(const OAuthError& error) {
    const std::string_view code = protocol::to_string(error.code);
    if (web_message_) {
      boost::json::object o{
          {"error", code}, {"error_description", error.description}, {"state", state_}, {"iss", d_.config.issuer}};
      return web_message(o);
    }
    return redirect({{"error", std::string(code)},
                     {"error_description", error.description},
                     {"state", state_},
                     {"iss", d_.config.issuer}});
  }

  // RFC 6749 section 4.1.2: parameters added to the query of the registered URI (which keeps its own query,
  // checklist C3); RFC 9207: iss on every response. 303 so the browser never re-posts the login form (C8).
  Response redirect(const std::vector<std::pair<std::string, std::string>>& items) {
    Response r;
    r.status = 303;
    r.content_type = "text/html; charset=utf-8";
    security_headers(r, false);
    r.with_header("Location", location(items));
    return r;
  }

  std::string location(const std::vector<std::pair<std::string, std::string>>& items) const {
    std::string location = redirect_uri_;
    char sep = location.find('?') == std::string::npos ? '?' : '&';
    if (location.back() == '?' || location.back() == '&') sep = '\0';
    for (const auto& [k, v] : items) {
      if (k == "state" && v.empty()) continue;
      if (sep) location.push_back(sep);
      sep = '&';
      location += k + "=" + protocol::form_encode(v);
    }
    return location;
  }

  Response web_message(const boost::json::object& payload) {
    const std::string origin = boost::json::serialize(boost::json::string(origin_of(redirect_uri_)));
    Response r = page(200, web_message_page(base_context(), origin, boost::json::serialize(payload)), true);
    return r;
  }

  // What every page shares: the CSP nonce and the service's look.
  PageContext base_context() const {
    PageContext ctx;
    ctx.nonce = nonce_;
    ctx.brand.name = d_.config.brand_name;
    ctx.brand.logo_url = d_.config.brand_logo_url;
    ctx.brand.accent_color = d_.config.brand_accent_color;
    return ctx;
  }

  PageContext page_context(const std::string& handle) const {
    PageContext ctx = base_context();
    ctx.client_name = client_.name;
    ctx.login = handle;
    ctx.valid_minutes = d_.config.otp_ttl / 60;
    return ctx;
  }

  std::string cookie(std::string_view name, std::string_view value, std::int64_t max_age) const {
    std::string c = std::string(name) + "=" + std::string(value) + "; Path=" + cookie_path(d_.config.issuer) +
                    "; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=Lax";
    if (d_.config.issuer.rfind("https://", 0) == 0) c += "; Secure";
    return c;
  }

  // The web_message login binding: sent to our pages inside the merchant's iframe, kept per embedding site.
  std::string login_cookie(std::string_view value) const {
    return std::string(AuthorizeEndpoint::kLoginCookie) + "=" + std::string(value) +
           "; Path=" + cookie_path(d_.config.issuer) + "; Max-Age=" + std::to_string(d_.config.login_request_ttl) +
           "; HttpOnly; Secure; SameSite=None; Partitioned";
  }

  // Checklist C9. frame-ancestors: only the client's registered origins, and only for web_message pages
  // (the embedded modal); every other page refuses framing, also with X-Frame-Options for old browsers.
  void security_headers(Response& r, bool script) const {
    const bool embeddable = web_message_ && !client_.id.empty();
    std::string ancestors;
    std::string form_targets = " " + origin_of(redirect_uri_);
    if (embeddable) {
      std::vector<std::string> seen;
      for (const auto& u : client_.redirect_uris) {
        auto o = origin_of(u);
        if (std::find(seen.begin(), seen.end(), o) != seen.end()) continue;
        ancestors += " " + o;
        seen.push_back(std::move(o));
      }
    } else {
      ancestors = " 'none'";
    }
    if (form_targets == " ") form_targets.clear();
    std::string csp = "default-src 'none'; style-src 'nonce-" + nonce_ + "'";
    if (script) csp += "; script-src 'nonce-" + nonce_ + "'";
    // The configured logo, that exact URL only (validated: no space, `;` or `,` to break out of the policy).
    if (!d_.config.brand_logo_url.empty()) csp += "; img-src " + d_.config.brand_logo_url;
    // A login form's POST ends in a 303 to the client: its origin is a form target too.
    csp += "; form-action 'self'" + form_targets + "; frame-ancestors" + ancestors + "; base-uri 'none'";
    r.with_header("Content-Security-Policy", csp);
    if (!embeddable) r.with_header("X-Frame-Options", "DENY");
    // X-Content-Type-Options: nosniff is added to every response by the HTTP layer.
    r.with_header("Referrer-Policy", "no-referrer")
        .with_header("Cache-Control", "no-store")
        .with_header("Pragma", "no-cache");
  }

  Response page(int status, std::string body, bool script = false) {
    return finish_page(Response{}, status, std::move(body), script);
  }

  Response finish_page(Response r, int status, std::string body, bool script = false) {
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = request_.method == "HEAD" ? std::string() : std::move(body);
    security_headers(r, script);
    return r;
  }

  Response page_error(int status, std::string_view title, std::string_view message) {
    web_message_ = false;
    client_ = model::Client{};
    redirect_uri_.clear();
    return page(status, error_page(base_context(), title, message));
  }

  AuthorizeEndpoint& e_;
  AuthorizeEndpointDeps& d_;
  const Request& request_;
  base::UnixSeconds now_;
  std::string nonce_;
  protocol::FormParams params_;
  model::Client client_;
  model::LoginRequest pending_;
  std::string redirect_uri_;
  std::string state_;
  bool web_message_ = false;
  // What the authorization request asks of a live session (authorize only).
  bool prompt_none_ = false;
  bool prompt_login_ = false;
  std::optional<std::int64_t> max_age_;
  std::optional<std::string> hinted_sub_;
};

Response AuthorizeEndpoint::authorize(const Request& request) { return Flow(*this, request).authorize(); }
Response AuthorizeEndpoint::login_email(const Request& request) { return Flow(*this, request).login_email(); }
Response AuthorizeEndpoint::login_otp(const Request& request) { return Flow(*this, request).login_otp(); }
Response AuthorizeEndpoint::login_resend(const Request& request) { return Flow(*this, request).login_resend(); }
Response AuthorizeEndpoint::login_page(const Request& request) { return Flow(*this, request).login_page(); }
Response AuthorizeEndpoint::login_continue(const Request& request) { return Flow(*this, request).login_continue(); }
Response AuthorizeEndpoint::logout(const Request& request) { return Flow(*this, request).logout(); }

}  // namespace boltauth::core::authorize
