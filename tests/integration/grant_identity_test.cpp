// A sealed token names its grant row by id, and ids are handed out again when the database goes back in time
// (restored from a backup, or a batch lost in a power cut). The grant's salt, sealed into every token, keeps such a
// token from ever attaching to the new row that got its id (docs/design.md "Tokens and secrets").
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

std::string field(const HttpResponse& res, const char* name) {
  return std::string(res.json().as_object().at(name).as_string());
}

TEST(GrantIdentityTest, TokensOfARowThatWasRolledBackNeverOpenTheRowThatReusesItsId) {
  TestServer server;
  const auto client = server.create_client();
  // Shopper X logs in: grant N.
  auto x = server.exchange(client, server.sandbox_code(client), "bolt.account.manage openid");
  ASSERT_EQ(x.status, 200) << x.body;
  const std::string x_email(server.http()
                                .get("/v1/account", {{"Authorization", "Bearer " + field(x, "access_token")}})
                                .json()
                                .as_object()
                                .at("profile")
                                .as_object()
                                .at("email")
                                .as_string());
  // The database goes back to before grant N existed (a restore from a backup taken just before), so the next
  // grant gets id N again.
  server.store_exec(
      "DELETE FROM grants WHERE id = (SELECT max(id) FROM grants); "
      "UPDATE sqlite_sequence SET seq = (SELECT coalesce(max(id), 0) FROM grants) WHERE name = 'grants';",
      "DELETE FROM grants WHERE id = (SELECT max(id) FROM grants); "
      "SELECT setval(pg_get_serial_sequence('grants', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM grants), false);");
  // Shopper Y logs in at the same merchant: the new row has X's old id (and generation 1, like X's tokens).
  auto y = server.exchange(client, server.sandbox_code(client), "bolt.account.manage openid");
  ASSERT_EQ(y.status, 200) << y.body;

  // X's tokens open nothing of Y's.
  EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + field(x, "access_token")}}).status, 401);
  EXPECT_EQ(server.http().get("/v1/oauth/userinfo", {{"Authorization", "Bearer " + field(x, "access_token")}}).status,
            401);
  auto x_refresh = server.refresh(client, field(x, "refresh_token"));
  EXPECT_EQ(x_refresh.status, 422) << x_refresh.body;
  EXPECT_EQ(x_refresh.json().as_object().at("error").as_string(), "invalid_grant");
  auto introspect = server.http().post_form("/v1/oauth/introspect", form({{"token", field(x, "access_token")},
                                                                          {"client_id", client.client.publishable_key},
                                                                          {"client_secret", client.client_secret}}));
  EXPECT_EQ(introspect.body, R"({"active":false})");
  // ...and refusing them did not revoke Y's family, which is someone else's.
  auto account = server.http().get("/v1/account", {{"Authorization", "Bearer " + field(y, "access_token")}});
  ASSERT_EQ(account.status, 200) << account.body;
  EXPECT_NE(std::string(account.json().as_object().at("profile").as_object().at("email").as_string()), x_email);
  EXPECT_EQ(server.refresh(client, field(y, "refresh_token")).status, 200);
}

}  // namespace
}  // namespace boltauth::testing
