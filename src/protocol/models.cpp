#include "protocol/models.hpp"

#include <boost/json/serialize.hpp>

namespace boltauth::models {
namespace json = boost::json;
namespace {

void put(json::object& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[key] = *v;
}
void put(json::object& o, std::string_view key, const std::optional<std::int64_t>& v) {
  if (v) o[key] = *v;
}

// Reads an optional member; false when present with the wrong type.
bool get(const json::object& o, std::string_view key, std::optional<std::string>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}
bool get(const json::object& o, std::string_view key, std::optional<std::int64_t>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (v->is_int64()) {
    out = v->as_int64();
    return true;
  }
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(v->as_uint64());
    return true;
  }
  return false;
}
bool get(const json::object& o, std::string_view key, std::optional<bool>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_bool()) return false;
  out = v->as_bool();
  return true;
}
bool get_required(const json::object& o, std::string_view key, std::string& out) {
  std::optional<std::string> v;
  if (!get(o, key, v) || !v) return false;
  out = std::move(*v);
  return true;
}

}  // namespace

json::object to_json(const OAuthTokenResponse& v) {
  json::object o;
  put(o, "access_token", v.access_token);
  put(o, "expires_in", v.expires_in);
  put(o, "id_token", v.id_token);
  put(o, "refresh_token", v.refresh_token);
  put(o, "refresh_token_scope", v.refresh_token_scope);
  put(o, "scope", v.scope);
  put(o, "token_type", v.token_type);
  return o;
}

std::optional<OAuthTokenResponse> oauth_token_response_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  OAuthTokenResponse r;
  if (!get(o, "access_token", r.access_token) || !get(o, "expires_in", r.expires_in) ||
      !get(o, "id_token", r.id_token) || !get(o, "refresh_token", r.refresh_token) ||
      !get(o, "refresh_token_scope", r.refresh_token_scope) || !get(o, "scope", r.scope) ||
      !get(o, "token_type", r.token_type))
    return std::nullopt;
  return r;
}

json::object to_json(const ErrorsOauthServerResponse& v) {
  json::object o;
  put(o, "error", v.error);
  put(o, "error_description", v.error_description);
  return o;
}

std::optional<ErrorsOauthServerResponse> errors_oauth_server_response_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  ErrorsOauthServerResponse r;
  if (!get(value.as_object(), "error", r.error) || !get(value.as_object(), "error_description", r.error_description))
    return std::nullopt;
  return r;
}

json::object to_json(const TestingAccountDetails& v) {
  json::object o;
  put(o, "email", v.email);
  put(o, "email_state", v.email_state);
  put(o, "phone", v.phone);
  put(o, "phone_state", v.phone_state);
  put(o, "otp_code", v.otp_code);
  put(o, "migrated_merchant_owner_id", v.migrated_merchant_owner_id);
  put(o, "will_deactivate_at", v.will_deactivate_at);
  put(o, "oauth_code", v.oauth_code);
  return o;
}

std::optional<TestingAccountDetails> testing_account_details_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  TestingAccountDetails r;
  if (!get(o, "email", r.email) || !get(o, "email_state", r.email_state) || !get(o, "phone", r.phone) ||
      !get(o, "phone_state", r.phone_state) || !get(o, "otp_code", r.otp_code) ||
      !get(o, "migrated_merchant_owner_id", r.migrated_merchant_owner_id) ||
      !get(o, "will_deactivate_at", r.will_deactivate_at) || !get(o, "oauth_code", r.oauth_code))
    return std::nullopt;
  return r;
}

std::optional<TestingAccountRequest> testing_account_request_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  TestingAccountRequest r;
  if (!get(o, "deactivate_in_days", r.deactivate_in_days) || !get(o, "email_state", r.email_state) ||
      !get(o, "phone_state", r.phone_state) || !get(o, "has_address", r.has_address) || !get(o, "migrated", r.migrated))
    return std::nullopt;
  return r;
}

json::object to_json(const OAuthTokenInput& v) {
  json::object o;
  o["client_id"] = v.client_id;
  o["client_secret"] = v.client_secret;
  o["code"] = v.code;
  o["grant_type"] = "authorization_code";
  o["scope"] = v.scope;
  put(o, "state", v.state);
  return o;
}

