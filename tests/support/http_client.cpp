#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "protocol/form.hpp"

namespace boltauth::testing {

std::optional<std::string> HttpResponse::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return std::nullopt;
}

boost::json::value HttpResponse::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string form(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += protocol::form_encode(k) + "=" + protocol::form_encode(v);
  }
  return out;
}

HttpClient::HttpClient(std::uint16_t port, std::string host) : port_(port), host_(std::move(host)) {}
HttpClient::~HttpClient() { close(); }

bool HttpClient::connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
  timeval tv{30, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!source_.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      close();
      return false;
    }
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close();
    return false;
  }
  buffer_.clear();
  return true;
}

void HttpClient::set_source_address(std::string address) {
  close();
  source_ = std::move(address);
}

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool HttpClient::send_all(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<HttpResponse> HttpClient::read_response() {
  auto fill = [this]() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return std::nullopt;
  HttpResponse res;
  const std::string head = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  res.status = std::stoi(status_line.substr(9, 3));
  std::size_t content_length = 0;
  bool close_after = false;
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    const std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "content-length") content_length = std::stoul(value);
    if (name == "connection" && (value == "close" || value == "Close")) close_after = true;
    res.headers.emplace_back(std::move(name), std::move(value));
  }
  while (buffer_.size() < content_length)
    if (!fill()) return std::nullopt;
  res.body = buffer_.substr(0, content_length);
  buffer_.erase(0, content_length);
  if (close_after) close();
  return res;
}

HttpResponse HttpClient::request(const std::string& method, const std::string& target, const Headers& headers,
                                 const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  // A kept-alive connection may have been closed by the server meanwhile: retry once on a fresh one.
  // Only when nothing came back at all, so a request is never sent twice after the server saw it answered.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd_ >= 0;
    if (!reused && !connect()) throw std::runtime_error("cannot connect to port " + std::to_string(port_));
    if (send_all(req)) {
      if (auto res = read_response()) return *res;
    }
    const bool nothing_received = buffer_.empty();
    close();
    if (!reused || !nothing_received) break;
  }
  throw std::runtime_error("no response from server for " + method + " " + target);
}

HttpResponse HttpClient::post_form(const std::string& target, const std::string& body, Headers headers) {
  headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  return request("POST", target, headers, body);
}

HttpResponse HttpClient::raw(const std::string& bytes) {
  close();
  if (!connect()) throw std::runtime_error("cannot connect");
  HttpResponse res;
  if (send_all(bytes)) {
    if (auto r = read_response()) res = *r;
  }
  close();
  return res;
}

}  // namespace boltauth::testing
