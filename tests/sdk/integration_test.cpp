// The SDK against a real boltauth server on a loopback port (libcurl transport, real HTTP): code exchange, the
// contract's error table as typed errors, retries on injected faults, TokenManager from 8 threads, the example
// binary, and id_token verification with the live JWKS across a key rotation.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <barrier>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/base64url.hpp"
#include "boltauth/boltauth.hpp"
#include "crypto/signing_key.hpp"
#include "front_server.hpp"
#include "server/key_files.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace boltauth {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using sdktest::FrontServer;
using testing::TestServer;

// The machine may have a proxy configured; loopback traffic must not go through it.
const bool kNoProxy = [] {
  setenv("no_proxy", "*", 1);
  setenv("NO_PROXY", "*", 1);
  return true;
}();

std::string url_of(TestServer& server) { return "http://127.0.0.1:" + std::to_string(server.port()); }

// Sleeps recorded instead of slept; the retry loop's steady clock moves with them. `on_sleep` may move the server's
// clock too (so a Retry-After really elapses for the server).
struct FakeSleep {
  std::vector<std::chrono::milliseconds> sleeps;
  std::chrono::steady_clock::time_point now{};
  std::function<void(std::chrono::milliseconds)> on_sleep;
  RetryEnv env() {
    RetryEnv e;
    e.now = [this] { return now; };
    e.sleep = [this](std::chrono::milliseconds d) {
      sleeps.push_back(d);
      now += d;
      if (on_sleep) on_sleep(d);
    };
    e.jitter = [] { return 0.0; };
    return e;
  }
};

BoltOptions options_for(const std::string& url, bool retries = false) {
  BoltOptions o;
  o.server_url = url;
  if (!retries) o.retry_config.strategy = RetryConfig::Strategy::none;
  return o;
}

models::OAuthTokenInput code_body(const core::CreatedClient& client, const std::string& code,
                                  const std::string& scope = "bolt.account.manage openid") {
  models::OAuthTokenInput b;
  b.client_id = client.client.publishable_key;
  b.client_secret = client.client_secret;
  b.code = code;
  b.scope = scope;
  return b;
}

models::OAuthTokenInputRefresh refresh_body(const core::CreatedClient& client, const std::string& refresh_token) {
  models::OAuthTokenInputRefresh b;
  b.client_id = client.client.publishable_key;
  b.client_secret = client.client_secret;
  b.refresh_token = refresh_token;
  b.scope = "bolt.account.view";
  return b;
}

// The OAuth error the call throws, or fails the test.
errors::ErrorsOauthServerResponse oauth_error(const Bolt& bolt, const models::OAuthTokenRequestBody& body) {
  auto result = bolt.o_auth().o_auth_token_result(body);
  if (auto* e = std::get_if<errors::ErrorsOauthServerResponse>(&result)) return *e;
  ADD_FAILURE() << "expected ErrorsOauthServerResponse, got variant index " << result.index();
  return errors::ErrorsOauthServerResponse({}, 0, {});
}

errors::APIError api_error(const Bolt& bolt, const models::OAuthTokenRequestBody& body) {
  auto result = bolt.o_auth().o_auth_token_result(body);
  if (auto* e = std::get_if<errors::APIError>(&result)) return *e;
  ADD_FAILURE() << "expected APIError, got variant index " << result.index();
  return errors::APIError("", -1, {});
}

