#include "core/routes.hpp"

#include <stdexcept>

#include "core/api_error.hpp"
#include "core/responses.hpp"

namespace boltauth::core {

protocol::ErrorStyle oauth_error_style(Dialect dialect, protocol::ErrorStyle configured) noexcept {
  return dialect == Dialect::rfc ? protocol::ErrorStyle::rfc6749 : configured;
}

bool Route::allows(std::string_view method) const {
  for (const auto& m : methods)
    if (m == method) return true;
  return false;
}

std::string Route::allow() const {
  std::string out;
  for (const auto& m : methods) {
    if (!out.empty()) out += ", ";
    out += m;
  }
  return out;
}

RouteTable& RouteTable::add(Route route) {
  if (route.methods.empty() || !route.handler) throw std::logic_error("route without methods or handler");
  std::string path = route.path;
  if (!routes_.emplace(std::move(path), std::move(route)).second) throw std::logic_error("route added twice");
  return *this;
}

const Route* RouteTable::find(std::string_view path) const {
  if (const auto it = routes_.find(path); it != routes_.end()) return &it->second;
  // `/prefix/{id}`: one non-empty last segment.
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == path.size() || slash == 0) return nullptr;
  std::string pattern(path.substr(0, slash + 1));
  pattern += "{id}";
  const auto it = routes_.find(pattern);
  return it == routes_.end() ? nullptr : &it->second;
}

std::string_view RouteTable::path_id(std::string_view path) noexcept {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::vector<const Route*> RouteTable::routes() const {
  std::vector<const Route*> out;
  out.reserve(routes_.size());
  for (const auto& [path, route] : routes_) out.push_back(&route);
  return out;
}

Response RouteTable::not_found(std::string_view path) {
  // Under /v3 every answer is v3's: payments, orders and test cards are Bolt's payment business, not ours.
  if (is_v3_path(path)) return api_error_response({ApiError::Kind::not_found, "Not found."}, Dialect::v3);
  return bolt_error_response(404, 1004, "Not found.");
}

Response RouteTable::method_not_allowed(const Route& route, protocol::ErrorStyle configured) {
  Response r;
  if (route.dialect == Dialect::v3) {
    r = api_error_response({ApiError::Kind::unprocessable, "Use " + route.allow() + "."}, Dialect::v3);
  } else if (route.oauth_errors) {
    // Checklist A1: a GET never issues tokens; the body is an OAuth error like every other refusal there.
    r = oauth_error_response(protocol::OAuthError::make(protocol::ErrorCode::invalid_request, "method"),
                             oauth_error_style(route.dialect, configured), false);
  } else if (route.dialect == Dialect::html) {
    r.content_type = "text/html; charset=utf-8";
    r.body = "<!doctype html><title>Method not allowed</title><p>Use " + route.allow() + ".</p>";
    r.with_header("Cache-Control", "no-store");
  } else {
    r = bolt_error_response(405, 1002, "Use " + route.allow() + ".");
  }
  r.status = 405;
  r.with_header("Allow", route.allow());
  return r;
}

Response RouteTable::dispatch(const Request& request, protocol::ErrorStyle configured) const {
  const Route* route = find(request.path);
  if (!route) return not_found(request.path);
  if (!route->allows(request.method)) {
    if (route->refuse) return route->refuse(request, *route);
    Response r = method_not_allowed(*route, configured);
    if (request.method == "HEAD") r.body.clear();  // a HEAD refused says so in its headers alone
    return r;
  }
  return route->handler(request, *route);
}

}  // namespace boltauth::core
