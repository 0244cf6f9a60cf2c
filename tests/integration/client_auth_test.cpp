// Checklist B (client authentication), one test per item, over real HTTP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "base/base64url.hpp"
#include "protocol/basic_auth.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class ClientAuthTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  std::string code_body(const core::CreatedClient* c = nullptr) {
    return "grant_type=authorization_code&scope=bolt.account.manage%20openid&code=" +
           server.sandbox_code(c ? *c : client);
  }
  HttpResponse with_post_secret(const core::CreatedClient& c, const std::string& secret) {
    return server.http().post_form(
        "/v1/oauth/token",
        code_body(&c) + "&" + form({{"client_id", c.client.publishable_key}, {"client_secret", secret}}));
  }
};

// One HTTP/1.1 request from a chosen loopback source address (the server sees another remote address).
std::string post_from(const char* source, std::uint16_t port, const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  std::string response;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0) {
    const std::string request =
        "POST /v1/oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return response;
}

TEST_F(ClientAuthTest, ChecklistB1BasicAndPostBothWorkWithFormUrlencodedBasicCredentials) {
  EXPECT_EQ(with_post_secret(client, client.client_secret).status, 200);
  // RFC 6749 section 2.3.1: Basic credentials are form-urlencoded before base64; an encoded '.' or '-' must
  // decode to the same secret.
  std::string encoded;
  for (char ch : client.client_secret) {
    if (ch == '.')
      encoded += "%2E";
    else if (ch == '-')
      encoded += "%2D";
    else
      encoded += ch;
  }
  ASSERT_NE(encoded, client.client_secret) << "the secret should contain a '.' to encode";
  const std::string raw = client.client.publishable_key + ":" + encoded;
  // Standard base64 (RFC 7617): base64url with '+', '/' and padding.
  std::string b64 = base::base64url_encode(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()));
  for (char& ch : b64) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
  while (b64.size() % 4 != 0) b64 += '=';
  auto res = server.http().post_form("/v1/oauth/token", code_body(), {{"Authorization", "Basic " + b64}});
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(ClientAuthTest, ChecklistB2FailedBasicIs401WithWwwAuthenticate) {
  auto res = server.http().post_form(
      "/v1/oauth/token", code_body(),
      {{"Authorization", protocol::make_basic_auth(client.client.publishable_key, client.client_secret + "x")}});
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_client");
  ASSERT_TRUE(res.header("www-authenticate"));
  EXPECT_EQ(res.header("www-authenticate")->rfind("Basic realm=", 0), 0u) << *res.header("www-authenticate");
  auto post = with_post_secret(client, client.client_secret + "x");
  EXPECT_EQ(post.status, 401);
  EXPECT_FALSE(post.header("www-authenticate")) << "no Basic challenge when Basic was not used";
}

