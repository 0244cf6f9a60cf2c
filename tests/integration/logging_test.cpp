// Logging of the real binary: the line format (--log-format, BOLTAUTH_LOG_FORMAT, log_format), one access line
// per request without any secret, X-Request-Id, and refusals at debug level.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "integration/process_util.hpp"
#include "protocol/form.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

// Sets an environment variable for the child processes this test starts (each test is its own process).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

std::optional<boost::json::object> json_line(const std::string& line) {
  if (line.empty() || line.front() != '{') return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

std::string str(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The log lines of a server process: every stdout line that is not the CLI's own output (the demo banner and
// the "listening on" line).
std::vector<std::string> log_lines(ServerProcess& server) {
  std::vector<std::string> out;
  for (const auto& l : server.process().stdout_lines())
    if (!l.empty() && (l.front() == '{' || l.front() == '[')) out.push_back(l);
  return out;
}

const std::regex kTextLine(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[(error|warning|info|debug)\] .+$)");
const std::regex kRfc3339Utc(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$)");

void expect_json_log(ServerProcess& server) {
  const auto lines = log_lines(server);
  ASSERT_FALSE(lines.empty()) << server.process().stdout_text();
  bool saw_start = false;
  for (const auto& l : lines) {
    auto o = json_line(l);
    ASSERT_TRUE(o) << "not a JSON object: " << l;
    EXPECT_TRUE(std::regex_match(str(*o, "time"), kRfc3339Utc)) << l;
    EXPECT_TRUE(std::regex_match(str(*o, "level"), std::regex("error|warning|info|debug"))) << l;
    saw_start |= str(*o, "msg").rfind("boltauth sandbox mode", 0) == 0;
  }
  EXPECT_TRUE(saw_start) << server.process().stdout_text();
}

void expect_text_log(ServerProcess& server) {
  const auto lines = log_lines(server);
  ASSERT_FALSE(lines.empty()) << server.process().stdout_text();
  for (const auto& l : lines) EXPECT_TRUE(std::regex_match(l, kTextLine)) << l;
}

TEST(LogFormat, TextIsTheDefault) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path());
  expect_text_log(server);
}

TEST(LogFormat, JsonFromTheFlagWritesOneObjectPerLine) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--log-format", "json"});
  expect_json_log(server);
}

TEST(LogFormat, JsonFromTheEnvironmentAndTheFlagWins) {
  ScopedEnv env("BOLTAUTH_LOG_FORMAT", "json");
  {
    TempDir dir;
    install_test_signing_key(dir.path());
    ServerProcess server(BOLTAUTH_BINARY, dir.path());
    expect_json_log(server);
  }
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--log-format", "text"});
  expect_text_log(server);
}

TEST(LogFormat, JsonFromTheConfigFileAndTheEnvironmentWins) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto config = dir.path() / "boltauth.toml";
  std::ofstream(config) << "log_format = \"json\"\n";
  {
    ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--config", config.string()});
    expect_json_log(server);
  }
  ScopedEnv env("BOLTAUTH_LOG_FORMAT", "text");
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--config", config.string()});
  expect_text_log(server);
}

