// Bolt / OAuth over a scripted transport: what is sent, and how each kind of answer maps to a result or exception.
#include <gtest/gtest.h>

#include "boltauth/bolt.hpp"
#include "fake_transport.hpp"

namespace boltauth {
namespace {

using sdktest::connection_error;
using sdktest::FakeTransport;
using sdktest::header_of;
using sdktest::respond;

constexpr const char* kOk =
    R"({"access_token":"at","expires_in":3600,"refresh_token":"rt","refresh_token_scope":"bolt.account.view",)"
    R"("scope":"bolt.account.view","token_type":"bearer"})";

struct Fixture {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::unique_ptr<Bolt> bolt;
  explicit Fixture(BoltOptions o = {}) {
    o.transport = transport;
    o.retry_config.strategy = RetryConfig::Strategy::none;
    bolt = std::make_unique<Bolt>(std::move(o));
  }
};

models::OAuthTokenInputRefresh refresh_body() {
  return {"pk.section.last",   "secret",    models::OAuthTokenInputRefreshGrantType::refresh_token, "rt 1",
          "bolt.account.view", std::nullopt};
}

TEST(BoltClient, ServerSelection) {
  for (std::size_t i = 0; i < kServerList.size(); ++i) {
    BoltOptions o;
    o.server_idx = i;
    o.transport = std::make_shared<FakeTransport>();
    EXPECT_EQ(Bolt(o).server_url(), kServerList[i]);
  }
  BoltOptions bad;
  bad.server_idx = 3;
  EXPECT_THROW(Bolt{bad}, std::invalid_argument);
  BoltOptions url;
  url.server_url = "http://127.0.0.1:9999//";
  url.server_idx = 2;
  url.transport = std::make_shared<FakeTransport>();
  EXPECT_EQ(Bolt(url).server_url(), "http://127.0.0.1:9999") << "server_url wins, trailing slashes dropped";
  BoltOptions ftp;
  ftp.server_url = "ftp://example.com";
  EXPECT_THROW(Bolt{ftp}, std::invalid_argument);
}

TEST(BoltClient, SendsTheFormAndHeaders) {
  BoltOptions o;
  o.server_url = "https://api-sandbox.bolt.com";
  o.x_api_key = "api-key";
  o.extra_headers = {{"X-Bolt-Source-Name", "cpp-test"}};
  o.timeout = std::chrono::milliseconds(1234);
  Fixture f(o);
  f.transport->script.push_back(respond(200, kOk, "application/json; charset=utf-8"));
  const auto response = f.bolt->o_auth().o_auth_token(refresh_body(), std::string("pk.section.last"));
  EXPECT_EQ(response.access_token, "at");
  EXPECT_EQ(response.expires_in, 3600);
  const auto requests = f.transport->requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api-sandbox.bolt.com/v1/oauth/token");
  EXPECT_EQ(r.body,
            "grant_type=refresh_token&refresh_token=rt%201&client_id=pk.section.last&client_secret=secret&scope=bolt."
            "account.view");
  EXPECT_EQ(header_of(r, "Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(header_of(r, "X-API-Key"), "api-key");
  EXPECT_EQ(header_of(r, "X-Publishable-Key"), "pk.section.last");
  EXPECT_EQ(header_of(r, "X-Bolt-Source-Name"), "cpp-test");
  EXPECT_EQ(r.timeout, std::chrono::milliseconds(1234));
}

TEST(BoltClient, OAuthErrorStatusesThrowTypedErrors) {
  for (int status : {400, 403, 422}) {
    Fixture f;
    const std::string body = R"({"error":"invalid_grant","error_description":"nope"})";
    f.transport->script.push_back(respond(status, body));
    try {
      f.bolt->o_auth().o_auth_token(refresh_body());
      ADD_FAILURE() << "no exception for " << status;
    } catch (const errors::ErrorsOauthServerResponse& e) {
      EXPECT_EQ(e.status_code(), status);
      EXPECT_EQ(e.data().error, "invalid_grant");
      EXPECT_EQ(e.data().error_description, "nope");
      EXPECT_EQ(e.body(), body);
    }
  }
}

TEST(BoltClient, OtherFailuresAreApiErrors) {
  struct Case {
    TransportResult answer;
    int status;
  };
  std::vector<Case> cases{
      {respond(401, R"({"error":"invalid_client"})"), 401},
      {respond(429, R"({"error":"slow_down"})", "application/json", {{"retry-after", "1"}}), 429},
      {respond(500, R"({"error":"server_error"})"), 500},
      {respond(503, "<html>busy</html>", "text/html"), 503},
      {respond(400, "plain text", "text/plain"), 400},         // 400 without the JSON body
      {respond(422, R"({"error":7})"), 422},                   // JSON, but not the model
      {respond(200, "<html>login</html>", "text/html"), 200},  // a 200 that is not JSON
      {respond(200, R"({"expires_in":"soon"})"), 200},         // JSON, wrong field type
      {respond(200, "{not json", "application/json"), 200},    // declared JSON, is not
      {respond(302, "", ""), 302},                             // redirects are not followed
      {connection_error(true), 0},
  };
  for (auto& c : cases) {
    Fixture f;
    f.transport->script.push_back(c.answer);
    try {
      f.bolt->o_auth().o_auth_token(refresh_body());
      ADD_FAILURE() << "no exception for " << c.status;
    } catch (const errors::APIError& e) {
      EXPECT_EQ(e.status_code(), c.status);
      if (c.answer.response) {
        EXPECT_EQ(e.body(), c.answer.response->body);
      }
    }
  }
}

TEST(BoltClient, NonThrowingForm) {
  Fixture f;
  f.transport->script.push_back(respond(200, kOk));
  f.transport->script.push_back(respond(422, R"({"error":"invalid_grant"})"));
  f.transport->script.push_back(respond(401, "{}"));
  auto ok = f.bolt->o_auth().o_auth_token_result(refresh_body());
  ASSERT_TRUE(std::holds_alternative<models::OAuthTokenResponse>(ok));
  EXPECT_EQ(std::get<models::OAuthTokenResponse>(ok).refresh_token, "rt");
  auto oauth = f.bolt->o_auth().o_auth_token_result(refresh_body());
  ASSERT_TRUE(std::holds_alternative<errors::ErrorsOauthServerResponse>(oauth));
  EXPECT_EQ(std::get<errors::ErrorsOauthServerResponse>(oauth).data().error, "invalid_grant");
  auto api = f.bolt->o_auth().o_auth_token_result(refresh_body());
  ASSERT_TRUE(std::holds_alternative<errors::APIError>(api));
  EXPECT_EQ(std::get<errors::APIError>(api).status_code(), 401);
}

TEST(BoltClient, TokenRequestsAreRetriedOnlyWhenSafe) {
  BoltOptions o;
  o.transport = std::make_shared<FakeTransport>();
  auto* transport = static_cast<FakeTransport*>(o.transport.get());
  std::vector<std::chrono::milliseconds> sleeps;
  o.retry_env.sleep = [&sleeps](std::chrono::milliseconds d) { sleeps.push_back(d); };
  o.retry_env.jitter = [] { return 0.0; };
  Bolt bolt(o);
  transport->script.push_back(respond(503, R"({"error":"temporarily_unavailable"})"));
  transport->script.push_back(respond(200, kOk));
  EXPECT_EQ(bolt.o_auth().o_auth_token(refresh_body()).access_token, "at");
  EXPECT_EQ(sleeps, std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(500)});

  transport->script.push_back(respond(500, R"({"error":"server_error"})"));
  transport->script.push_back(respond(200, kOk));
  EXPECT_THROW(bolt.o_auth().o_auth_token(refresh_body()), errors::APIError);
  EXPECT_EQ(transport->requests().size(), 3u) << "a 500 after a code or refresh token was sent is not retried";
}

}  // namespace
}  // namespace boltauth
