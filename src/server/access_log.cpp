#include "server/access_log.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <charconv>

#include "protocol/basic_auth.hpp"
#include "protocol/form.hpp"
#include "server/logging.hpp"

namespace boltauth::server {
namespace {

constexpr std::size_t kMaxLoggedPath = 256;
constexpr std::size_t kMaxLoggedDescription = 300;

bool printable_id(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (const char c : s)
    if (c <= ' ' || c > '~') return false;
  return true;
}

// The decoded value of `name` in a form-encoded string (first occurrence), without parsing the rest.
std::string form_value(std::string_view text, std::string_view name) {
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    const auto pair = text.substr(start, end - start);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return protocol::form_decode(pair.substr(name.size() + 1)).value_or(std::string());
    start = end + 1;
  }
  return {};
}

std::string bounded(std::string_view s, std::size_t limit) {
  if (s.size() <= limit) return std::string(s);
  return std::string(s.substr(0, limit)) + "...";
}

// `name="value"` in a WWW-Authenticate challenge (RFC 6750 section 3).
std::string auth_param(std::string_view header, std::string_view name) {
  const std::string needle = std::string(name) + "=\"";
  std::size_t at = 0;
  while ((at = header.find(needle, at)) != std::string_view::npos) {
    // A whole parameter name: at the start, or after a space or comma.
    if (at == 0 || header[at - 1] == ' ' || header[at - 1] == ',') {
      const auto from = at + needle.size();
      const auto to = header.find('"', from);
      return std::string(header.substr(from, to == std::string_view::npos ? std::string_view::npos : to - from));
    }
    at += needle.size();
  }
  return {};
}

void from_json_body(std::string_view body, RefusalReason& out) {
  if (body.empty() || body.front() != '{') return;
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return;
  const auto& o = v.get_object();
  if (const auto* e = o.if_contains("error"); e && e->is_string()) {
    out.error = e->get_string();
    if (const auto* d = o.if_contains("error_description"); d && d->is_string()) out.description = d->get_string();
    return;
  }
  // Bolt's v3 shape: {".tag":"...","message":"..."} (and "field" when one input field is at fault).
  if (const auto* t = o.if_contains(".tag"); t && t->is_string()) {
    out.error = t->get_string();
    if (const auto* m = o.if_contains("message"); m && m->is_string()) out.description = m->get_string();
    if (const auto* f = o.if_contains("field"); f && f->is_string())
      out.description += " (field " + std::string(f->get_string()) + ")";
    return;
  }
  // Bolt's v1 shape: {"errors":[{"code":N,"message":"..."}], "result": {...}}.
  const auto* errors = o.if_contains("errors");
  if (!errors || !errors->is_array() || errors->get_array().empty() || !errors->get_array()[0].is_object()) return;
  const auto& first = errors->get_array()[0].get_object();
  if (const auto* c = first.if_contains("code"); c && c->is_int64()) out.error = std::to_string(c->get_int64());
  if (const auto* m = first.if_contains("message"); m && m->is_string()) out.description = m->get_string();
}

void from_html_body(std::string_view body, RefusalReason& out) {
  static constexpr std::string_view kAlert = "role=\"alert\">";
  const auto at = body.find(kAlert);
  if (at == std::string_view::npos) return;
  const auto from = at + kAlert.size();
  const auto to = body.find('<', from);
  if (to != std::string_view::npos) out.description = body.substr(from, to - from);
}

}  // namespace

std::string client_named(const core::Request& request) {
  std::string id;
  if (const auto auth = request.header("authorization"); auth && protocol::is_basic_scheme(*auth)) {
    if (auto credentials = protocol::parse_basic_auth(*auth)) id = std::move(credentials->client_id);
  }
  if (id.empty()) {
    const auto type = request.header("content-type");
    if (type && type->rfind("application/x-www-form-urlencoded", 0) == 0) id = form_value(request.body, "client_id");
  }
  if (id.empty()) id = form_value(request.query, "client_id");
  return printable_id(id) ? id : std::string();
}

RefusalReason refusal_reason(const http::Exchange& e) {
  RefusalReason out;
  if (e.status >= 300 && e.status < 400) {
    // An authorization error sent back to the client (RFC 6749 section 4.1.2.1): only `error` and
    // `error_description` are taken from the URL, never `state` or anything else.
    auto q = e.location.find_first_of("?#");
    if (q == std::string_view::npos) return out;
    const auto params = e.location.substr(q + 1);
    for (const std::string_view part :
         {params.substr(0, params.find('#')),
          params.find('#') == std::string_view::npos ? std::string_view() : params.substr(params.find('#') + 1)}) {
      if (out.error.empty()) out.error = form_value(part, "error");
      if (out.description.empty()) out.description = form_value(part, "error_description");
    }
    // A login form refused (wrong code, throttled...) redirects to its step page (POST-redirect-GET) with one
    // message code of a fixed set in `m`; "sent" is no refusal.
    if (out.error.empty() && e.location.rfind("login?", 0) == 0) {
      const auto m = form_value(e.location.substr(6), "m");
      if (!m.empty() && m != "sent") {
        out.error = "login_" + m;
        out.description = "the login form was refused";
      }
    }
    out.refused = !out.error.empty();
  } else if (e.status >= 400) {
    out.refused = true;
    from_json_body(e.body, out);
    if (out.error.empty() && !e.www_authenticate.empty()) {
      out.error = auth_param(e.www_authenticate, "error");
      out.description = auth_param(e.www_authenticate, "error_description");
    }
    if (out.error.empty() && out.description.empty()) from_html_body(e.body, out);
  }
  out.description = bounded(out.description, kMaxLoggedDescription);
  return out;
}

void log_exchange(const http::Exchange& e) {
  const bool access = spdlog::should_log(spdlog::level::info);
  const bool debug = spdlog::should_log(spdlog::level::debug);
  if (!access && !debug) return;
  const std::string path = bounded(e.path, kMaxLoggedPath);
  const std::string_view method = e.method.empty() ? std::string_view("-") : e.method;
  const std::string status = std::to_string(e.status);
  if (debug) {
    const auto reason = refusal_reason(e);
    if (reason.refused)
      log_with_fields(spdlog::level::debug, "refused",
                      {{"method", method},
                       {"route", path},
                       {"status", status, true},
                       {"error", reason.error.empty() ? std::string_view("-") : reason.error},
                       {"error_description", reason.description},
                       {"request_id", e.request_id}});
  }
  if (!access) return;
  char duration[32];
  const auto micros = e.micros < 0 ? 0 : e.micros;
  std::snprintf(duration, sizeof duration, "%lld.%03lld", static_cast<long long>(micros / 1000),
                static_cast<long long>(micros % 1000));
  const std::string bytes = std::to_string(e.body_bytes);
  log_with_fields(spdlog::level::info, "request",
                  {{"method", method},
                   {"route", path},
                   {"status", status, true},
                   {"duration_ms", duration, true},
                   {"bytes", bytes, true},
                   {"client_id", e.client_id.empty() ? std::string_view("-") : e.client_id},
                   {"request_id", e.request_id},
                   {"remote_addr", e.remote_address}});
}

}  // namespace boltauth::server
