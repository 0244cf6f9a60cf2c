// The HTTP/1.1 request reader exactly as `serve` runs it (http/HttpServer on Beast, with its limits, framing
// rules, Expect handling and request ids), over a real loopback connection: the input is written as the client's
// bytes, then the client half-closes and reads until the server closes. Properties: every byte the server sends
// is a sequence of well-formed HTTP/1.x responses (status line first); no 5xx other than 501 (an unsupported
// transfer coding, RFC 9112 section 6.1) ; the server closes the connection once the client is done.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "fuzz_support.hpp"
#include "http/http_server.hpp"

namespace {

using namespace boltauth;

struct Server {
  http::HttpServer server;
  std::uint16_t port = 0;
  Server()
      : server(
            [] {
              http::ServerOptions o;
              o.host = "127.0.0.1";
              o.port = 0;
              o.io_threads = 1;
              o.worker_threads = 1;
              o.limits.request_timeout_seconds = 2;
              o.limits.idle_timeout_seconds = 2;
              o.trusted_proxies = {"127.0.0.1/32"};
              return o;
            }(),
            [](const core::Request& r) {
              core::Response a;
              a.body =
                  "{\"method\":" + std::to_string(r.method.size()) + ",\"body\":" + std::to_string(r.body.size()) + "}";
              return a;
            },
            [](std::string_view) {}) {
    port = server.start();
  }
};

// Checks that `out` is one or more responses, each starting with "HTTP/1.x NNN ".
void check_responses(const std::string& out) {
  std::size_t at = 0;
  while (at < out.size()) {
    // The status line carries the request's version (HTTP/1.0 clients get HTTP/1.0 answers).
    FUZZ_CHECK(out.compare(at, 9, "HTTP/1.1 ") == 0 || out.compare(at, 9, "HTTP/1.0 ") == 0);
    FUZZ_CHECK(out.size() >= at + 13);
    const int status = std::stoi(out.substr(at + 9, 3));
    FUZZ_CHECK(status >= 100 && status <= 599);
    FUZZ_CHECK(status < 500 || status == 501 || status == 505);
    const auto head_end = out.find("\r\n\r\n", at);
    FUZZ_CHECK(head_end != std::string::npos);
    if (status == 100) {
      at = head_end + 4;
      continue;
    }
    // Our answers always carry Content-Length.
    const auto cl = out.find("Content-Length: ", at);
    FUZZ_CHECK(cl != std::string::npos && cl < head_end);
    const auto length = std::stoul(out.substr(cl + 16, out.find("\r\n", cl) - cl - 16));
    // An answer to HEAD announces a length but carries no body: the next status line (or the end) follows at once.
    const bool bodiless = head_end + 4 == out.size() || out.compare(head_end + 4, 7, "HTTP/1.") == 0;
    at = bodiless ? head_end + 4 : head_end + 4 + length;
    FUZZ_CHECK(at <= out.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static Server s;
  // The server closes first, so each exchange leaves a TIME_WAIT behind on its side; thousands a second would
  // use up the 4-tuples of one source address within a minute. Each connection comes from another address of
  // 127.0.0.0/8 (all loopback) instead; the server is not told that any of them is a trusted proxy but 127.0.0.1.
  static std::uint32_t next = 0;
  const std::uint32_t source = 0x7f000000u | (1u << 16) | (next++ % 0xfeffu + 1u);
  int fd = -1;
  for (int attempt = 0; attempt < 50 && fd < 0; ++attempt) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(source);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(s.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::fprintf(stderr, "connect: %s (retrying)\n", std::strerror(errno));
      ::close(fd);
      fd = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  FUZZ_CHECK(fd >= 0);
  for (std::size_t sent = 0; sent < size;) {
    const auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse and close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[8192];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool closed = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  FUZZ_CHECK(closed);
  check_responses(out);
  return 0;
}