json::object to_json(const OAuthTokenInputRefresh& v) {
  json::object o;
  o["client_id"] = v.client_id;
  o["client_secret"] = v.client_secret;
  o["grant_type"] = "refresh_token";
  o["refresh_token"] = v.refresh_token;
  o["scope"] = v.scope;
  put(o, "state", v.state);
  return o;
}

std::optional<OAuthTokenInput> oauth_token_input_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  OAuthTokenInput r;
  std::string grant;
  if (!get_required(o, "grant_type", grant) || grant != "authorization_code") return std::nullopt;
  if (!get_required(o, "client_id", r.client_id) || !get_required(o, "client_secret", r.client_secret) ||
      !get_required(o, "code", r.code) || !get_required(o, "scope", r.scope) || !get(o, "state", r.state))
    return std::nullopt;
  return r;
}

std::optional<OAuthTokenInputRefresh> oauth_token_input_refresh_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  OAuthTokenInputRefresh r;
  std::string grant;
  if (!get_required(o, "grant_type", grant) || grant != "refresh_token") return std::nullopt;
  if (!get_required(o, "client_id", r.client_id) || !get_required(o, "client_secret", r.client_secret) ||
      !get_required(o, "refresh_token", r.refresh_token) || !get_required(o, "scope", r.scope) ||
      !get(o, "state", r.state))
    return std::nullopt;
  return r;
}

std::string to_form(const OAuthTokenRequestBody& body) {
  std::string out;
  auto add = [&out](std::string_view k, std::string_view v) {
    if (!out.empty()) out.push_back('&');
    out.append(k);
    out.push_back('=');
    out.append(protocol::form_encode(v));
  };
  if (const auto* code = std::get_if<OAuthTokenInput>(&body)) {
    add("grant_type", "authorization_code");
    add("code", code->code);
    add("client_id", code->client_id);
    add("client_secret", code->client_secret);
    add("scope", code->scope);
    if (code->state) add("state", *code->state);
  } else {
    const auto& refresh = std::get<OAuthTokenInputRefresh>(body);
    add("grant_type", "refresh_token");
    add("refresh_token", refresh.refresh_token);
    add("client_id", refresh.client_id);
    add("client_secret", refresh.client_secret);
    add("scope", refresh.scope);
    if (refresh.state) add("state", *refresh.state);
  }
  return out;
}

std::optional<OAuthTokenRequestBody> token_request_from_form(const protocol::FormParams& params) {
  auto str = [&params](std::string_view k) { return std::string(params.get(k).value_or("")); };
  const auto grant = params.get("grant_type");
  if (!grant) return std::nullopt;
  std::optional<std::string> state;
  if (auto s = params.get("state")) state = std::string(*s);
  if (*grant == "authorization_code") {
    if (!params.has("code")) return std::nullopt;
    return OAuthTokenInput{str("client_id"), str("client_secret"),
                           str("code"),      OAuthTokenInputGrantType::authorization_code,
                           str("scope"),     state};
  }
  if (*grant == "refresh_token") {
    if (!params.has("refresh_token")) return std::nullopt;
    return OAuthTokenInputRefresh{
        str("client_id"),     str("client_secret"), OAuthTokenInputRefreshGrantType::refresh_token,
        str("refresh_token"), str("scope"),         state};
  }
  return std::nullopt;
}

std::string_view to_string(Scope scope) noexcept {
  switch (scope) {
    case Scope::bolt_account_manage:
      return "bolt.account.manage";
    case Scope::bolt_account_view:
      return "bolt.account.view";
    case Scope::openid:
      return "openid";
  }
  return {};
}

std::optional<Scope> scope_from_string(std::string_view token) noexcept {
  for (Scope s : {Scope::bolt_account_manage, Scope::bolt_account_view, Scope::openid})
    if (to_string(s) == token) return s;
  return std::nullopt;
}

std::string join_scopes(std::initializer_list<Scope> scopes) {
  std::string out;
  for (Scope s : scopes) {
    if (!out.empty()) out.push_back(' ');
    out.append(to_string(s));
  }
  return out;
}

std::string_view to_string(OAuthTokenInputGrantType) noexcept { return "authorization_code"; }
std::string_view to_string(OAuthTokenInputRefreshGrantType) noexcept { return "refresh_token"; }

std::string serialize(const json::object& object) { return json::serialize(object); }

}  // namespace boltauth::models