TEST(SdkIntegration, ExchangeAndVerifyIdToken) {
  TestServer server;
  const auto client = server.create_client();
  BoltOptions o = options_for(url_of(server));
  o.x_api_key = client.client_secret;
  Bolt bolt(o);
  const auto r =
      bolt.o_auth().o_auth_token(code_body(client, server.sandbox_code(client)), client.client.publishable_key);
  ASSERT_TRUE(r.access_token && r.refresh_token && r.id_token);
  EXPECT_EQ(r.token_type, "bearer");
  EXPECT_EQ(r.expires_in, 3600);
  EXPECT_EQ(r.refresh_token_scope, "bolt.account.view");
  EXPECT_EQ(r.scope, "bolt.account.manage openid");

  IdTokenVerifierOptions vo;
  vo.issuer = server.issuer();
  vo.client_id = client.client.id;
  vo.now = [&server] { return std::chrono::system_clock::time_point(std::chrono::seconds(server.clock().now())); };
  IdTokenVerifier verifier(bolt.options().transport, vo);
  const IdTokenClaims claims = verifier.verify(*r.id_token, std::nullopt, *r.access_token);
  EXPECT_FALSE(claims.sub.empty());
  // Authenticated with the publishable key: aud names both spellings, the canonical id first.
  EXPECT_EQ(claims.aud, (std::vector<std::string>{client.client.id, client.client.publishable_key}));
  EXPECT_TRUE(claims.email.has_value());
  EXPECT_TRUE(claims.email_verified.has_value());
  EXPECT_TRUE(claims.at_hash.has_value());
  EXPECT_THROW(verifier.verify(*r.id_token, std::nullopt, "not the access token"), errors::IdTokenError);

  // The access token works on the resource endpoint; the refresh token refreshes.
  EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + *r.access_token}}).status, 200);
  const auto refreshed = bolt.o_auth().o_auth_token(refresh_body(client, *r.refresh_token));
  EXPECT_EQ(refreshed.scope, "bolt.account.view");
  EXPECT_FALSE(refreshed.id_token.has_value());
  EXPECT_NE(refreshed.refresh_token, r.refresh_token);
}

// ---- the contract's error table, one row at a time ---------------------------------------------------

TEST(SdkIntegration, Error400InvalidRequest) {
  // Bolt requires scope; boltauth does when told to (by default an absent scope is the code's, RFC 6749 4.1.3).
  TestServer server([](server::AppOptions& o) { o.config.token_scope_required = true; });
  const auto client = server.create_client();
  Bolt bolt(options_for(url_of(server)));
  const auto e = oauth_error(bolt, code_body(client, server.sandbox_code(client), ""));  // scope missing
  EXPECT_EQ(e.status_code(), 400);
  EXPECT_EQ(e.data().error, "invalid_request");
  EXPECT_FALSE(e.data().error_description.value_or("").empty());
}

TEST(SdkIntegration, Error400InvalidScope) {
  TestServer server;
  const auto client = server.create_client();
  Bolt bolt(options_for(url_of(server)));
  const auto e = oauth_error(bolt, code_body(client, server.sandbox_code(client), "bolt.account.manage bolt.nope"));
  EXPECT_EQ(e.status_code(), 400);
  EXPECT_EQ(e.data().error, "invalid_scope");
}

TEST(SdkIntegration, Error401InvalidClientIsApiError) {
  TestServer server;
  const auto client = server.create_client();
  Bolt bolt(options_for(url_of(server)));
  auto body = code_body(client, server.sandbox_code(client));
  body.client_secret = "wrong";
  const auto e = api_error(bolt, body);
  EXPECT_EQ(e.status_code(), 401);
  EXPECT_EQ(json::parse(e.body()).at("error"), "invalid_client");
}

TEST(SdkIntegration, Error403RequestForbidden) {
  TestServer server;
  const auto client = server.create_client();
  const auto other = server.create_client();
  BoltOptions o = options_for(url_of(server));
  o.x_api_key = other.client_secret;  // X-API-Key naming another client
  Bolt bolt(o);
  const auto e = oauth_error(bolt, code_body(client, server.sandbox_code(client)));
  EXPECT_EQ(e.status_code(), 403);
  EXPECT_EQ(e.data().error, "request_forbidden");

  // A client not allowed the refresh grant.
  const auto code_only = server.create_client({}, {"authorization_code"});
  Bolt plain(options_for(url_of(server)));
  const auto first = plain.o_auth().o_auth_token(code_body(code_only, server.sandbox_code(code_only)));
  const auto e2 = oauth_error(plain, refresh_body(code_only, first.refresh_token.value_or("none")));
  EXPECT_EQ(e2.status_code(), 403);
  EXPECT_EQ(e2.data().error, "request_forbidden");
}