TEST(LogFormat, AnUnknownFormatIsRefused) {
  TempDir dir;
  auto r = run_command(
      {BOLTAUTH_BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().string(), "--log-format", "xml"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--log-format"), std::string::npos) << r.err;
  ScopedEnv env("BOLTAUTH_LOG_FORMAT", "yaml");
  auto e = run_command({BOLTAUTH_BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().string()});
  EXPECT_NE(e.exit_code, 0);
}

// --- a full flow, its access lines and its secrets ---------------------------------------------------------

using Params = std::vector<std::pair<std::string, std::string>>;

// Sends requests to the server and counts them; keeps cookies (the login pages need them).
class Client {
 public:
  explicit Client(std::uint16_t port) : http_(port) {}
  HttpResponse send(const std::string& method, const std::string& target, Headers headers = {},
                    const std::string& body = {}) {
    std::string jar;
    for (const auto& [k, v] : cookies_) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
    if (!jar.empty()) headers.emplace_back("Cookie", jar);
    auto res = http_.request(method, target, headers, body);
    ++sent_;
    for (const auto& [k, v] : res.headers) {
      if (k != "set-cookie") continue;
      const auto eq = v.find('=');
      const auto semi = v.find(';');
      cookies_[v.substr(0, eq)] = v.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
    }
    return res;
  }
  HttpResponse post(const std::string& target, const Params& params, Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return send("POST", target, std::move(headers), form(params));
  }
  std::size_t sent() const { return sent_; }

 private:
  HttpClient http_;
  std::map<std::string, std::string> cookies_;
  std::size_t sent_ = 0;
};

std::string member(const HttpResponse& r, const char* key) {
  const auto v = r.json();
  if (!v.is_object()) return {};
  return str(v.as_object(), key);
}

std::string query_param(const std::string& url, const std::string& name) {
  const auto q = url.find('?');
  if (q == std::string::npos) return {};
  std::string rest = url.substr(q + 1);
  std::size_t start = 0;
  while (start <= rest.size()) {
    auto amp = rest.find('&', start);
    if (amp == std::string::npos) amp = rest.size();
    const auto pair = rest.substr(start, amp - start);
    if (pair.rfind(name + "=", 0) == 0) return protocol::form_decode(pair.substr(name.size() + 1)).value_or("");
    start = amp + 1;
  }
  return {};
}

std::string login_handle(const std::string& page) {
  std::smatch m;
  static const std::regex re("name=\"login\" value=\"([^\"]+)\"");
  return std::regex_search(page, m, re) ? m[1].str() : std::string();
}

// Waits until the server wrote `n` access lines (the line is written as the answer leaves).
std::vector<boost::json::object> access_lines(ServerProcess& server, std::size_t n) {
  std::vector<boost::json::object> out;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    out.clear();
    for (const auto& l : server.process().stdout_lines())
      if (auto o = json_line(l); o && str(*o, "msg") == "request") out.push_back(*o);
    if (out.size() >= n) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return out;
}

TEST(AccessLog, AFullFlowLogsOneLinePerRequestAndNoSecret) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--log-format", "json", "--log-level", "debug"});
  ASSERT_TRUE(server.demo_client_id() && server.demo_client_secret());
  const std::string id = *server.demo_client_id(), secret = *server.demo_client_secret();
  std::vector<std::string> secrets{secret};
  Client c(server.port());

  // A sandbox shopper and its one-time code; exchange, refresh, introspect, revoke.
  auto shopper =
      c.send("POST", "/v1/testing/shopper/create", {{"X-API-Key", secret}, {"X-Request-Id", "trace-42"}}, "{}");
  ASSERT_EQ(shopper.status, 200) << shopper.body;
  EXPECT_EQ(shopper.header("x-request-id"), "trace-42");
  const std::string code = member(shopper, "oauth_code"), otp = member(shopper, "otp_code");
  const std::string email = member(shopper, "email");
  ASSERT_FALSE(code.empty() || otp.empty() || email.empty()) << shopper.body;
  secrets.insert(secrets.end(), {code, otp});
  const Params creds{{"client_id", id}, {"client_secret", secret}};
  auto with = [&](Params p) {
    p.insert(p.end(), creds.begin(), creds.end());
    return p;
  };
  auto tokens =
      c.post("/v1/oauth/token",
             with({{"grant_type", "authorization_code"}, {"code", code}, {"scope", "bolt.account.manage openid"}}));
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  for (const char* k : {"access_token", "refresh_token", "id_token"}) secrets.push_back(member(tokens, k));
  auto refreshed = c.post("/v1/oauth/token", with({{"grant_type", "refresh_token"},
                                                   {"refresh_token", member(tokens, "refresh_token")},
                                                   {"scope", "bolt.account.view"}}));
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  for (const char* k : {"access_token", "refresh_token"}) secrets.push_back(member(refreshed, k));
  EXPECT_EQ(c.post("/v1/oauth/introspect", with({{"token", member(refreshed, "access_token")}})).status, 200);
  EXPECT_EQ(c.post("/v1/oauth/revoke", with({{"token", member(refreshed, "refresh_token")}})).status, 200);
  // Refused: the code again, and a wrong secret (their reasons go to the debug log, the values nowhere).
  // (Bolt's dialect answers a spent code 422 invalid_grant.)
  auto spent = c.post("/v1/oauth/token", with({{"grant_type", "authorization_code"}, {"code", code}}));
  EXPECT_EQ(spent.status, 422) << spent.body;
  EXPECT_EQ(member(spent, "error"), "invalid_grant") << spent.body;
  const std::string wrong_secret = secret + "x";
  secrets.push_back(wrong_secret);
  EXPECT_EQ(c.post("/v1/oauth/token", {{"grant_type", "refresh_token"},
                                       {"refresh_token", "r"},
                                       {"client_id", id},
                                       {"client_secret", wrong_secret}})
                .status,
            401);

  // The login pages with the shopper's one-time code (a wrong one first), then the code they issue.
  const std::string verifier = std::string(43, 'v') + "-logging-test";
  secrets.push_back(verifier);
  const std::string issuer = "http://127.0.0.1:" + std::to_string(server.port());
  const Params authorize{{"response_type", "code"},
                         {"client_id", id},
                         {"redirect_uri", issuer + "/demo/callback"},
                         {"scope", "openid bolt.account.manage"},
                         {"state", "st-1"},
                         {"nonce", "n-1"},
                         {"code_challenge", base::base64url_encode(crypto::sha256(verifier))},
                         {"code_challenge_method", "S256"}};
  auto page = c.send("GET", "/v1/oauth/authorize?" + form(authorize));
  ASSERT_EQ(page.status, 200) << page.body;
  const auto handle = login_handle(page.body);
  // As a browser posts the login forms: same-origin (docs/design.md "Same-origin form posts").
  const Headers same_origin{{"Sec-Fetch-Site", "same-origin"}};
  // POST-redirect-GET: each form answers 303 to the next step's page.
  ASSERT_EQ(c.post("/v1/oauth/login-email", {{"login", handle}, {"email", email}}, same_origin).status, 303);
  const std::string wrong_otp = otp == "000000" ? "111111" : "000000";
  EXPECT_EQ(c.post("/v1/oauth/login-otp", {{"login", handle}, {"otp", wrong_otp}}, same_origin).status, 303);
  auto done = c.post("/v1/oauth/login-otp", {{"login", handle}, {"otp", otp}}, same_origin);
  ASSERT_EQ(done.status, 303) << done.body;
  const std::string code2 = query_param(done.header("location").value_or(""), "code");
  ASSERT_FALSE(code2.empty());
  secrets.push_back(code2);
  auto tokens2 = c.post("/v1/oauth/token", with({{"grant_type", "authorization_code"},
                                                 {"code", code2},
                                                 {"redirect_uri", issuer + "/demo/callback"},
                                                 {"code_verifier", verifier},
                                                 {"scope", "openid bolt.account.manage"}}));
  ASSERT_EQ(tokens2.status, 200) << tokens2.body;
  for (const char* k : {"access_token", "refresh_token", "id_token"}) secrets.push_back(member(tokens2, k));
  EXPECT_EQ(c.send("GET", "/v1/account", {{"Authorization", "Bearer " + member(tokens2, "access_token")}}).status, 200);

  const auto lines = access_lines(server, c.sent());
  ASSERT_TRUE(server.process().signal(SIGTERM));
  server.process().wait_exit(15s);
  server.process().join_reader();
  // Every log line (the first-start banner, which shows the demo client's secret once, is the CLI's output).
  std::string log = server.process().stderr_text();
  for (const auto& l : server.process().stdout_lines())
    if (!l.empty() && l.front() == '{') log += l + "\n";
  for (const auto& s : secrets) {
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(log.find(s), std::string::npos) << "a secret is in the log: " << s;
  }
  // The wrong OTP too, in any line but the sandbox banner (which has no OTP).
  EXPECT_EQ(log.find("\"" + wrong_otp + "\""), std::string::npos);

  ASSERT_EQ(lines.size(), c.sent()) << server.process().stdout_text();
  std::set<std::string> ids;
  for (const auto& l : lines) {
    for (const char* k : {"method", "route", "client_id", "request_id", "remote_addr"})
      EXPECT_FALSE(str(l, k).empty()) << k << " in " << boost::json::serialize(l);
    for (const char* k : {"status", "duration_ms", "bytes"})
      EXPECT_TRUE(l.contains(k) && l.at(k).is_number()) << k << " in " << boost::json::serialize(l);
    EXPECT_EQ(str(l, "remote_addr"), "127.0.0.1");
    EXPECT_EQ(str(l, "route").find('?'), std::string::npos);
    ids.insert(str(l, "request_id"));
  }
  EXPECT_EQ(ids.size(), lines.size()) << "request ids are not unique";
  EXPECT_TRUE(ids.count("trace-42"));
  // The client is named where the request names it, and only then.
  const auto token_lines = std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
    return str(l, "route") == "/v1/oauth/token" && str(l, "client_id") == id;
  });
  EXPECT_EQ(token_lines, 5);
  // Refusals are logged at debug with their reason, tied to their request.
  std::vector<boost::json::object> refused;
  for (const auto& l : server.process().stdout_lines())
    if (auto o = json_line(l); o && str(*o, "msg") == "refused") refused.push_back(*o);
  std::set<std::string> errors;
  for (const auto& r : refused) {
    EXPECT_EQ(str(r, "level"), "debug");
    EXPECT_TRUE(ids.count(str(r, "request_id"))) << boost::json::serialize(r);
    errors.insert(str(r, "error"));
  }
  EXPECT_TRUE(errors.count("invalid_grant")) << server.process().stdout_text();
  EXPECT_TRUE(errors.count("invalid_client")) << server.process().stdout_text();
  EXPECT_GE(refused.size(), 3u);  // the wrong OTP too (its redirect to the code page names it: login_wrong)
}