TEST_F(ClientAuthTest, ChecklistB3BasicAndBodySecretTogetherIsInvalidRequest) {
  auto res = server.http().post_form(
      "/v1/oauth/token", code_body() + "&client_secret=" + client.client_secret,
      {{"Authorization", protocol::make_basic_auth(client.client.publishable_key, client.client_secret)}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_request");
}

TEST_F(ClientAuthTest, ChecklistB4DatabaseHoldsNoUsableSecretOrToken) {
  auto res = with_post_secret(client, client.client_secret);
  ASSERT_EQ(res.status, 200);
  const std::string access(res.json().as_object().at("access_token").as_string());
  // Both the database file and its write-ahead log (or every row of a PostgreSQL database), as an attacker with a
  // copy of the store would.
  const std::string bytes = server.store_dump();
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(client.client_secret), std::string::npos) << "client secret stored in clear";
  EXPECT_EQ(bytes.find(client.client_secret.substr(0, 43)), std::string::npos);
  EXPECT_EQ(bytes.find(access.substr(0, 43)), std::string::npos) << "access token stored in clear";
}

TEST_F(ClientAuthTest, ChecklistB5RepeatedFailuresAreThrottledWithoutLockingOutOthers) {
  const auto other = server.create_client();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(with_post_secret(client, "wrong-" + std::to_string(i)).status, 401) << i;
  auto throttled = with_post_secret(client, "wrong-again");
  EXPECT_EQ(throttled.status, 429);
  ASSERT_TRUE(throttled.header("retry-after"));
  EXPECT_EQ(*throttled.header("retry-after"), "60");
  // From this address the client id is held off, right secret or not: that is what stops guessing here.
  EXPECT_EQ(with_post_secret(client, client.client_secret).status, 429);
  // Other clients are not affected.
  EXPECT_EQ(with_post_secret(other, other.client_secret).status, 200);
  // Nor is the same client from another address (the merchant's own server).
  const std::string body =
      code_body() + "&" + form({{"client_id", client.client.publishable_key}, {"client_secret", client.client_secret}});
  const std::string from_elsewhere = post_from("127.0.0.2", server.port(), body);
  EXPECT_EQ(from_elsewhere.rfind("HTTP/1.1 200", 0), 0u) << from_elsewhere.substr(0, 200);
  // The window ends; then the right secret works again and clears the count.
  server.clock().advance(59);
  EXPECT_EQ(*with_post_secret(client, "wrong").header("retry-after"), "1");
  server.clock().advance(1);
  EXPECT_EQ(with_post_secret(client, client.client_secret).status, 200);
  EXPECT_EQ(with_post_secret(client, "wrong").status, 401);
}

TEST_F(ClientAuthTest, ChecklistB5ThrottleIsSharedByTokenIntrospectionAndRevocation) {
  // Guesses spread over the three client-authenticated endpoints count against one budget, so alternating
  // endpoints buys an attacker nothing.
  const auto guess = [&](const char* path, int i) {
    return server.http().post_form(path, form({{"token", "x"},
                                               {"client_id", client.client.publishable_key},
                                               {"client_secret", "w" + std::to_string(i)}}));
  };
  for (int i = 0; i < 10; ++i) {
    const char* path = i % 3 == 0 ? "/v1/oauth/token" : i % 3 == 1 ? "/v1/oauth/introspect" : "/v1/oauth/revoke";
    EXPECT_EQ(guess(path, i).status, 401) << path;
  }
  for (const char* path : {"/v1/oauth/introspect", "/v1/oauth/revoke"}) {
    auto res = server.http().post_form(
        path,
        form({{"token", "x"}, {"client_id", client.client.publishable_key}, {"client_secret", client.client_secret}}));
    EXPECT_EQ(res.status, 429) << path;
    EXPECT_TRUE(res.header("retry-after")) << path;
  }
  EXPECT_EQ(with_post_secret(client, client.client_secret).status, 429);
}

TEST_F(ClientAuthTest, ChecklistB6SecretsAndTokensHave256BitsAndPrintableCharacters) {
  auto res = with_post_secret(client, client.client_secret);
  ASSERT_EQ(res.status, 200);
  const auto json = res.json();
  const auto& body = json.as_object();
  for (const std::string& value : {client.client_secret, std::string(body.at("access_token").as_string()),
                                   std::string(body.at("refresh_token").as_string())}) {
    // 32 random bytes in base64url are 43 characters before the MAC part.
    EXPECT_GE(value.find('.'), 43u) << value;
    for (char ch : value) EXPECT_TRUE(ch >= 0x20 && ch <= 0x7E) << value;
  }
}

}  // namespace
}  // namespace boltauth::testing

namespace boltauth::testing {
namespace {

// Behind a load balancer every request comes from the balancer's address: only its X-Forwarded-For tells
// shoppers and merchants apart, and only when the balancer is configured as trusted.
class ForwardedForTest : public ::testing::Test {
 protected:
  static HttpResponse wrong_secret(TestServer& server, const core::CreatedClient& c, const std::string& forwarded_for) {
    return server.http().post_form("/v1/oauth/token",
                                   "grant_type=refresh_token&refresh_token=x&" +
                                       form({{"client_id", c.client.publishable_key}, {"client_secret", "wrong"}}),
                                   {{"X-Forwarded-For", forwarded_for}});
  }
};

TEST_F(ForwardedForTest, FromATrustedProxyTheThrottleCountsTheForwardedClientAddress) {
  TestServer server([](server::AppOptions& o) { o.server.trusted_proxies = {"127.0.0.1/32"}; });
  const auto client = server.create_client();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(wrong_secret(server, client, "198.51.100.7").status, 401) << i;
  EXPECT_EQ(wrong_secret(server, client, "198.51.100.7").status, 429);
  // Another client address behind the same proxy is its own key; a chain is read from the right.
  EXPECT_EQ(wrong_secret(server, client, "203.0.113.9").status, 401);
  EXPECT_EQ(wrong_secret(server, client, "10.9.9.9, 198.51.100.7").status, 429);
}

TEST_F(ForwardedForTest, FromAnyoneElseXForwardedForIsIgnored) {
  TestServer server;  // no trusted proxies: 127.0.0.1 is just a client
  const auto client = server.create_client();
  // A different forged address on every attempt does not escape the throttle of the real address.
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(wrong_secret(server, client, "198.51.100." + std::to_string(i)).status, 401) << i;
  EXPECT_EQ(wrong_secret(server, client, "203.0.113.200").status, 429);
}

}  // namespace
}  // namespace boltauth::testing