// The models cannot spell another grant type, so a transport wrapper rewrites it on the way out.
class GrantRewriter final : public Transport {
 public:
  TransportResult send(const HttpRequest& request) override {
    HttpRequest copy = request;
    const std::string from = "grant_type=authorization_code";
    copy.body.replace(copy.body.find(from), from.size(), "grant_type=password");
    return inner_.send(copy);
  }

 private:
  CurlTransport inner_;
};

TEST(SdkIntegration, Error403UnsupportedGrantType) {
  TestServer server;
  const auto client = server.create_client();
  BoltOptions o = options_for(url_of(server));
  o.transport = std::make_shared<GrantRewriter>();
  Bolt bolt(o);
  const auto e = oauth_error(bolt, code_body(client, "whatever"));
  EXPECT_EQ(e.status_code(), 403);
  EXPECT_EQ(e.data().error, "unsupported_grant_type");
}

TEST(SdkIntegration, Error422InvalidGrant) {
  TestServer server;
  const auto client = server.create_client();
  Bolt bolt(options_for(url_of(server)));
  const std::string code = server.sandbox_code(client);
  bolt.o_auth().o_auth_token(code_body(client, code));
  try {
    bolt.o_auth().o_auth_token(code_body(client, code));
    FAIL() << "a code redeemed twice";
  } catch (const errors::ErrorsOauthServerResponse& e) {
    EXPECT_EQ(e.status_code(), 422);
    EXPECT_EQ(e.data().error, "invalid_grant");
    EXPECT_EQ(json::parse(e.body()).at("error"), "invalid_grant");
  }
}