TEST(RequestId, AnAcceptableIdIsKeptOthersAreReplacedAndEveryLineOfTheRequestCarriesIt) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--log-format", "json", "--log-level", "debug"});
  HttpClient http(server.port());
  const std::string longest(128, 'a');
  EXPECT_EQ(http.get("/healthz", {{"X-Request-Id", "abc-123_x.Y~"}}).header("x-request-id"), "abc-123_x.Y~");
  EXPECT_EQ(http.get("/healthz", {{"X-Request-Id", longest}}).header("x-request-id"), longest);
  const std::regex generated("^[0-9a-f]{32}$");
  std::set<std::string> seen;
  for (const std::string& bad : {std::string(129, 'a'), std::string("has space"), std::string("quo\"te"),
                                 std::string("semi;colon"), std::string("")}) {
    auto res = http.get("/healthz", {{"X-Request-Id", bad}});
    const auto got = res.header("x-request-id").value_or("");
    EXPECT_TRUE(std::regex_match(got, generated)) << bad << " -> " << got;
    seen.insert(got);
  }
  auto none = http.get("/healthz").header("x-request-id").value_or("");
  EXPECT_TRUE(std::regex_match(none, generated));
  seen.insert(none);
  auto twice = http.get("/healthz", {{"X-Request-Id", "one"}, {"X-Request-Id", "two"}}).header("x-request-id");
  EXPECT_TRUE(std::regex_match(twice.value_or(""), generated));
  seen.insert(twice.value_or(""));
  EXPECT_EQ(seen.size(), 7u);
  // A refusal by the HTTP layer itself carries an id too.
  HttpClient raw(server.port());
  auto bad = raw.raw(
      "POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nX-Request-Id: framing-1\r\n"
      "Transfer-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.header("x-request-id"), "framing-1");
  // Every line written while handling a request names it: the token endpoint's own debug line and the refusal.
  auto refused = http.request("POST", "/v1/oauth/token",
                              {{"X-Request-Id", "req-token-1"}, {"Content-Type", "application/x-www-form-urlencoded"}},
                              "grant_type=authorization_code&code=nope&client_id=x&client_secret=y");
  EXPECT_EQ(refused.header("x-request-id"), "req-token-1");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::vector<boost::json::object> mine;
  while (std::chrono::steady_clock::now() < deadline) {
    mine.clear();
    for (const auto& l : server.process().stdout_lines())
      if (auto o = json_line(l); o && str(*o, "request_id") == "req-token-1") mine.push_back(*o);
    if (mine.size() >= 3) break;
    std::this_thread::sleep_for(20ms);
  }
  std::set<std::string> messages;
  for (const auto& o : mine) messages.insert(str(o, "msg").substr(0, 15));
  EXPECT_TRUE(messages.count("token endpoint:")) << server.process().stdout_text();
  EXPECT_TRUE(messages.count("refused")) << server.process().stdout_text();
  EXPECT_TRUE(messages.count("request")) << server.process().stdout_text();
  EXPECT_NE(server.process().stdout_text().find(R"("status":400,"duration_ms")"), std::string::npos);
  EXPECT_NE(server.process().stdout_text().find(R"("request_id":"framing-1")"), std::string::npos);
}

