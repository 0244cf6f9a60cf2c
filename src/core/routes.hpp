#pragma once
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/dialect.hpp"
#include "core/exchange.hpp"
#include "core/ports/read_ahead.hpp"
#include "protocol/error_code.hpp"

namespace boltauth::core {

/// The status table of OAuth errors on a route of `dialect`. Bolt's paths follow `configured` (`error_style`,
/// default Bolt's); the standard paths always answer RFC 6749 section 5.2, so a client that follows discovery
/// gets the standard whatever the setting.
protocol::ErrorStyle oauth_error_style(Dialect dialect, protocol::ErrorStyle configured) noexcept;

/// Where a route's handler runs (the HTTP layer's placement, docs/design.md "Request placement").
enum class RunsOn {
  worker,           // the worker pool: may block on the store (synchronous writes, network round trips)
  inline_read,      // the I/O thread: static answers and short indexed reads, nothing written
  inline_deferred,  // the I/O thread, writes deferred to the group commit (its only blocking step is the commit)
};

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
  /// Where it runs on an embedded store (SQLite). On a shared store (PostgreSQL) every store call is a network
  /// round trip, so only `inline_read` routes that never touch the store (`static_answer`) stay on the I/O thread.
  RunsOn runs_on = RunsOn::worker;
  /// Answers without touching the store (discovery, keys, health).
  bool static_answer = false;
  /// Optional: the rows the handler reads first, named from the request alone (Provider::read_ahead_keys).
  std::function<std::optional<ports::ReadAheadKeys>(const Request&)> read_ahead = {};

  bool allows(std::string_view method) const;
  /// The Allow header of a 405 (RFC 9110 section 15.5.6): the methods, comma-separated.
  std::string allow() const;
};

/// Path + method -> handler. Exact paths, and paths whose last segment is `{id}` (one non-empty segment; the
/// handler reads it with `path_id`). An unknown path is 404 (v3's body under /v3); a known path with a method it
/// does not list is 405 with Allow, in the route's dialect.
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
  static Response not_found(std::string_view path = {});
  /// The last segment of a request that matched a `{id}` route.
  static std::string_view path_id(std::string_view path) noexcept;

 private:
  std::map<std::string, Route, std::less<>> routes_;
};

}  // namespace boltauth::core