TEST(SdkIntegration, Error429SlowDownThenRetryAfterHonoured) {
  TestServer server([](server::AppOptions& o) { o.config.token_rate_limit_per_client = 1; });
  const auto client = server.create_client();
  const std::string code1 = server.sandbox_code(client);
  const std::string code2 = server.sandbox_code(client);
  const std::string code3 = server.sandbox_code(client);
  Bolt no_retry(options_for(url_of(server)));
  no_retry.o_auth().o_auth_token(code_body(client, code1));
  const auto e = api_error(no_retry, code_body(client, code2));
  EXPECT_EQ(e.status_code(), 429);
  EXPECT_EQ(json::parse(e.body()).at("error"), "slow_down");
  std::optional<std::string> retry_after;
  for (const auto& [k, v] : e.headers())
    if (k == "retry-after") retry_after = v;
  ASSERT_TRUE(retry_after);

  // With retries: the SDK waits Retry-After (the fake sleep moves the server's clock by as much) and succeeds.
  FakeSleep sleep;
  sleep.on_sleep = [&server](std::chrono::milliseconds d) {
    server.clock().advance(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  };
  BoltOptions o = options_for(url_of(server), true);
  o.retry_env = sleep.env();
  Bolt retrying(o);
  const auto r = retrying.o_auth().o_auth_token(code_body(client, code3));
  EXPECT_TRUE(r.access_token.has_value());
  ASSERT_EQ(sleep.sleeps.size(), 1u);
  EXPECT_EQ(sleep.sleeps[0], std::chrono::seconds(std::stoi(*retry_after)));
}

TEST(SdkIntegration, Error500And503AreApiErrors) {
  TestServer server;
  const auto client = server.create_client();
  // Storage failures cannot be provoked on demand here; the front answers with the server's own 5xx bodies.
  FrontServer front(server.port(), [](const core::Request&, int index) -> std::optional<core::Response> {
    if (index == 1) return FrontServer::json_response(500, R"({"error":"server_error","error_description":"x"})");
    if (index == 2) {
      return FrontServer::json_response(503, R"({"error":"temporarily_unavailable","error_description":"x"})");
    }
    return std::nullopt;
  });
  Bolt bolt(options_for(front.url()));
  const std::string code = server.sandbox_code(client);
  EXPECT_EQ(api_error(bolt, code_body(client, code)).status_code(), 500);
  EXPECT_EQ(api_error(bolt, code_body(client, code)).status_code(), 503);
  EXPECT_TRUE(bolt.o_auth().o_auth_token(code_body(client, code)).access_token) << "the code was never used";
}

TEST(SdkIntegration, TransportFailureIsApiErrorWithStatusZero) {
  // A port bound but not listening: connections are refused, and nobody else can take the port meanwhile.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  FakeSleep sleep;
  BoltOptions o = options_for("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), true);
  o.retry_config.backoff.max_elapsed_time = 2s;
  o.retry_env = sleep.env();
  Bolt bolt(o);
  const auto e = api_error(bolt, models::OAuthTokenInput{});
  ::close(fd);
  EXPECT_EQ(e.status_code(), 0);
  // Refused connections never carried the request, so even a code exchange is retried (500 + 750 ms fit in 2 s).
  EXPECT_EQ(sleep.sleeps.size(), 2u);
}

// ---- retries ---------------------------------------------------------------------------------------------

TEST(SdkIntegration, RetriesAnInjected503) {
  TestServer server;
  const auto client = server.create_client();
  FrontServer front(server.port(), [](const core::Request&, int index) -> std::optional<core::Response> {
    if (index == 1) {
      return FrontServer::json_response(503, R"({"error":"temporarily_unavailable","error_description":"busy"})",
                                        {{"Retry-After", "2"}});
    }
    if (index == 2) return FrontServer::json_response(503, R"({"error":"temporarily_unavailable"})");
    return std::nullopt;
  });
  FakeSleep sleep;
  BoltOptions o = options_for(front.url(), true);
  o.retry_env = sleep.env();
  Bolt bolt(o);
  const auto r = bolt.o_auth().o_auth_token(code_body(client, server.sandbox_code(client)));
  EXPECT_TRUE(r.access_token.has_value());
  EXPECT_EQ(front.token_requests(), 3);
  // Retry-After: 2 first, then the backoff schedule's second step (750 ms, no jitter).
  EXPECT_EQ(sleep.sleeps, (std::vector<std::chrono::milliseconds>{2000ms, 750ms}));
}

TEST(SdkIntegration, CodeExchangeIsNotRetriedAfterItMayHaveReachedTheServer) {
  TestServer server;
  const auto client = server.create_client();
  // The front forwards the first exchange (the server redeems the code) but answers 502 as a broken gateway would.
  FrontServer front(server.port(), [&](const core::Request& r, int index) -> std::optional<core::Response> {
    if (index == 1) {
      testing::HttpClient direct(server.port());
      direct.post_form(r.path, r.body);
      return FrontServer::json_response(502, "{}");
    }
    return std::nullopt;
  });
  FakeSleep sleep;
  BoltOptions o = options_for(front.url(), true);
  o.retry_env = sleep.env();
  Bolt bolt(o);
  const auto e = api_error(bolt, code_body(client, server.sandbox_code(client)));
  EXPECT_EQ(e.status_code(), 502);
  EXPECT_EQ(front.token_requests(), 1) << "no second redemption (which would revoke the first one's tokens)";
  EXPECT_TRUE(sleep.sleeps.empty());
}

// ---- TokenManager ------------------------------------------------------------------------------------------

TEST(SdkIntegration, TokenManagerEightThreadsOneRefreshPerExpiry) {
  TestServer server;
  const auto client = server.create_client();
  FrontServer front(server.port());
  Bolt bolt(options_for(front.url()));
  const auto first = bolt.o_auth().o_auth_token(code_body(client, server.sandbox_code(client)));
  ASSERT_TRUE(first.refresh_token);

  std::atomic<std::int64_t> now{1'900'000'000};
  TokenManagerOptions mo;
  mo.client_id = client.client.publishable_key;
  mo.client_secret = client.client_secret;
  mo.now = [&now] { return std::chrono::system_clock::time_point(std::chrono::seconds(now.load())); };
  std::mutex rotated_mutex;
  std::vector<std::string> rotated;
  TokenManager manager(bolt, mo, *first.refresh_token, [&](const std::string& rt, const models::OAuthTokenResponse&) {
    std::lock_guard lock(rotated_mutex);
    rotated.push_back(rt);
  });
  manager.set_tokens(first);
  EXPECT_EQ(manager.access_token(), *first.access_token);

  std::vector<std::string> refresh_tokens{*first.refresh_token};
  for (int round = 1; round <= 3; ++round) {
    now += 3600;  // the access token has expired
    std::vector<std::string> got(8);
    std::barrier sync(8);
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        sync.arrive_and_wait();
        try {
          got[i] = manager.access_token();
        } catch (const std::exception& e) {
          got[i] = std::string("error: ") + e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(front.token_requests("grant_type=refresh_token"), round) << "exactly one refresh per expiry";
    for (const auto& g : got) EXPECT_EQ(g, got[0]);
    EXPECT_NE(got[0], *first.access_token);
    EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + got[0]}}).status, 200);
    refresh_tokens.push_back(manager.refresh_token());
  }
  EXPECT_EQ(rotated, std::vector<std::string>(refresh_tokens.begin() + 1, refresh_tokens.end()));
  // Rotation really happened on the server: the first refresh token is dead.
  EXPECT_EQ(server.refresh(client, *first.refresh_token).status, 422);
}

