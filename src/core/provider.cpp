#include "core/provider.hpp"

#include <boost/json/serialize.hpp>

#include "core/api_error.hpp"
#include "core/ports/storage_error.hpp"
#include "core/responses.hpp"

namespace boltauth::core {

Provider::Provider(ProviderDeps deps)
    : d_(std::move(deps)),
      registry_(d_.clients, d_.accounts, d_.minter, d_.random, d_.clock),
      tokens_(d_.sealers, d_.minter, d_.random, d_.grants, d_.legacy, d_.accounts),
      token_({d_.config, d_.clock, d_.random, d_.minter, d_.keys, registry_, d_.accounts, tokens_, d_.throttle_store,
              d_.read_ahead, &d_.log_debug}),
      account_(
          {d_.config, d_.clock, d_.random, d_.minter, registry_, d_.accounts, d_.addresses, d_.idempotency, tokens_}),
      testing_({d_.config, d_.clock, d_.random, d_.minter, registry_, d_.clients, d_.accounts, d_.addresses, tokens_}),
      lifecycle_({d_.config, d_.clock, d_.minter, registry_, d_.accounts, tokens_, token_.auth_throttle(),
                  d_.read_ahead, &d_.log_debug}),
      userinfo_({d_.config, d_.clock, d_.minter, d_.accounts, tokens_}),
      authorize_({d_.config, d_.clock, d_.random, d_.minter, registry_, d_.accounts, tokens_, d_.logins, d_.otp_sender,
                  d_.keys, &d_.log_error}),
      demo_({d_.config, d_.random,
             [this]() -> std::optional<authorize::DemoClient> {
               return d_.demo_client ? d_.demo_client() : std::nullopt;
             },
             [this](const Request& r) { return handle(r); }}) {
  const std::string& iss = d_.config.issuer;
  // OIDC Discovery 1.0 section 3 and RFC 8414 section 2. Only endpoints that exist are listed.
  boost::json::object& doc = discovery_doc_;
  doc["issuer"] = iss;
  doc["authorization_endpoint"] = iss + "/v1/oauth/authorize";
  // The standard path: RFC 6749 section 5.2 statuses for clients that follow discovery; Bolt's SDKs keep
  // /v1/oauth/token and Bolt's statuses.
  doc["token_endpoint"] = iss + std::string(kStandardTokenPath);
  doc["jwks_uri"] = iss + "/v1/oauth/jwks.json";
  doc["userinfo_endpoint"] = iss + "/v1/oauth/userinfo";
  doc["introspection_endpoint"] = iss + "/v1/oauth/introspect";
  doc["revocation_endpoint"] = iss + "/v1/oauth/revoke";
  doc["end_session_endpoint"] = iss + std::string(authorize::kLogoutPath);  // RP-Initiated Logout 1.0 section 2.1
  doc["response_types_supported"] = boost::json::array{"code"};
  doc["response_modes_supported"] = boost::json::array{"query", "web_message"};
  doc["authorization_response_iss_parameter_supported"] = true;  // RFC 9207
  doc["prompt_values_supported"] = boost::json::array{"none", "login"};
  doc["grant_types_supported"] = boost::json::array{"authorization_code", "refresh_token", "client_credentials"};
  doc["subject_types_supported"] = boost::json::array{"public"};
  doc["scopes_supported"] = boost::json::array{"openid", "email", "bolt.account.manage", "bolt.account.view"};
  doc["token_endpoint_auth_methods_supported"] = boost::json::array{"client_secret_post", "client_secret_basic"};
  doc["introspection_endpoint_auth_methods_supported"] =
      boost::json::array{"client_secret_post", "client_secret_basic"};
  doc["revocation_endpoint_auth_methods_supported"] = boost::json::array{"client_secret_post", "client_secret_basic"};
  doc["code_challenge_methods_supported"] = boost::json::array{"S256"};
  doc["claims_supported"] = boost::json::array{"iss",
                                               "sub",
                                               "aud",
                                               "azp",
                                               "exp",
                                               "iat",
                                               "auth_time",
                                               "nonce",
                                               "at_hash",
                                               "email",
                                               "email_verified",
                                               "first_name",
                                               "last_name",
                                               "name",
                                               "phone_number",
                                               "phone_number_verified"};
  doc["claims_parameter_supported"] = false;
  add_routes();
  doc["request_parameter_supported"] = false;
  doc["request_uri_parameter_supported"] = false;
}

std::pair<std::string, std::string> Provider::bodies() {
  // The ring changes with rotations and phase boundaries; the bodies are remade only when it does.
  auto ring = d_.keys.ring(d_.clock.now());
  std::lock_guard lock(cache_mutex_);
  if (ring != cached_ring_) {
    boost::json::object doc = discovery_doc_;
    boost::json::array algs;
    for (const auto& alg : ring->algs()) algs.emplace_back(alg);
    doc["id_token_signing_alg_values_supported"] = std::move(algs);
    discovery_body_ = boost::json::serialize(doc);
    jwks_body_ = boost::json::serialize(ring->jwks());
    cached_ring_ = std::move(ring);
  }
  return {discovery_body_, jwks_body_};
}

Response Provider::discovery() {
  Response r;
  r.body = bodies().first;
  // Public and rarely changing: caches may keep it briefly.
  r.with_header("Cache-Control", "public, max-age=300").with_header("Access-Control-Allow-Origin", "*");
  return r;
}

Response Provider::jwks() {
  Response r;
  r.content_type = "application/jwk-set+json";
  r.body = bodies().second;
  r.with_header("Cache-Control", "public, max-age=300").with_header("Access-Control-Allow-Origin", "*");
  return r;
}

void Provider::add_routes() {
  // One line per endpoint: path, methods, dialect, where it runs, handler. The router, the failure answers and the
  // HTTP layer's placement all read this table. Bolt's paths keep Bolt's statuses; the standard token path (what
  // discovery advertises) speaks RFC 6749 section 5.2; /v3 speaks Bolt's v3 (ErrorT / FieldError bodies).
  auto token = [this](const Request& r, const Route& route) {
    return token_.handle(r, {oauth_error_style(route.dialect, d_.config.error_style), route.dialect == Dialect::rfc,
                             route.dialect == Dialect::v3});
  };
  const std::vector<std::string> post{"POST"};
  const std::vector<std::string> get{"GET", "HEAD"};
  using R = const Request&;
  using Rt = const Route&;
  // The token endpoint's only blocking step is its commit: on the I/O thread, writes deferred to the group commit.
  auto token_keys = [this](R r) { return token_.read_ahead_keys(r); };
  routes_.add({"/v1/oauth/token", post, Dialect::v1, true, token, {}, RunsOn::inline_deferred, false, token_keys});
  routes_.add({"/v3/oauth/token", post, Dialect::v3, true, token, {}, RunsOn::inline_deferred, false, token_keys});
  routes_.add({std::string(kStandardTokenPath),
               post,
               Dialect::rfc,
               true,
               token,
               {},
               RunsOn::inline_deferred,
               false,
               token_keys});
  // Introspection reads only (short indexed lookups); revocation writes synchronously on the workers.
  routes_.add({"/v1/oauth/introspect",
               post,
               Dialect::v1,
               true,
               [this](R r, Rt) { return lifecycle_.introspect(r); },
               {},
               RunsOn::inline_read,
               false,
               [this](R r) { return lifecycle_.read_ahead_keys(r); }});
  routes_.add({"/v1/oauth/revoke", post, Dialect::v1, true, [this](R r, Rt) { return lifecycle_.revoke(r); }});
  // RFC 6750 has no word on methods; userinfo refuses others as a bearer invalid_request (400), in its own words.
  auto userinfo = [this](R r, Rt) { return userinfo_.handle(r); };
  routes_.add({"/v1/oauth/userinfo", {"GET", "POST"}, Dialect::v1, true, userinfo, userinfo, RunsOn::inline_read});

  // Bolt's account API, v1 and v3, on the workers (synchronous writes: a handler may read back what it wrote).
  auto account = [this](R r, Rt route) { return account_.get_account(r, route.dialect); };
  routes_.add({"/v1/account", get, Dialect::v1, false, account});
  routes_.add({"/v3/account", get, Dialect::v3, false, account});
  routes_.add(
      {"/v1/account/profile", {"PATCH"}, Dialect::v1, false, [this](R r, Rt) { return account_.patch_profile(r); }});
  auto add_address = [this](R r, Rt route) { return account_.add_address(r, route.dialect); };
  routes_.add({"/v1/account/addresses", post, Dialect::v1, false, add_address});
  routes_.add({"/v3/account/addresses", post, Dialect::v3, false, add_address});
  routes_.add({"/v1/account/addresses/{id}", {"PUT", "POST", "DELETE"}, Dialect::v1, false, [this](R r, Rt) {
                 if (r.method == "PUT") return account_.edit_address(r, Dialect::v1);
                 if (r.method == "POST") return account_.replace_address(r);
                 return account_.delete_address(r, Dialect::v1);
               }});
  routes_.add({"/v3/account/addresses/{id}", {"PUT", "DELETE"}, Dialect::v3, false, [this](R r, Rt) {
                 return r.method == "PUT" ? account_.edit_address(r, Dialect::v3)
                                          : account_.delete_address(r, Dialect::v3);
               }});
  routes_.add({"/v1/account/exists", get, Dialect::v1, false, [this](R r, Rt) { return account_.detect_account(r); }});

  routes_.add(
      {"/v1/testing/shopper/create", post, Dialect::v1, false, [this](R r, Rt) { return testing_.create_shopper(r); }});
  routes_.add(
      {"/v3/testing/accounts", post, Dialect::v3, false, [this](R r, Rt) { return testing_.create_account_v3(r); }});
  routes_.add(
      {"/v3/testing/accounts/phones", get, Dialect::v3, false, [this](R r, Rt) { return testing_.phone_v3(r); }});

  // No HEAD on the authorization endpoint: it has side effects that link scanners must not trigger.
  routes_.add({std::string(authorize::kAuthorizePath), {"GET", "POST"}, Dialect::html, false, [this](R r, Rt) {
                 return authorize_.authorize(r);
               }});
  routes_.add({std::string(authorize::kLoginEmailPath), post, Dialect::html, false,
               [this](R r, Rt) { return authorize_.login_email(r); }});
  routes_.add({std::string(authorize::kLoginOtpPath), post, Dialect::html, false,
               [this](R r, Rt) { return authorize_.login_otp(r); }});
  routes_.add({std::string(authorize::kLoginResendPath), post, Dialect::html, false,
               [this](R r, Rt) { return authorize_.login_resend(r); }});
  routes_.add({std::string(authorize::kLoginPagePath), get, Dialect::html, false,
               [this](R r, Rt) { return authorize_.login_page(r); }});
  routes_.add({std::string(authorize::kLoginContinuePath), post, Dialect::html, false,
               [this](R r, Rt) { return authorize_.login_continue(r); }});
  routes_.add({std::string(authorize::kLogoutPath), {"GET", "POST"}, Dialect::html, false, [this](R r, Rt) {
                 return authorize_.logout(r);
               }});
  if (d_.config.mode == Mode::sandbox) {
    routes_.add({"/demo", get, Dialect::html, false, [this](R r, Rt) { return demo_.start(r); }});
    routes_.add({"/demo/callback", {"GET"}, Dialect::html, false, [this](R r, Rt) { return demo_.callback(r); }});
  }
  // Static answers: on the I/O thread whatever the store.
  Route discovery_route{"/.well-known/openid-configuration", get, Dialect::v1, false,
                        [this](R, Rt) { return discovery(); }};
  discovery_route.runs_on = RunsOn::inline_read;
  discovery_route.static_answer = true;
  routes_.add(std::move(discovery_route));
  Route jwks_route{"/v1/oauth/jwks.json", get, Dialect::v1, false, [this](R, Rt) { return jwks(); }};
  jwks_route.runs_on = RunsOn::inline_read;
  jwks_route.static_answer = true;
  routes_.add(std::move(jwks_route));
  Route health{"/health", get, Dialect::v1, false, [](R, Rt) {
                 Response r;
                 r.body = "{\"status\":\"ok\"}";
                 r.with_header("Cache-Control", "no-store");
                 return r;
               }};
  health.runs_on = RunsOn::inline_read;
  health.static_answer = true;
  routes_.add(std::move(health));
}

Response Provider::route(const Request& request) { return routes_.dispatch(request, d_.config.error_style); }

Response Provider::failure(const Request& request, bool transient) const {
  const Route* route = routes_.find(request.path);
  const auto code = transient ? protocol::ErrorCode::temporarily_unavailable : protocol::ErrorCode::server_error;
  Response r;
  if (is_v3_path(request.path)) {
    r = v3_oauth_error_response(protocol::OAuthError::make(code), false);
  } else if (route && route->oauth_errors) {
    r = oauth_error_response(protocol::OAuthError::make(code), oauth_error_style(route->dialect, d_.config.error_style),
                             false);
  } else {
    r = transient ? bolt_error_response(503, 1000, "The service is temporarily unavailable.")
                  : bolt_error_response(500, 1000, "Internal server error.");
  }
  if (transient) r.with_header("Retry-After", "1");
  return r;
}

std::optional<ports::ReadAheadKeys> Provider::read_ahead_keys(const Request& request) noexcept {
  const Route* route = routes_.find(request.path);
  if (!route || !route->read_ahead) return std::nullopt;
  try {
    return route->read_ahead(request);
  } catch (const std::exception&) {
    return std::nullopt;  // handle() meets the same failure and answers it
  }
}

Response Provider::handle(const Request& request) noexcept {
  try {
    try {
      return route(request);
    } catch (const ports::StorageError& e) {
      // Nothing was answered 200 for this request: the store threw before or instead of committing.
      if (d_.log_error) d_.log_error(std::string("storage: ") + e.what());
      return failure(request, e.transient());
    } catch (const std::exception& e) {
      if (d_.log_error) d_.log_error(std::string("unexpected: ") + e.what());
      return failure(request, false);
    }
  } catch (...) {
    Response r;
    r.status = 500;
    r.body = R"({"error":"server_error"})";
    return r;
  }
}

}  // namespace boltauth::core
