#include "core/responses.hpp"

#include <boost/json/serialize.hpp>

namespace boltauth::core {

Response json_response(int status, const boost::json::object& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  r.with_header("Cache-Control", "no-store").with_header("Pragma", "no-cache");
  return r;
}

Response oauth_error_response(const protocol::OAuthError& error, protocol::ErrorStyle style, bool basic_attempted) {
  boost::json::object body;
  body["error"] = protocol::to_string(protocol::wire_code(error.code, style));
  body["error_description"] = error.description;
  Response r = json_response(protocol::http_status(error.code, style), body);
  if (error.code == protocol::ErrorCode::invalid_client && basic_attempted)
    r.with_header("WWW-Authenticate", "Basic realm=\"boltauth\"");
  return r;
}

Response bolt_error_response(int status, int code, std::string_view message) {
  boost::json::object err;
  err["code"] = code;
  err["message"] = message;
  boost::json::object body;
  body["errors"] = boost::json::array{err};
  body["result"] = boost::json::object{{"success", false}};
  return json_response(status, body);
}

}  // namespace boltauth::core
