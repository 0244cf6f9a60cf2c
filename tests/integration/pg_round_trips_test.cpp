// What a request costs on PostgreSQL, counted in round trips to the database (PgConnection::executions, which leaves
// out the one-time prepare of each statement per connection). A refresh or a code exchange reads the client, its
// failure window, the grant and the account in one statement (the read-ahead), then makes its one consuming write;
// introspection only reads. Run against a server in this process on a fresh database of the test cluster.
#include <gtest/gtest.h>

#include "store/postgres/pg_connection.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

using store::postgres::PgConnection;

class PgRoundTrips : public ::testing::Test {
 protected:
  // No janitor: nothing but the request under test may talk to the database while it is counted.
  TestServer server{[](server::AppOptions& o) { o.janitor_interval = 0; }};
  core::CreatedClient client = server.create_client();

  void SetUp() override { ASSERT_TRUE(server.on_postgres()) << "this suite runs with BOLTAUTH_TEST_STORE=postgres"; }

  /// Round trips `request` made.
  template <class F>
  std::uint64_t count(F&& request) {
    const std::uint64_t before = PgConnection::executions();
    request();
    return PgConnection::executions() - before;
  }

  HttpResponse introspect(const std::string& token) {
    return server.http().post_form("/v1/oauth/introspect", form({{"client_id", client.client.publishable_key},
                                                                 {"client_secret", client.client_secret},
                                                                 {"token", token}}));
  }

  static std::string field(const HttpResponse& res, const char* name) {
    return std::string(res.json().as_object().at(name).as_string());
  }
};

TEST_F(PgRoundTrips, RefreshIsOneReadAndOneWrite) {
  auto first = server.exchange(client, server.sandbox_code(client), "bolt.account.view");
  ASSERT_EQ(first.status, 200) << first.body;
  std::string refresh = field(first, "refresh_token");
  for (int i = 0; i < 5; ++i) {
    HttpResponse res;
    const auto trips = count([&] { res = server.refresh(client, refresh); });
    ASSERT_EQ(res.status, 200) << res.body;
    refresh = field(res, "refresh_token");
    // Client, failure window, grant (one read), then the rotation (one write).
    EXPECT_EQ(trips, 2u) << "refresh " << i;
  }
}

TEST_F(PgRoundTrips, CodeExchangeWithOpenidIsOneReadAndOneWrite) {
  // The first id_token polls the signing keys' version (once per poll interval, DbKeySource): one unmeasured.
  ASSERT_EQ(server.exchange(client, server.sandbox_code(client), "openid").status, 200);
  for (int i = 0; i < 5; ++i) {
    const std::string code = server.sandbox_code(client);
    HttpResponse res;
    const auto trips = count([&] { res = server.exchange(client, code, "openid bolt.account.view"); });
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(res.json().as_object().contains("id_token"));
    // Client, failure window, grant and the account the id_token describes (one read), then the redemption.
    EXPECT_EQ(trips, 2u) << "exchange " << i;
  }
}

TEST_F(PgRoundTrips, IntrospectionIsOneRead) {
  auto issued = server.exchange(client, server.sandbox_code(client), "bolt.account.view openid");
  ASSERT_EQ(issued.status, 200) << issued.body;
  const std::string access = field(issued, "access_token");
  for (int i = 0; i < 5; ++i) {
    HttpResponse res;
    const auto trips = count([&] { res = introspect(access); });
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(res.json().as_object().at("active").as_bool());
    EXPECT_EQ(trips, 1u) << "introspection " << i;
  }
}

TEST_F(PgRoundTrips, ClientCredentialsIsOneReadOnceItsGrantExists) {
  const auto machine = server.create_client({}, {"client_credentials"});
  auto issue = [&] {
    return server.http().post_form("/v1/oauth/token", form({{"grant_type", "client_credentials"},
                                                            {"client_id", machine.client.publishable_key},
                                                            {"client_secret", machine.client_secret},
                                                            {"scope", "bolt.account.view"}}));
  };
  // The first one creates the client's grant row (a write); every later one only reads it.
  ASSERT_EQ(issue().status, 200);
  for (int i = 0; i < 5; ++i) {
    HttpResponse res;
    const auto trips = count([&] { res = issue(); });
    ASSERT_EQ(res.status, 200) << res.body;
    // Client, failure window and the client's grant: one read.
    EXPECT_EQ(trips, 1u) << "client_credentials " << i;
  }
}

// What was read ahead answers one request only: a change between two requests is seen by the second.
TEST_F(PgRoundTrips, ReadAheadNeverOutlivesItsRequest) {
  auto first = server.exchange(client, server.sandbox_code(client), "bolt.account.view");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string refresh = field(first, "refresh_token");
  const std::string access = field(first, "access_token");
  auto rotated = server.refresh(client, refresh);
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  // The old token again: reuse (Bolt's 422 invalid_grant), which revokes the family; the access token of the first
  // exchange dies with it.
  EXPECT_EQ(server.refresh(client, refresh).status, 422);
  EXPECT_EQ(introspect(access).body, R"({"active":false})");
  EXPECT_EQ(server.refresh(client, field(rotated, "refresh_token")).status, 422);
  // A secret rotated by another process (the CLI) is refused at the next request.
  const std::string code = server.sandbox_code(client);
  auto rotated_secret = server.app().registry().rotate_secret(client.client.id);
  ASSERT_TRUE(rotated_secret);
  EXPECT_EQ(server.exchange(client, code, "bolt.account.view").status, 401);
  client.client_secret = *rotated_secret;
  EXPECT_EQ(server.exchange(client, code, "bolt.account.view").status, 200);
}

// The failure window read ahead is the one the throttle counts against: failures from this address block it.
TEST_F(PgRoundTrips, ThrottleSeesFailuresReadAhead) {
  core::CreatedClient wrong = client;
  wrong.client_secret = client.client_secret.substr(0, client.client_secret.size() - 2) + "xx";
  int throttled = 0;
  for (int i = 0; i < 30 && throttled == 0; ++i) {
    const auto res = server.exchange(wrong, "code", "bolt.account.view");
    if (res.status == 429)
      ++throttled;
    else
      EXPECT_EQ(res.status, 401) << res.body;
  }
  EXPECT_EQ(throttled, 1);
}

}  // namespace
}  // namespace boltauth::testing
