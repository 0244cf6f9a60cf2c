// HTTP surface limits (checklist A6, A7): oversized input is refused cheaply and the server stays up.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/ports/commit_gate.hpp"
#include "http/http_server.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

bool server_alive(TestServer& server) {
  HttpClient fresh(server.port());
  return fresh.get("/health").status == 200;
}

TEST(HttpLimitsTest, OversizedBodyIs413) {
  TestServer server;
  HttpClient http(server.port());
  auto res = http.post_form("/v1/oauth/token", "grant_type=" + std::string(200 * 1024, 'a'));
  EXPECT_EQ(res.status, 413);
  EXPECT_TRUE(server_alive(server));
}

TEST(HttpLimitsTest, OversizedHeadersAre431) {
  TestServer server;
  HttpClient http(server.port());
  auto res = http.request("GET", "/health", {{"X-Big", std::string(64 * 1024, 'h')}});
  EXPECT_EQ(res.status, 431);
  EXPECT_TRUE(server_alive(server));
}

TEST(HttpLimitsTest, TooManyParametersIsInvalidRequest) {
  TestServer server;
  auto client = server.create_client();
  std::string body =
      "grant_type=authorization_code&client_id=" + client.client.id + "&client_secret=" + client.client_secret;
  for (int i = 0; i < 100; ++i) body += "&p" + std::to_string(i) + "=x";
  auto res = server.http().post_form("/v1/oauth/token", body);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_request");
}

TEST(HttpLimitsTest, GarbageRequestIs400AndServerStaysUp) {
  TestServer server;
  HttpClient http(server.port());
  auto res = http.raw("\x16\x03\x01garbage that is not http\r\n\r\n");
  EXPECT_EQ(res.status, 400);
  res = http.raw("POST /v1/oauth/token HTTP/1.1\r\nContent-Length: -5\r\n\r\n");
  EXPECT_EQ(res.status, 400);
  EXPECT_TRUE(server_alive(server));
}

TEST(HttpLimitsTest, UnknownPathIs404Json) {
  TestServer server;
  auto res = server.http().get("/nope");
  EXPECT_EQ(res.status, 404);
  EXPECT_TRUE(res.json().is_object());
}

TEST(HttpLimitsTest, KeepAliveServesManyRequestsOnOneConnection) {
  TestServer server;
  HttpClient http(server.port());
  for (int i = 0; i < 50; ++i) ASSERT_EQ(http.get("/health").status, 200);
}

int connect_raw(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until the peer closes; true when it closed within `seconds`.
bool closed_within(int fd, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(seconds)) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
  return false;
}

TEST(HttpLimitsTest, SlowlorisIsCutOffAtTheRequestTimeout) {
  TestServer server([](server::AppOptions& o) { o.server.limits.request_timeout_seconds = 1; });
  const int fd = connect_raw(server.port());
  ASSERT_GE(fd, 0);
  const std::string partial = "POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL), static_cast<ssize_t>(partial.size()));
  EXPECT_TRUE(closed_within(fd, 5)) << "a request that never completes must be cut off";
  ::close(fd);
  EXPECT_TRUE(server_alive(server));
}

TEST(HttpLimitsTest, IdleKeepAliveConnectionsAreClosed) {
  TestServer server([](server::AppOptions& o) {
    o.server.limits.request_timeout_seconds = 1;
    o.server.limits.idle_timeout_seconds = 1;
  });
  const int fd = connect_raw(server.port());
  ASSERT_GE(fd, 0);
  const std::string req = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_GT(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), 0);
  EXPECT_TRUE(closed_within(fd, 5));
  ::close(fd);
}

TEST(HttpLimitsTest, ConnectionCountIsBounded) {
  TestServer server([](server::AppOptions& o) { o.server.limits.max_connections = 4; });
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) fds.push_back(connect_raw(server.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int over = connect_raw(server.port());
  ASSERT_GE(over, 0);
  EXPECT_TRUE(closed_within(over, 3)) << "the fifth connection must be closed at once";
  ::close(over);
  for (int fd : fds) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(server_alive(server)) << "capacity comes back when connections close";
}

}  // namespace
}  // namespace boltauth::testing

namespace boltauth::testing {
namespace {

TEST(HttpServerLifecycleTest, StopFromAnotherThreadEndsRunUntilSignal) {
  TestServer server;
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    server.app().run_until_signal();
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.app().stop();
  for (int i = 0; i < 100 && !returned; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(returned) << "run_until_signal must return once the server is stopped";
  waiter.join();
}

/// A CommitGate that settles every scope at once and counts the scopes it was asked to open.
class CountingGate final : public core::ports::CommitGate {
 public:
  void begin_deferred() override { scopes.fetch_add(1); }
  Ticket end_deferred() override { return Ticket{1, 1, 1}; }
  void when_durable(const Ticket&, std::function<void(bool)> done) override { done(true); }
  std::atomic<int> scopes{0};
};

TEST(HttpServerLifecycleTest, OnceStopBeganADeferredRequestRunsOnTheWorkerPoolWhichStopWaitsFor) {
  // A held answer's batch may be settled by its loop's own thread; once stop() began, that loop may stop before, so a
  // request read while draining must not be held on it.
  CountingGate gate;
  std::atomic<bool> release{false};
  http::Pipeline pipeline;
  pipeline.place = [](const core::Request& r) {
    return r.path == "/slow" ? http::Placement::worker : http::Placement::inline_deferred;
  };
  pipeline.gate = &gate;
  http::HttpServer server(
      http::ServerOptions{"127.0.0.1", 0, 1, 4, {}, {}},
      [&](const core::Request& r) {
        while (r.path == "/slow" && !release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return core::Response{200, "text/plain", {}, "ok"};
      },
      [](std::string_view) {}, pipeline);
  const auto port = server.start();
  HttpClient held(port);
  HttpClient slow(port);
  ASSERT_EQ(held.get("/deferred").status, 200);
  EXPECT_EQ(gate.scopes.load(), 1);

  // A slow request keeps stop() draining while another request arrives on an open connection.
  std::thread slow_request([&] { EXPECT_EQ(slow.get("/slow").status, 200); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread stopping([&] { server.stop(10); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(held.get("/deferred").status, 200);
  EXPECT_EQ(gate.scopes.load(), 1) << "a request read while draining was held on its loop";
  release = true;
  slow_request.join();
  stopping.join();
}

}  // namespace
}  // namespace boltauth::testing
