// HTTP/1.1 message framing over raw TCP sockets: Transfer-Encoding other than a final `chunked`, TE together with
// Content-Length (RFC 9112 sections 6.1 and 6.3), and `Expect: 100-continue` (RFC 9110 section 10.1.1).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    // Every read gives up after 3 s: a test waiting for an answer that never comes fails instead of hanging.
    timeval tv{3, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  /// Reads until `data` contains `needle` (true), or until the peer closes or 3 s pass (false).
  bool read_until(const std::string& needle) {
    while (data.find(needle) == std::string::npos) {
      if (!read_some()) return false;
    }
    return true;
  }
  /// Reads until the peer closes the connection (true) or 3 s pass without it (false).
  bool read_until_closed() {
    while (read_some()) {
    }
    return closed;
  }

  std::string data;
  bool closed = false;

 private:
  bool read_some() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      data.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    closed = n == 0 || errno == ECONNRESET;
    return false;
  }
  int fd_;
};

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

const std::string kBody = "grant_type=authorization_code&code=x";

// The request must be refused with 400 or 501 and the connection closed: a body whose length cannot be known
// cannot be skipped to reach the next request (request smuggling).
void expect_refused_and_closed(std::uint16_t port, const std::string& headers, const std::string& body) {
  RawSocket s(port);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.send("POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
                     headers + "\r\n" + body));
  EXPECT_TRUE(s.read_until_closed()) << "the connection must be closed; got: " << s.data;
  const int status = status_of(s.data);
  EXPECT_TRUE(status == 400 || status == 501) << headers << " -> " << s.data;
}

TEST(HttpFramingTest, TransferEncodingNotEndingInChunkedWithContentLengthIs400AndCloses) {
  TestServer server;
  const std::string cl = "Content-Length: " + std::to_string(kBody.size()) + "\r\n";
  for (const char* te : {"identity", "gzip", "chunked, gzip", "xchunked"}) {
    SCOPED_TRACE(te);
    expect_refused_and_closed(server.port(), std::string("Transfer-Encoding: ") + te + "\r\n" + cl, kBody);
  }
}

TEST(HttpFramingTest, TransferEncodingNotEndingInChunkedWithoutContentLengthIs400AndCloses) {
  TestServer server;
  for (const char* te : {"identity", "gzip", "chunked, gzip", "xchunked"}) {
    SCOPED_TRACE(te);
    expect_refused_and_closed(server.port(), std::string("Transfer-Encoding: ") + te + "\r\n", kBody);
  }
}

TEST(HttpFramingTest, UnsupportedCodingBeforeChunkedIsRefusedAndCloses) {
  TestServer server;
  const std::string chunked = "5\r\nhello\r\n0\r\n\r\n";
  for (const char* te : {"gzip, chunked", "identity, chunked", "chunked, chunked"}) {
    SCOPED_TRACE(te);
    expect_refused_and_closed(server.port(), std::string("Transfer-Encoding: ") + te + "\r\n", chunked);
  }
  RawSocket s(server.port());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.send("POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked));
  ASSERT_TRUE(s.read_until_closed());
  EXPECT_EQ(status_of(s.data), 501) << "a coding the server does not implement: 501 (RFC 9112 section 6.1)";
}

TEST(HttpFramingTest, ChunkedTogetherWithContentLengthIs400AndCloses) {
  TestServer server;
  const std::string chunked = std::to_string(kBody.size()) + "\r\n" + kBody + "\r\n0\r\n\r\n";
  expect_refused_and_closed(server.port(), "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", chunked);
  expect_refused_and_closed(server.port(), "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", chunked);
}

TEST(HttpFramingTest, PlainChunkedIsStillServedOnAKeptAliveConnection) {
  TestServer server;
  RawSocket s(server.port());
  ASSERT_TRUE(s.ok());
  std::string hex = "24";  // kBody.size() == 36
  ASSERT_EQ(kBody.size(), 36U);
  const std::string request =
      "POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      hex + "\r\n" + kBody + "\r\n0\r\n\r\n";
  ASSERT_TRUE(s.send(request));
  ASSERT_TRUE(s.read_until("\r\n\r\n"));
  // Processed by the token endpoint (no client credentials: 400 or 401 with an OAuth error), not refused as framing.
  EXPECT_TRUE(s.read_until("\"error\""));
  EXPECT_EQ(s.data.find("not valid HTTP"), std::string::npos) << s.data;
  s.data.clear();
  ASSERT_TRUE(s.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(s.read_until("\r\n\r\n")) << "the connection stays open after a well-framed chunked request";
  EXPECT_EQ(status_of(s.data), 200);
}

TEST(HttpFramingTest, ExpectContinueGets100BeforeTheBodyIsSent) {
  TestServer server;
  RawSocket s(server.port());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(
      s.send("POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Expect: 100-continue\r\nContent-Length: " +
             std::to_string(kBody.size()) + "\r\n\r\n"));
  // The client sends nothing more until the interim answer arrives: no timing involved, only the 3 s bound.
  ASSERT_TRUE(s.read_until("\r\n\r\n")) << "no 100 Continue came: " << s.data;
  EXPECT_EQ(s.data.rfind("HTTP/1.1 100 Continue\r\n", 0), 0U) << s.data;
  s.data.clear();
  ASSERT_TRUE(s.send(kBody));
  ASSERT_TRUE(s.read_until("\"error\"")) << s.data;
  EXPECT_TRUE(status_of(s.data) == 400 || status_of(s.data) == 401) << s.data;
}

TEST(HttpFramingTest, ExpectContinueOnARequestRefusedFromItsHeadersGetsTheFinalStatusAndClose) {
  TestServer server;
  RawSocket s(server.port());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(
      s.send("POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10000000\r\n\r\n"));
  EXPECT_TRUE(s.read_until_closed()) << s.data;
  EXPECT_EQ(status_of(s.data), 413) << s.data;
  EXPECT_EQ(s.data.find("100 Continue"), std::string::npos) << s.data;
}

}  // namespace
}  // namespace boltauth::testing
