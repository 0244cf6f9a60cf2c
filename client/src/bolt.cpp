#include "boltauth/bolt.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <stdexcept>

#include "internal.hpp"

namespace boltauth {
namespace errors {

APIError::APIError(std::string message, int status_code, std::string body, HttpHeaders headers)
    : BoltError(std::move(message)), status_code_(status_code), body_(std::move(body)), headers_(std::move(headers)) {}

ErrorsBoltApiResponse::ErrorsBoltApiResponse(models::ErrorsBoltApiResponseData data, int status_code, std::string body,
                                             HttpHeaders headers)
    : BoltError("Bolt API error " + std::to_string(status_code) +
                (data.errors.empty()
                     ? std::string()
                     : ": " + std::to_string(data.errors.front().code) + " " + data.errors.front().message)),
      data_(std::move(data)),
      status_code_(status_code),
      body_(std::move(body)),
      headers_(std::move(headers)) {}

ErrorsOauthServerResponse::ErrorsOauthServerResponse(models::ErrorsOauthServerResponseData data, int status_code,
                                                     std::string body)
    : BoltError("OAuth error " + std::to_string(status_code) + ": " + data.error.value_or("") +
                (data.error_description ? " (" + *data.error_description + ")" : std::string())),
      data_(std::move(data)),
      status_code_(status_code),
      body_(std::move(body)) {}

}  // namespace errors

namespace models {

namespace {
std::optional<boost::json::value> parse_json(std::string_view text) {
  boost::json::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}
}  // namespace

std::optional<OAuthTokenResponse> parse_oauth_token_response(std::string_view json_text) {
  auto v = parse_json(json_text);
  if (!v) return std::nullopt;
  return oauth_token_response_from_json(*v);
}

std::optional<ErrorsOauthServerResponseData> parse_errors_oauth_server_response(std::string_view json_text) {
  auto v = parse_json(json_text);
  if (!v) return std::nullopt;
  return errors_oauth_server_response_from_json(*v);
}

std::string to_json_string(const OAuthTokenResponse& response) { return boost::json::serialize(to_json(response)); }

}  // namespace models

namespace detail {

bool is_json(const HttpResponse& r) {
  auto ct = r.header("content-type");
  if (!ct) return false;
  std::string type = ct->substr(0, ct->find(';'));
  type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c) != 0; }),
             type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type == "application/json";
}

std::string sdk_user_agent() { return "boltauth-cpp/" BOLTAUTH_CLIENT_VERSION; }

}  // namespace detail

using detail::is_json;
using detail::sdk_user_agent;

Bolt::Bolt(BoltOptions options) : options_(std::move(options)), o_auth_(*this), account_(*this) {
  if (options_.server_url) {
    server_url_ = *options_.server_url;
  } else {
    if (options_.server_idx >= kServerList.size()) throw std::invalid_argument("server_idx out of range");
    server_url_ = std::string(kServerList[options_.server_idx]);
  }
  while (!server_url_.empty() && server_url_.back() == '/') server_url_.pop_back();
  if (server_url_.rfind("http://", 0) != 0 && server_url_.rfind("https://", 0) != 0) {
    throw std::invalid_argument("server_url must start with http:// or https://");
  }
  if (!options_.transport) {
    CurlTransportOptions t;
    t.timeout = options_.timeout;
    options_.transport = std::make_shared<CurlTransport>(t);
  }
}

OAuthTokenResult OAuth::o_auth_token_result(const models::OAuthTokenRequestBody& body,
                                            const std::optional<std::string>& x_publishable_key) const {
  const BoltOptions& o = bolt_->options();
  HttpRequest request;
  request.method = "POST";
  request.url = bolt_->server_url() + "/v1/oauth/token";
  request.timeout = o.timeout;
  request.body = models::to_form(body);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"},
                     {"User-Agent", sdk_user_agent()}};
  if (o.x_api_key) request.headers.emplace_back("X-API-Key", *o.x_api_key);
  if (x_publishable_key) request.headers.emplace_back("X-Publishable-Key", *x_publishable_key);
  request.headers.insert(request.headers.end(), o.extra_headers.begin(), o.extra_headers.end());

  TransportResult result =
      send_with_retries(*o.transport, request, o.retry_config, Idempotency::non_idempotent, o.retry_env);
  if (!result.response) return errors::APIError("transport failure: " + result.error, 0, {});
  HttpResponse& r = *result.response;
  const int status = r.status;
  if (status >= 200 && status < 300) {
    if (!is_json(r)) {
      return errors::APIError("unknown content-type received: " + r.header("content-type").value_or(""), status,
                              std::move(r.body), std::move(r.headers));
    }
    auto parsed = models::parse_oauth_token_response(r.body);
    if (!parsed)
      return errors::APIError("invalid OAuthTokenResponse body", status, std::move(r.body), std::move(r.headers));
    return std::move(*parsed);
  }
  if ((status == 400 || status == 403 || status == 422) && is_json(r)) {
    if (auto data = models::parse_errors_oauth_server_response(r.body)) {
      return errors::ErrorsOauthServerResponse(std::move(*data), status, std::move(r.body));
    }
  }
  const bool api_status = status >= 400 && status < 600;
  return errors::APIError(api_status ? "API error occurred" : "unknown status code received", status, std::move(r.body),
                          std::move(r.headers));
}

models::OAuthTokenResponse OAuth::o_auth_token(const models::OAuthTokenRequestBody& body,
                                               const std::optional<std::string>& x_publishable_key) const {
  OAuthTokenResult result = o_auth_token_result(body, x_publishable_key);
  if (auto* e = std::get_if<errors::ErrorsOauthServerResponse>(&result)) throw std::move(*e);
  if (auto* e = std::get_if<errors::APIError>(&result)) throw std::move(*e);
  return std::get<models::OAuthTokenResponse>(std::move(result));
}

}  // namespace boltauth
