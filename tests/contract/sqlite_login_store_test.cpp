// LoginStore on SQLite: pending logins, the atomic attempt counter, single completion, sessions.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::contract {
namespace {

using core::model::LoginRequest;
using core::model::LoginSession;

class LoginStoreTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  store::sqlite::SqliteDatabase db{{dir.path() / "boltauth.db", 4, 10000}};
  store::sqlite::SqliteClientStore clients{db};
  store::sqlite::SqliteAccountStore accounts{db};
  store::sqlite::SqliteLoginStore logins{db};

  void SetUp() override {
    core::model::Client c;
    c.id = "c1";
    c.publishable_key = "a.b.c1";
    c.name = "Shop";
    c.secret_hash = "h";
    ASSERT_TRUE(clients.insert(c));
  }
  LoginRequest request(const std::string& id) {
    LoginRequest r;
    r.id_hash = id;
    r.client_id = "c1";
    r.redirect_uri = "https://a.example/cb?x=1";
    r.redirect_uri_given = true;
    r.scope = "openid";
    r.state = "s %+ t";
    r.nonce = "n";
    r.code_challenge = std::string(43, 'c');
    r.response_mode = "web_message";
    r.browser_hash = "b";
    r.created_at = 100;
    r.expires_at = 2000;
    return r;
  }
};

TEST_F(LoginStoreTest, RequestsRoundTripAndSetOtpResetsAttempts) {
  const auto r = request("r1");
  logins.insert_request(r);
  EXPECT_EQ(logins.find_request("r1"), r);
  EXPECT_FALSE(logins.find_request("r2"));
  ASSERT_TRUE(logins.set_otp("r1", "a@example.com", "otp-hash", 110, 710));
  ASSERT_TRUE(logins.claim_attempt("r1", "otp-hash", 120, 5));
  ASSERT_TRUE(logins.set_otp("r1", "a@example.com", "otp-hash-2", 150, 750));
  const auto after = logins.find_request("r1");
  EXPECT_EQ(after->email, "a@example.com");
  EXPECT_EQ(after->otp_hash, "otp-hash-2");
  EXPECT_EQ(after->otp_sent_at, 150);
  EXPECT_EQ(after->otp_expires_at, 750);
  EXPECT_EQ(after->attempts, 0);
  EXPECT_FALSE(logins.set_otp("nope", "a@example.com", "h", 1, 2));
}

TEST_F(LoginStoreTest, ClaimAttemptStopsAtTheLimitExpiryAndWithoutACode) {
  logins.insert_request(request("r1"));
  EXPECT_FALSE(logins.claim_attempt("r1", "h", 120, 5));  // no code sent yet
  logins.set_otp("r1", "a@example.com", "h", 110, 710);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(logins.claim_attempt("r1", "h", 120, 5)) << i;
  EXPECT_FALSE(logins.claim_attempt("r1", "h", 120, 5));
  logins.set_otp("r1", "a@example.com", "h", 110, 710);
  EXPECT_FALSE(logins.claim_attempt("r1", "h", 710, 5));  // expired
}

TEST_F(LoginStoreTest, ConcurrentGuessesNeverExceedTheLimit) {
  logins.insert_request(request("r1"));
  logins.set_otp("r1", "a@example.com", "h", 110, 710);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) granted += logins.claim_attempt("r1", "h", 120, 5);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 5);
}

TEST_F(LoginStoreTest, AttemptsAndCompletionAreBoundToTheCurrentCode) {
  // A guess that loaded the code before a resend neither spends the new code's attempts nor logs in.
  logins.insert_request(request("r1"));
  logins.set_otp("r1", "a@example.com", "old", 110, 710);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(logins.claim_attempt("r1", "old", 120, 5));
  logins.set_otp("r1", "a@example.com", "new", 130, 730);
  EXPECT_FALSE(logins.claim_attempt("r1", "old", 140, 5)) << "the replaced code gets no fresh attempts";
  EXPECT_FALSE(logins.consume_request("r1", "old")) << "the replaced code logs no one in";
  EXPECT_TRUE(logins.claim_attempt("r1", "new", 140, 5));
  EXPECT_TRUE(logins.consume_request("r1", "new"));
}

