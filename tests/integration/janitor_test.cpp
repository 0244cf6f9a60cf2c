// The janitor against a live server: a run during traffic loses nothing live and removes what expired;
// `serve` runs it periodically; `boltauth janitor` runs it once.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <ctime>
#include <thread>

#include "core/janitor.hpp"
#include "integration/process_util.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

// A count over the store from another connection; `?1` in `sql` stands for `now`.
std::int64_t count(TestServer& server, std::string sql, base::UnixSeconds now) {
  for (auto at = sql.find("?1"); at != std::string::npos; at = sql.find("?1")) sql.replace(at, 2, std::to_string(now));
  return server.store_count(sql);
}

// Another process on the same store (its own connections): a Services of its own.
std::unique_ptr<server::Services> other_process(TestServer& server) {
  return std::make_unique<server::Services>(server.same_store_options());
}

struct Issued {
  std::string access;
  std::string refresh;
};

Issued issue(TestServer& server, const core::CreatedClient& client) {
  auto res = server.exchange(client, server.sandbox_code(client), "bolt.account.manage openid");
  EXPECT_EQ(res.status, 200) << res.body;
  const auto v = res.json();
  const auto& o = v.as_object();
  const auto* refresh = o.if_contains("refresh_token");  // none for a client without the refresh_token grant
  return {std::string(o.at("access_token").as_string()), refresh ? std::string(refresh->as_string()) : std::string()};
}

TEST(JanitorTest, RunDuringTrafficLosesNothingLiveAndRemovesExpiredRows) {
  TestServer server([](server::AppOptions& o) { o.janitor_interval = 0; });
  const auto client = server.create_client();
  // A client without refresh tokens: its grants end with their access token.
  const auto access_only = server.create_client({}, {"authorization_code"});
  std::vector<Issued> old_tokens;
  for (int i = 0; i < 30; ++i) old_tokens.push_back(issue(server, client));
  for (int i = 0; i < 30; ++i) issue(server, access_only);
  for (int i = 0; i < 30; ++i) server.sandbox_code(client);  // never redeemed
  server.clock().advance(3601);  // the access-only grants and the unredeemed codes have expired
  std::vector<Issued> live;
  for (int i = 0; i < 10; ++i) live.push_back(issue(server, client));

  auto other = other_process(server);  // a second connection, as another process
  const auto now = server.clock().now();
  const std::string expired_rows =
      "SELECT count(*) FROM grants WHERE expires_at <= ?1 OR (redeemed_at IS NULL AND code_expires_at <= ?1)";
  ASSERT_EQ(count(server, expired_rows, now), 60);

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread traffic([&] {
    HttpClient http(server.port());
    while (!done) {
      for (auto& t : live) {
        if (http.get("/v1/account", {{"Authorization", "Bearer " + t.access}}).status != 200) ++failures;
      }
      // The old families' refresh tokens are still live (a year): rotating one must keep working too.
      auto res = http.post_form("/v1/oauth/token", form({{"grant_type", "refresh_token"},
                                                         {"refresh_token", old_tokens.back().refresh},
                                                         {"client_id", client.client.publishable_key},
                                                         {"client_secret", client.client_secret},
                                                         {"scope", "bolt.account.view"}}));
      if (res.status != 200) {
        ++failures;
      } else {
        old_tokens.back().refresh = std::string(res.json().as_object().at("refresh_token").as_string());
      }
    }
  });
  core::ports::PurgeCounts total;
  for (int round = 0; round < 3; ++round) total += core::run_janitor(other->purge_store(), now, 4);  // small batches
  done = true;
  traffic.join();

  EXPECT_EQ(failures.load(), 0) << "a live token failed while the janitor ran";
  EXPECT_EQ(total.codes, 30) << "the sandbox codes never redeemed";
  EXPECT_EQ(total.grants, 30) << "the access-only grants; every family with a refresh token lives on";
  EXPECT_EQ(count(server, expired_rows, now), 0);
  for (auto& t : live)
    EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + t.access}}).status, 200);
  EXPECT_EQ(server.refresh(client, old_tokens.front().refresh).status, 200) << "an old family lives on";
}

