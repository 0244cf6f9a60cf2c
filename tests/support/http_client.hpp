#pragma once
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boltauth::testing {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;

  std::optional<std::string> header(const std::string& lower_name) const;
  /// The body parsed as JSON; a JSON null when it is not JSON.
  boost::json::value json() const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/// A deliberately small HTTP/1.1 client over POSIX sockets, independent of the server's Beast code, so the
/// tests speak to the server as any outside client would. One connection, reused while the server keeps it.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse request(const std::string& method, const std::string& target, const Headers& headers = {},
                       const std::string& body = {});
  HttpResponse get(const std::string& target, const Headers& headers = {}) { return request("GET", target, headers); }
  /// POST with Content-Type: application/x-www-form-urlencoded.
  HttpResponse post_form(const std::string& target, const std::string& body, Headers headers = {});
  /// Writes raw bytes and reads one response (for malformed-request tests). Closes afterwards.
  HttpResponse raw(const std::string& bytes);
  /// Connects from `address` from the next connection on (any 127.0.0.0/8 address is loopback), so a test can be
  /// a client at an address of its choosing, e.g. one the server does not trust as a proxy.
  void set_source_address(std::string address);

 private:
  bool connect();
  void close();
  bool send_all(const std::string& data);
  std::optional<HttpResponse> read_response();

  std::uint16_t port_;
  std::string host_;
  std::string source_;
  int fd_ = -1;
  std::string buffer_;
};

/// Form encoding of name/value pairs (percent-encodes everything but unreserved characters).
std::string form(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace boltauth::testing