TEST_F(LoginStoreTest, ARequestIsConsumedOnceAndGoesWithItsClient) {
  logins.insert_request(request("r1"));
  logins.set_otp("r1", "a@example.com", "h", 110, 710);
  EXPECT_TRUE(logins.consume_request("r1", "h"));
  EXPECT_FALSE(logins.consume_request("r1", "h"));
  EXPECT_FALSE(logins.find_request("r1"));
  logins.insert_request(request("r2"));
  ASSERT_TRUE(clients.remove("c1"));
  EXPECT_FALSE(logins.find_request("r2"));
}

TEST_F(LoginStoreTest, NewRowsSweepExpiredOnes) {
  auto old = request("old");
  old.expires_at = 150;
  logins.insert_request(old);
  logins.insert_session(LoginSession{"old-s", "sub", 100, 150});
  auto fresh = request("new");
  fresh.created_at = 200;
  logins.insert_request(fresh);
  logins.insert_session(LoginSession{"new-s", "sub", 200, 300});
  EXPECT_FALSE(logins.find_request("old"));
  EXPECT_FALSE(logins.find_session("old-s"));
  EXPECT_TRUE(logins.find_request("new"));
  EXPECT_TRUE(logins.find_session("new-s"));
}

TEST_F(LoginStoreTest, SessionsRoundTripAndDelete) {
  const LoginSession s{"sh", "sub-1", 100, 200};
  logins.insert_session(s);
  EXPECT_EQ(logins.find_session("sh"), s);
  logins.delete_session("sh");
  EXPECT_FALSE(logins.find_session("sh"));
}

TEST_F(LoginStoreTest, MarkEmailVerified) {
  core::model::Account a;
  a.sub = "sub-1";
  a.email = "a@example.com";
  a.created_at = a.updated_at = 10;
  ASSERT_TRUE(accounts.insert(a));
  EXPECT_TRUE(logins.mark_email_verified("sub-1", 50));
  const auto after = accounts.find("sub-1");
  EXPECT_TRUE(after->email_verified);
  EXPECT_EQ(after->updated_at, 50);
  EXPECT_TRUE(logins.mark_email_verified("sub-1", 60));
  EXPECT_EQ(accounts.find("sub-1")->updated_at, 50);  // already verified: unchanged
  EXPECT_FALSE(logins.mark_email_verified("nobody", 60));
}

TEST_F(LoginStoreTest, ClientsKeepTheirPkceSetting) {
  core::model::Client c;
  c.id = "c2";
  c.publishable_key = "a.b.c2";
  c.name = "No PKCE";
  c.secret_hash = "h2";
  c.pkce_required = false;
  ASSERT_TRUE(clients.insert(c));
  EXPECT_FALSE(clients.find("c2")->pkce_required);
  EXPECT_TRUE(clients.find("c1")->pkce_required);
}

TEST_F(LoginStoreTest, JanitorRemovesExpiredLoginRequestsAndSessionsOnly) {
  store::sqlite::SqlitePurgeStore purge{db};
  auto old = request("old");
  old.expires_at = 500;
  logins.insert_request(old);
  logins.insert_request(request("live"));  // expires at 2000
  logins.insert_session({"s-old", "sub", 100, 500});
  logins.insert_session({"s-live", "sub", 100, 2000});
  EXPECT_EQ(purge.purge_batch(499, 500).logins, 0);
  EXPECT_EQ(purge.purge_batch(500, 500).logins, 2);
  EXPECT_FALSE(logins.find_request("old"));
  EXPECT_FALSE(logins.find_session("s-old"));
  EXPECT_TRUE(logins.find_request("live"));
  EXPECT_TRUE(logins.find_session("s-live"));
  EXPECT_EQ(purge.purge_batch(500, 500).logins, 0) << "idempotent";
}

}  // namespace
}  // namespace boltauth::contract
