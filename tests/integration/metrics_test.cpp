// `GET /metrics`: the counters follow real requests, and Debian's promtool accepts a real scrape.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "integration/process_util.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

// The value of the sample whose name and labels are exactly `series` (e.g. `name{a="b"}`); -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST(MetricsTest, CountsRequestsTokensAndCommitsAndPromtoolAcceptsTheScrape) {
  TestServer server;
  auto client = server.create_client();
  auto tokens = server.exchange(client, server.sandbox_code(client));
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  const std::string refresh(tokens.json().as_object().at("refresh_token").as_string());
  ASSERT_EQ(server.refresh(client, refresh).status, 200);
  ASSERT_EQ(server.http().post_form("/v1/oauth/token", "grant_type=authorization_code&code=x").status / 100, 4);
  ASSERT_EQ(server.http().get("/no/such/path").status, 404);

  auto res = server.http().get("/metrics");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type").value_or("").rfind("text/plain; version=0.0.4", 0), 0U);
  const std::string& text = res.body;
  EXPECT_EQ(sample(text, R"(boltauth_tokens_issued_total{grant_type="authorization_code"})"), 1) << text;
  EXPECT_EQ(sample(text, R"(boltauth_tokens_issued_total{grant_type="refresh_token"})"), 1) << text;
  EXPECT_EQ(sample(text, R"(boltauth_http_requests_total{route="/v1/oauth/token",status="200",error="none"})"), 2)
      << text;
  EXPECT_EQ(sample(text, R"(boltauth_http_requests_total{route="other",status="404",error="other"})"), 1) << text;
  // The refused exchange is counted under its OAuth error code.
  EXPECT_NE(text.find(R"(boltauth_http_requests_total{route="/v1/oauth/token",status="401",error="invalid_client"})"),
            std::string::npos)
      << text;
  EXPECT_GE(sample(text, R"(boltauth_http_request_duration_seconds_count{route="/v1/oauth/token"})"), 3) << text;
  EXPECT_EQ(sample(text, R"(boltauth_http_connections)"), 1) << text;
  EXPECT_EQ(sample(text, R"(boltauth_build_info{version=")" BOLTAUTH_VERSION_FOR_TESTS R"(",store=")" +
                             std::string(server.on_postgres() ? "postgresql" : "sqlite") + "\"}"),
            1)
      << text;
  if (!server.on_postgres()) {
    // SQLite: every write goes through the group committer (the exchange and the refresh at least).
    EXPECT_GE(sample(text, "boltauth_store_commit_batch_writes_count"), 2) << text;
    EXPECT_GE(sample(text, "boltauth_store_commit_duration_seconds_count"), 2) << text;
  }
  EXPECT_EQ(sample(text, "boltauth_store_errors_total"), 0) << text;

  const auto file = server.data_dir() / "scrape.txt";
  std::ofstream(file) << text;
  const auto check = run_command({"/bin/sh", "-c", "promtool check metrics < '" + file.string() + "'"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST(MetricsTest, StoreErrorsAndThrottleHitsAreCounted) {
  TestServer server([](server::AppOptions& o) {
    o.busy_timeout_ms = 200;
    o.config.client_auth_max_failures = 1;
  });
  auto client = server.create_client();
  auto tokens = server.exchange(client, server.sandbox_code(client), "bolt.account.view openid");
  ASSERT_EQ(tokens.status, 200);
  const std::string refresh(tokens.json().as_object().at("refresh_token").as_string());
  {
    // A revocation that cannot be made durable fails (503/500) and counts as a store error.
    auto outage = server.store_outage();
    auto res = server.http().post_form("/v1/oauth/revoke", "client_id=" + client.client.id + "&client_secret=" +
                                                               client.client_secret + "&token=" + refresh);
    ASSERT_GE(res.status, 500) << res.body;
  }
  const std::string bad = "grant_type=authorization_code&code=x&client_id=" + client.client.id + "&client_secret=wrong";
  int throttled = 0;
  for (int i = 0; i < 3; ++i) throttled += server.http().post_form("/v1/oauth/token", bad).status == 429 ? 1 : 0;
  ASSERT_GE(throttled, 1);
  auto text = server.http().get("/metrics").body;
  EXPECT_EQ(sample(text, R"(boltauth_throttle_hits_total{route="/v1/oauth/token"})"), throttled) << text;
  EXPECT_GE(sample(text, "boltauth_store_errors_total"), 1) << text;
}

}  // namespace
}  // namespace boltauth::testing
