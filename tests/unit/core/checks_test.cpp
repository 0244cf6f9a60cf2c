// The named checks several endpoints share (core/checks.hpp): each rule once, with its edges.
#include "core/checks.hpp"

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_account_store.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::core::checks {
namespace {

Request with_headers(std::string method, std::vector<std::pair<std::string, std::string>> headers) {
  Request r;
  r.method = std::move(method);
  r.path = "/x";
  r.headers = std::move(headers);
  return r;
}

TEST(Checks, IsPostOnlyForPost) {
  EXPECT_TRUE(is_post(with_headers("POST", {})));
  for (const char* m : {"GET", "HEAD", "PUT", "post", ""}) EXPECT_FALSE(is_post(with_headers(m, {}))) << m;
}

TEST(Checks, FormContentTypeAllowsParametersAndCaseButNothingElse) {
  for (const char* ok : {"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
                         "Application/X-WWW-Form-Urlencoded", " application/x-www-form-urlencoded ;charset=utf-8"})
    EXPECT_TRUE(is_form_content_type(std::string_view(ok))) << ok;
  for (const char* bad : {"", "application/json", "application/x-www-form-urlencodedx", "multipart/form-data",
                          "text/plain; application/x-www-form-urlencoded"})
    EXPECT_FALSE(is_form_content_type(std::string_view(bad))) << bad;
  EXPECT_FALSE(is_form_content_type(std::nullopt));
}

TEST(Checks, PkceStringIs43To128UnreservedCharacters) {
  const std::string unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  EXPECT_TRUE(valid_pkce_string(unreserved.substr(0, 43)));
  EXPECT_TRUE(valid_pkce_string(unreserved));
  EXPECT_TRUE(valid_pkce_string(std::string(128, 'a')));
  EXPECT_FALSE(valid_pkce_string(std::string(42, 'a')));
  EXPECT_FALSE(valid_pkce_string(std::string(129, 'a')));
  for (char c : std::string("+/= %\"\\\x7f"))
    EXPECT_FALSE(valid_pkce_string(std::string(42, 'a') + c)) << static_cast<int>(c);
}

TEST(Checks, BearerHeaderReadsTheTokenCaseInsensitively) {
  using Status = BearerHeader::Status;
  EXPECT_EQ(bearer_header(with_headers("GET", {})).status, Status::absent);
  for (const char* scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    const auto r = with_headers("GET", {{"authorization", std::string(scheme) + "  abc.def "}});
    const auto b = bearer_header(r);
    EXPECT_EQ(b.status, Status::present) << scheme;
    EXPECT_EQ(b.token, "abc.def") << scheme;
  }
  for (const char* other : {"Basic Zm9vOmJhcg==", "Bearer", "Bearer   ", "Bearerabc", "Token abc", ""})
    EXPECT_EQ(bearer_header(with_headers("GET", {{"authorization", other}})).status, Status::not_bearer) << other;
  EXPECT_EQ(bearer_header(with_headers("GET", {{"authorization", "Bearer a"}, {"authorization", "Bearer a"}})).status,
            Status::repeated);
}

TEST(Checks, HasAnyScope) {
  using protocol::ScopeSet;
  using protocol::ScopeToken;
  const ScopeSet read{ScopeToken::bolt_account_view, ScopeToken::bolt_account_manage};
  EXPECT_TRUE(has_any_scope(ScopeSet{ScopeToken::bolt_account_view}, read));
  EXPECT_TRUE(has_any_scope(ScopeSet{ScopeToken::openid, ScopeToken::bolt_account_manage}, read));
  EXPECT_FALSE(has_any_scope(ScopeSet{ScopeToken::openid, ScopeToken::email}, read));
  EXPECT_FALSE(has_any_scope(ScopeSet{}, read));
}

TEST(Checks, AccountIsActiveUntilItsDeactivationDate) {
  boltauth::testing::TempDir dir;
  store::sqlite::SqliteDatabase::Options options;
  options.path = dir.path() / "boltauth.db";
  store::sqlite::SqliteDatabase db(options);
  store::sqlite::SqliteAccountStore accounts(db);
  model::Account a;
  a.sub = "sub-1";
  a.email = "ada@example.com";
  a.deactivate_at = 1000;
  ASSERT_TRUE(accounts.insert(a));
  model::Account forever = a;
  forever.sub = "sub-2";
  forever.email = "grace@example.com";
  forever.deactivate_at.reset();
  ASSERT_TRUE(accounts.insert(forever));

  EXPECT_TRUE(account_active(a, 999));
  EXPECT_FALSE(account_active(a, 1000));
  EXPECT_TRUE(account_active(forever, 1'000'000'000));
  EXPECT_TRUE(active_account(accounts, "sub-1", 999).has_value());
  EXPECT_FALSE(active_account(accounts, "sub-1", 1000).has_value());
  EXPECT_TRUE(active_account(accounts, "sub-2", 1'000'000'000).has_value());
  EXPECT_FALSE(active_account(accounts, "no-such-sub", 0).has_value());
}

}  // namespace
}  // namespace boltauth::core::checks