// ---- the example binary ------------------------------------------------------------------------------------

struct ExampleRun {
  int exit_code;
  std::string out;
  std::string err;
};

ExampleRun run_example(const std::string& args, const char* binary = BOLTAUTH_EXAMPLE_EXCHANGE) {
  testing::TempDir dir;
  const auto out = dir.path() / "out";
  const auto err = dir.path() / "err";
  const std::string cmd = std::string(binary) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return ExampleRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

TEST(SdkIntegration, ExampleTokenExchange) {
  TestServer server;
  const auto client = server.create_client();
  const std::string code = server.sandbox_code(client);
  const std::string args = "--server " + url_of(server) + " --client-id " + client.client.publishable_key +
                           " --client-secret " + client.client_secret + " --code " + code +
                           " --scope 'bolt.account.manage openid'";
  const ExampleRun ok = run_example(args);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto response = models::parse_oauth_token_response(ok.out);
  ASSERT_TRUE(response) << ok.out;
  EXPECT_TRUE(response->access_token && response->id_token && response->refresh_token);
  EXPECT_EQ(response->scope, "bolt.account.manage openid");

  const ExampleRun again = run_example(args);
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_TRUE(again.out.empty());
  const json::value err = json::parse(again.err);
  EXPECT_EQ(err.at("status"), 422);
  EXPECT_EQ(err.at("error"), "invalid_grant");
  EXPECT_TRUE(err.at("error_description").is_string());
}

TEST(SdkIntegration, ExampleReportsEachRetryAndGivesUpWhenTheServerIsDown) {
  // A port nothing listens on: every attempt is a connection error, which the token endpoint may retry (no byte of
  // the request was sent).
  std::uint16_t port = 0;
  {
    TestServer gone;
    port = gone.port();
  }
  const auto start = std::chrono::steady_clock::now();
  const ExampleRun run = run_example("--server http://127.0.0.1:" + std::to_string(port) +
                                     " --client-id a.b.c --client-secret s --code c --max-retry-seconds 2");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("bolt_token_exchange: retry 1 in "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("after connection error: "), std::string::npos) << run.err;
  EXPECT_LT(took, std::chrono::seconds(10)) << "gave up after --max-retry-seconds, not the SDK's hour";
  // Without the flag: the default is 30 s, said in the usage text.
  const ExampleRun usage = run_example("--server x");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("--max-retry-seconds"), std::string::npos) << usage.err;
}

