#pragma once
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/exchange.hpp"
#include "protocol/error_code.hpp"

namespace boltauth::core {

/// How a route speaks when it refuses: which status table its OAuth errors use, or that it serves pages.
enum class Dialect {
  v1,    // Bolt's /v1 API: Bolt's OAuth statuses (400/401/403/422), Bolt's `{"errors":[...]}` elsewhere
  v3,    // Bolt's /v3 API: Bolt's statuses too, kept apart so its routes can diverge without touching v1
  rfc,   // the standard endpoints discovery advertises: RFC 6749 section 5.2 statuses (400, 401 invalid_client)
  html,  // pages for a browser
};

/// The status table of OAuth errors on a route of `dialect`. Bolt's paths follow `configured` (`error_style`,
/// default Bolt's); the standard paths always answer RFC 6749 section 5.2, so a client that follows discovery
/// gets the standard whatever the setting.
protocol::ErrorStyle oauth_error_style(Dialect dialect, protocol::ErrorStyle configured) noexcept;

struct Route;
using RouteHandler = std::function<Response(const Request&, const Route&)>;

/// One path: the methods it answers, how it refuses, and what answers it.
struct Route {
  std::string path;
  std::vector<std::string> methods;  // upper case; HEAD only where listed
  Dialect dialect = Dialect::v1;
  /// True: errors are RFC 6749 `{"error":...}` bodies (the OAuth endpoints); false: Bolt's generic body or a page.
  bool oauth_errors = false;
  RouteHandler handler;
  /// Optional: answers methods the route does not list, in the endpoint's own words (still with Allow), instead of
  /// the table's 405.
  RouteHandler refuse = {};

  bool allows(std::string_view method) const;
  /// The Allow header of a 405 (RFC 9110 section 15.5.6): the methods, comma-separated.
  std::string allow() const;
};

/// Path + method -> handler. Exact paths only (no patterns: every endpoint has a fixed path). An unknown path is
/// 404; a known path with a method it does not list is 405 with Allow, in the route's dialect.
class RouteTable {
 public:
  /// Adds a route; a path added twice is a programming error (std::logic_error).
  RouteTable& add(Route route);
  /// The route of `path`, or null.
  const Route* find(std::string_view path) const;
  /// Runs the route's handler, or answers 404 / 405 itself. `configured` is the operator's error_style.
  Response dispatch(const Request& request, protocol::ErrorStyle configured) const;
  std::vector<const Route*> routes() const;

  /// The 405 a route answers for a method it does not list.
  static Response method_not_allowed(const Route& route, protocol::ErrorStyle configured);
  static Response not_found();

 private:
  std::map<std::string, Route, std::less<>> routes_;
};

}  // namespace boltauth::core