TEST(JanitorTest, SteadyIssueRotateExpireLoadStaysBounded) {
  // Issue 6: under a steady load the store stays bounded. Each 2-minute cycle: 10 new families that are never
  // used again (they expire), and 5 long-lived chains rotated once (their rotated tokens expire in turn), then a
  // janitor pass. Once the oldest rows of the run have expired, the row count must stop growing.
  TestServer server([](server::AppOptions& o) {
    o.janitor_interval = 0;
    o.config.access_token_ttl = 60;
    o.config.refresh_token_ttl = 600;
  });
  const auto client = server.create_client();
  auto other = other_process(server);
  std::vector<std::string> chains;
  for (int i = 0; i < 5; ++i) chains.push_back(issue(server, client).refresh);
  std::vector<std::int64_t> rows;
  for (int cycle = 0; cycle < 14; ++cycle) {
    for (int i = 0; i < 10; ++i) issue(server, client);
    for (auto& r : chains) {
      auto res = server.refresh(client, r, "bolt.account.view");
      ASSERT_EQ(res.status, 200) << res.body;
      r = std::string(res.json().as_object().at("refresh_token").as_string());
    }
    server.clock().advance(120);
    core::run_janitor(other->purge_store(), server.clock().now(), 500);
    rows.push_back(count(server, "SELECT count(*) FROM grants", 0));
  }
  // Refresh tokens live 600 s = 5 cycles: from cycle 6 on, every cycle removes as much as it adds.
  for (std::size_t i = 7; i < rows.size(); ++i) EXPECT_EQ(rows[i], rows[6]) << "cycle " << i;
  EXPECT_GT(rows[6], 0);
  // The chains still work: nothing live was purged.
  for (auto& r : chains) EXPECT_EQ(server.refresh(client, r, "bolt.account.view").status, 200);
}

TEST(JanitorTest, ConcurrentJanitorsOnOneStoreDeleteEachRowOnce) {
  TestServer server([](server::AppOptions& o) { o.janitor_interval = 0; });
  const auto client = server.create_client();
  const auto access_only = server.create_client({}, {"authorization_code"});
  for (int i = 0; i < 20; ++i) issue(server, access_only);
  for (int i = 0; i < 20; ++i) server.sandbox_code(client);
  server.clock().advance(3601);
  const auto live = issue(server, client);
  const auto now = server.clock().now();
  // Two "servers" sharing the store, each with its own connection, purging at once in tiny batches.
  core::ports::PurgeCounts a;
  core::ports::PurgeCounts b;
  {
    auto process_a = other_process(server);
    auto process_b = other_process(server);
    std::thread ta([&] { a = core::run_janitor(process_a->purge_store(), now, 3); });
    std::thread tb([&] { b = core::run_janitor(process_b->purge_store(), now, 3); });
    ta.join();
    tb.join();
  }
  EXPECT_EQ(a.grants + b.grants, 20);
  EXPECT_EQ(a.codes + b.codes, 20);
  EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + live.access}}).status, 200);
}

TEST(JanitorTest, ServeRunsItPeriodically) {
  TestServer server([](server::AppOptions& o) { o.janitor_interval = 1; });
  const auto client = server.create_client();
  const auto revoked = issue(server, client);
  // Reuse of a rotated refresh token revokes the family (RFC 9700 section 4.14.2): a dead family to purge.
  ASSERT_EQ(server.refresh(client, revoked.refresh).status, 200);
  ASSERT_NE(server.refresh(client, revoked.refresh).status, 200);
  const auto live = issue(server, client);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (count(server, "SELECT count(*) FROM grants WHERE revoked_at IS NOT NULL", 0) > 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(count(server, "SELECT count(*) FROM grants WHERE revoked_at IS NOT NULL", 0), 0);
  EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + live.access}}).status, 200);
  EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + revoked.access}}).status, 401);
}

TEST(JanitorTest, CommandRunsOnceAndPrintsCounts) {
  TestServer server([](server::AppOptions& o) { o.janitor_interval = 0; });
  // The command reads the system clock: issue in the past, so that the access tokens have expired by now.
  server.clock().set(static_cast<base::UnixSeconds>(std::time(nullptr)) - 7200);
  const auto client = server.create_client({}, {"authorization_code"});
  for (int i = 0; i < 3; ++i) issue(server, client);
  std::vector<std::string> args{BOLTAUTH_BINARY, "janitor", "--json"};
  for (const auto& a : server.cli_store_args()) args.push_back(a);
  auto r = run_command(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto counts = boost::json::parse(r.out).as_object();
  EXPECT_EQ(counts.at("grants").as_int64(), 3) << "access-only grants whose token expired";
  EXPECT_EQ(counts.at("codes").as_int64(), 0) << "every code was redeemed";
  for (const char* kind : {"denied_tokens", "legacy_tokens", "legacy_grants", "logins", "idempotency_keys"})
    EXPECT_TRUE(counts.contains(kind)) << kind << " in " << r.out;
  EXPECT_EQ(counts.at("idempotency_keys").as_int64(), 0) << "no Idempotency-Key was used";
  auto again = run_command(args);
  EXPECT_EQ(boost::json::parse(again.out).as_object().at("grants").as_int64(), 0) << "idempotent";
}

}  // namespace
}  // namespace boltauth::testing