TEST(SdkIntegration, ExampleSessionVerifiesAndPersistsRotatedTokens) {
  // The example checks exp/iat against the system clock, so this server runs on it too.
  TestServer server([](server::AppOptions& o) { o.clock = nullptr; });
  const auto client = server.create_client();
  testing::TempDir dir;
  const auto state = dir.path() / "refresh_token";
  const ExampleRun run = run_example("--server " + url_of(server) + " --client-id " + client.client.publishable_key +
                                         " --client-secret " + client.client_secret + " --code " +
                                         server.sandbox_code(client) + " --refreshes 3 --state-file " + state.string(),
                                     BOLTAUTH_EXAMPLE_SESSION);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::istringstream lines(run.out);
  std::string line;
  std::vector<json::object> steps;
  while (std::getline(lines, line)) steps.push_back(json::parse(line).as_object());
  ASSERT_EQ(steps.size(), 5u) << run.out;
  EXPECT_EQ(steps[0].at("step"), "id_token");
  EXPECT_FALSE(steps[0].at("sub").as_string().empty());
  EXPECT_EQ(steps[4].at("refreshes"), 3);
  // The persisted refresh token is the live one: it refreshes once more.
  std::ifstream in(state);
  std::string persisted;
  in >> persisted;
  ASSERT_FALSE(persisted.empty());
  EXPECT_EQ(server.refresh(client, persisted).status, 200);
}

// ---- id_token verification across a key rotation -----------------------------------------------------------

TEST(SdkIntegration, IdTokenVerificationBeforeAndAfterKeyRotation) {
  TestServer server;
  const auto client = server.create_client();
  const std::string issuer = server.issuer();

  IdTokenVerifierOptions vo;
  vo.issuer = issuer;
  vo.client_id = client.client.id;
  vo.now = [&server] { return std::chrono::system_clock::time_point(std::chrono::seconds(server.clock().now())); };
  IdTokenVerifier verifier(std::make_shared<CurlTransport>(), vo);

  Bolt bolt(options_for(url_of(server)));
  const auto before = bolt.o_auth().o_auth_token(code_body(client, server.sandbox_code(client)));
  const IdTokenClaims c1 = verifier.verify(*before.id_token);
  EXPECT_EQ(verifier.jwks_fetches(), 1u);
  const auto keys_before = server.http().get("/v1/oauth/jwks.json").json().at("keys").as_array().size();

  // Phased rotation as `boltauth keys rotate --alg RS256 --activation-delay 60` does it: the new key is published
  // at once, signs 60 s later; the running server picks it up without a restart.
  server::KeyFiles(server.data_dir()).rotate("RS256", 2048, server.clock().now(), 60);
  EXPECT_EQ(server.http().get("/v1/oauth/jwks.json").json().at("keys").as_array().size(), keys_before + 1);
  server.clock().advance(61);

  const auto after = bolt.o_auth().o_auth_token(code_body(client, server.sandbox_code(client)));
  const auto kid_of = [](const std::string& jwt) {
    const auto header = base::base64url_decode(jwt.substr(0, jwt.find('.')));
    return std::string(json::parse(std::string(header->begin(), header->end())).at("kid").as_string());
  };
  EXPECT_NE(kid_of(*before.id_token), kid_of(*after.id_token)) << "the new key signs";

  const IdTokenClaims c2 = verifier.verify(*after.id_token);
  // The verifier fetched the JWKS before the new key was published: one refetch for the unknown kid (61 s is
  // past its refetch rate limit).
  EXPECT_EQ(verifier.jwks_fetches(), 2u) << "one refetch for the unknown kid";
  EXPECT_EQ(c2.aud, c1.aud);
  EXPECT_NO_THROW(verifier.verify(*before.id_token)) << "the old key is still published";
  EXPECT_EQ(verifier.jwks_fetches(), 2u);
}

}  // namespace
}  // namespace boltauth