TEST(RefusalLog, EveryEndpointLogsItsRefusalsAtDebugWithTheReasonAndNoSecret) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--log-format", "json", "--log-level", "debug"});
  ASSERT_TRUE(server.demo_client_id());
  const std::string id = *server.demo_client_id();
  const std::string issuer = "http://127.0.0.1:" + std::to_string(server.port());
  const std::string bad_secret = "not-the-secret-0123456789abcdefghij";
  const std::string bad_token = "bogus-access-token-0123456789abcdef";
  const std::string form_type = "application/x-www-form-urlencoded";
  const std::string token_body = form({{"grant_type", "refresh_token"},
                                       {"refresh_token", "bogus-refresh-token-0123456789"},
                                       {"client_id", id},
                                       {"client_secret", bad_secret}});
  const std::string lifecycle_body = form({{"token", bad_token}});
  const std::string authorize_bad_scope = "/v1/oauth/authorize?" + form({{"response_type", "code"},
                                                                         {"client_id", id},
                                                                         {"redirect_uri", issuer + "/demo/callback"},
                                                                         {"scope", "nonsense.scope"},
                                                                         {"state", "state-value-0123456789"},
                                                                         {"code_challenge", std::string(43, 'c')},
                                                                         {"code_challenge_method", "S256"}});
  struct Case {
    std::string method, target, body, content_type;
    Headers headers;
  };
  const std::vector<Case> cases{
      {"POST", "/v1/oauth/token", token_body, form_type, {}},
      {"POST", "/v3/oauth/token", token_body, form_type, {}},
      {"POST", "/oauth2/token", token_body, form_type, {}},
      {"POST", "/v1/oauth/introspect", lifecycle_body, form_type, {}},
      {"POST", "/v1/oauth/revoke", lifecycle_body, form_type, {}},
      {"GET", "/v1/oauth/userinfo", "", "", {{"Authorization", "Bearer " + bad_token}}},
      {"GET", "/v1/account", "", "", {{"Authorization", "Bearer " + bad_token}}},
      {"PATCH", "/v1/account/profile", "{}", "application/json", {{"Authorization", "Bearer " + bad_token}}},
      {"POST", "/v1/testing/shopper/create", "{}", "application/json", {{"X-API-Key", bad_secret}}},
      {"GET", "/v1/oauth/authorize?client_id=nobody&response_type=code", "", "", {}},
      {"GET", authorize_bad_scope, "", "", {}},
      {"POST", "/v1/oauth/login-email", form({{"login", "no-such-login"}, {"email", "a@example.com"}}), form_type, {}},
      {"POST", "/v1/oauth/login-otp", form({{"login", "no-such-login"}, {"otp", "123456"}}), form_type, {}},
      {"POST", "/v1/oauth/login-resend", form({{"login", "no-such-login"}}), form_type, {}},
      {"POST", "/.well-known/openid-configuration", "", "", {}},
      {"POST", "/v1/oauth/jwks.json", "", "", {}},
      {"POST", "/health", "", "", {}},
      {"POST", "/healthz", "", "", {}},
      {"POST", "/readyz", "", "", {}},
      {"POST", "/metrics", "", "", {}},
      {"GET", "/no/such/path", "", "", {}},
  };
  HttpClient http(server.port());
  std::map<std::string, std::string> expected;  // request id -> what was sent
  int n = 0;
  for (const auto& c : cases) {
    const std::string rid = "refusal-" + std::to_string(++n);
    Headers headers = c.headers;
    headers.emplace_back("X-Request-Id", rid);
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    auto res = http.request(c.method, c.target, headers, c.body);
    EXPECT_TRUE(res.status >= 400 ||
                (res.status / 100 == 3 && res.header("location")->find("error=") != std::string::npos))
        << c.method << " " << c.target << ": " << res.status << " " << res.body;
    expected[rid] = c.method + " " + c.target;
  }
  HttpClient raw(server.port());
  EXPECT_EQ(raw.raw("POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\nX-Request-Id: refusal-framing\r\n"
                    "Transfer-Encoding: gzip, chunked\r\n\r\n")
                .status,
            501);
  expected["refusal-framing"] = "a framing refusal";

  std::map<std::string, boost::json::object> refused;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline && refused.size() < expected.size()) {
    refused.clear();
    for (const auto& l : server.process().stdout_lines())
      if (auto o = json_line(l); o && str(*o, "msg") == "refused") refused[str(*o, "request_id")] = *o;
    std::this_thread::sleep_for(20ms);
  }
  for (const auto& [rid, what] : expected) {
    auto it = refused.find(rid);
    ASSERT_NE(it, refused.end()) << "no refusal line for " << what << "\n" << server.process().stdout_text();
    const auto& o = it->second;
    EXPECT_EQ(str(o, "level"), "debug");
    EXPECT_TRUE(o.contains("status") && o.at("status").is_number());
    // The reason: an error code, or at least the answer's own description.
    EXPECT_TRUE(str(o, "error") != "-" || !str(o, "error_description").empty())
        << what << ": " << boost::json::serialize(o);
  }
  const auto log = server.process().stdout_text();
  for (const std::string& s :
       {bad_secret, bad_token, std::string("bogus-refresh-token-0123456789"), std::string("state-value-0123456789")})
    EXPECT_EQ(log.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace boltauth::testing
