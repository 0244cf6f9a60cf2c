// Upgrading a data dir written before storage v2, over the real binary (docs/design.md "Upgrading a data dir"):
// the file holds clients, accounts and tokens the way the previous release stored them (keyed hashes of tokens
// minted with the data dir's master key). `boltauth serve` migrates it in place; clients, accounts and keys
// survive, and shoppers are not logged out: tokens issued before keep working until they expire.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "base/random.hpp"
#include "crypto/token_minter.hpp"
#include "integration/process_util.hpp"
#include "protocol/form.hpp"
#include "server/key_files.hpp"
#include "store/sqlite/sqlite_schema.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error(message + " in: " + sql);
  }
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

/// The fixed one-time code of a sandbox account of the previous release, which stored it in clear.
const std::string kOldFixedOtp = "975310";
const std::string kOldSandboxEmail = "test-old@sandbox.boltauth.test";

/// What the previous release would have left in a data dir after a shopper logged in at a merchant.
struct PreV2DataDir {
  std::string client_id;        // publishable key
  std::string client_secret;    // API key
  std::string access_token;     // family 1, scope bolt.account.manage bolt.account.view openid
  std::string refresh_token;    // family 1, unused
  std::string rotated_refresh;  // family 1, already rotated into refresh_token
  std::string other_refresh;    // family 2, unused
};

PreV2DataDir write_pre_v2_data_dir(const std::filesystem::path& dir) {
  install_test_signing_key(dir);
  base::SystemRandom random;
  crypto::TokenMinter minter(server::KeyFiles(dir).master_key(random));
  PreV2DataDir out;
  const std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  out.client_id = "AbCdEfGhIjKl.MnOpQrStUvWx." + id;
  out.client_secret = minter.mint(crypto::TokenKind::client_secret, random);
  out.access_token = minter.mint(crypto::TokenKind::access_token, random);
  out.refresh_token = minter.mint(crypto::TokenKind::refresh_token, random);
  out.rotated_refresh = minter.mint(crypto::TokenKind::refresh_token, random);
  out.other_refresh = minter.mint(crypto::TokenKind::refresh_token, random);
  const auto now = static_cast<long long>(std::time(nullptr));
  const auto t = [&](long long delta) { return std::to_string(now + delta); };

  sqlite3* db = nullptr;
  if (sqlite3_open((dir / "boltauth.db").c_str(), &db) != SQLITE_OK) throw std::runtime_error("open");
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; BEGIN");
  exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)");
  for (int version = 1; version <= 4; ++version) {
    exec(db, std::string(store::sqlite::SqliteSchema::migration(version)));
    exec(db, "INSERT INTO schema_migrations VALUES (" + std::to_string(version) + ", 0)");
  }
  exec(db,
       "INSERT INTO clients (id, publishable_key, name, secret_hash, redirect_uris, grant_types, created_at, "
       "pkce_required, id_token_signed_response_alg) VALUES (" +
           quote(id) + ", " + quote(out.client_id) + ", 'Shop', " + quote(minter.storage_hash(out.client_secret)) +
           ", '[\"https://shop.example/cb\"]', '[\"authorization_code\",\"refresh_token\"]', " + t(-900) +
           ", 1, 'RS256')");
  exec(db,
       "INSERT INTO accounts (sub, email, email_verified, first_name, last_name, phone_verified, created_at, "
       "updated_at) VALUES ('sub-ada', 'ada@example.com', 1, 'Ada', 'Lovelace', 0, " +
           t(-900) + ", " + t(-900) + ")");
  exec(db,
       "INSERT INTO accounts (sub, email, email_verified, first_name, last_name, phone_verified, otp_code, "
       "deactivate_at, created_at, updated_at) VALUES ('sub-test', " +
           quote(kOldSandboxEmail) + ", 1, 'Test', 'Shopper', 0, " + quote(kOldFixedOtp) + ", " + t(86400) + ", " +
           t(-900) + ", " + t(-900) + ")");
  exec(db, "INSERT INTO grants (id, client_id, sub, auth_time, created_at) VALUES ('family-1', " + quote(id) +
               ", 'sub-ada', " + t(-600) + ", " + t(-600) + "), ('family-2', " + quote(id) + ", 'sub-ada', " + t(-600) +
               ", " + t(-600) + ")");
  const auto token = [&](const std::string& value, int type, const std::string& grant, const std::string& scope,
                         long long issued, long long ttl, const std::string& used_at) {
    exec(db,
         "INSERT INTO tokens (hash, type, grant_id, client_id, sub, scope, issued_at, expires_at, used_at) "
         "VALUES (" +
             quote(minter.storage_hash(value)) + ", " + std::to_string(type) + ", " + quote(grant) + ", " + quote(id) +
             ", 'sub-ada', " + quote(scope) + ", " + t(issued) + ", " + t(issued + ttl) + ", " + used_at + ")");
  };
  token(out.rotated_refresh, 1, "family-1", "bolt.account.view", -600, 86400, t(-300));
  token(out.access_token, 0, "family-1", "bolt.account.manage bolt.account.view openid", -300, 3600, "NULL");
  token(out.refresh_token, 1, "family-1", "bolt.account.view", -300, 86400, "NULL");
  token(out.other_refresh, 1, "family-2", "bolt.account.view", -600, 86400, "NULL");
  exec(db, "COMMIT");
  sqlite3_close(db);
  return out;
}

std::string field(const HttpResponse& res, const char* name) {
  auto v = res.json();
  if (!v.is_object()) return {};
  auto* f = v.as_object().if_contains(name);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

class UpgradeTest : public ::testing::Test {
 protected:
  UpgradeTest() : before_(write_pre_v2_data_dir(dir_.path())), server_(BOLTAUTH_BINARY, dir_.path()) {}

  HttpResponse refresh(const std::string& token) {
    return http().post_form("/v1/oauth/token", form({{"grant_type", "refresh_token"},
                                                     {"refresh_token", token},
                                                     {"client_id", before_.client_id},
                                                     {"client_secret", before_.client_secret},
                                                     {"scope", "bolt.account.view"}}));
  }
  HttpResponse lifecycle(const std::string& path, const std::string& token) {
    return http().post_form(
        path, form({{"token", token}, {"client_id", before_.client_id}, {"client_secret", before_.client_secret}}));
  }
  HttpResponse account(const std::string& access) {
    return http().get("/v1/account", {{"Authorization", "Bearer " + access}});
  }
  HttpClient& http() {
    if (!http_) http_ = std::make_unique<HttpClient>(server_.port());
    return *http_;
  }

  TempDir dir_;
  PreV2DataDir before_;
  ServerProcess server_;
  std::unique_ptr<HttpClient> http_;
};

TEST_F(UpgradeTest, AccessTokenIssuedBeforeKeepsWorkingAndCanBeRevoked) {
  auto res = account(before_.access_token);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_NE(res.body.find("ada@example.com"), std::string::npos) << "the account survived: " << res.body;
  auto info = lifecycle("/v1/oauth/introspect", before_.access_token);
  EXPECT_EQ(info.json().as_object().at("active").as_bool(), true) << info.body;
  EXPECT_EQ(info.json().as_object().at("sub").as_string(), "sub-ada");
  ASSERT_EQ(lifecycle("/v1/oauth/revoke", before_.access_token).status, 200);
  EXPECT_EQ(account(before_.access_token).status, 401);
  EXPECT_EQ(lifecycle("/v1/oauth/introspect", before_.access_token).body, R"({"active":false})");
}

TEST_F(UpgradeTest, RefreshTokenIssuedBeforeMovesItsFamilyIntoAGrantAndRotatesOn) {
  EXPECT_EQ(lifecycle("/v1/oauth/introspect", before_.refresh_token).json().as_object().at("active").as_bool(), true);
  auto first = refresh(before_.refresh_token);
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string next = field(first, "refresh_token");
  ASSERT_EQ(next.size(), 87u);
  ASSERT_EQ(account(field(first, "access_token")).status, 200);
  // The moved family rotates like any other, and the legacy token is spent.
  auto second = refresh(next);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(lifecycle("/v1/oauth/introspect", before_.refresh_token).body, R"({"active":false})");
  // Reuse of the legacy token (RFC 9700 section 4.14.2) revokes the family, the grant it moved into included.
  auto reuse = refresh(before_.refresh_token);
  EXPECT_NE(reuse.status, 200);
  EXPECT_EQ(field(reuse, "error"), "invalid_grant") << reuse.body;
  EXPECT_NE(refresh(field(second, "refresh_token")).status, 200) << "the moved family must be revoked";
  EXPECT_EQ(account(field(second, "access_token")).status, 401);
}

TEST_F(UpgradeTest, RevokingTheGrantAFamilyMovedIntoEndsItsLegacyAccessTokens) {
  ASSERT_EQ(account(before_.access_token).status, 200);
  auto moved = refresh(before_.refresh_token);
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(account(before_.access_token).status, 200) << "moving the family keeps its access tokens";
  // RFC 7009 on the moved family's refresh token revokes the grant, and with it what the family issued before.
  ASSERT_EQ(lifecycle("/v1/oauth/revoke", field(moved, "refresh_token")).status, 200);
  EXPECT_EQ(account(field(moved, "access_token")).status, 401);
  EXPECT_EQ(account(before_.access_token).status, 401);
  EXPECT_EQ(lifecycle("/v1/oauth/introspect", before_.access_token).body, R"({"active":false})");
}

TEST_F(UpgradeTest, RefreshTokenRotatedBeforeTheUpgradeIsReuse) {
  auto reuse = refresh(before_.rotated_refresh);
  EXPECT_EQ(field(reuse, "error"), "invalid_grant") << reuse.body;
  EXPECT_NE(refresh(before_.refresh_token).status, 200) << "its family was revoked";
  EXPECT_EQ(account(before_.access_token).status, 401);
  EXPECT_EQ(refresh(before_.other_refresh).status, 200) << "another family is untouched";
}

TEST_F(UpgradeTest, RevokingALegacyRefreshTokenRevokesItsFamily) {
  ASSERT_EQ(lifecycle("/v1/oauth/revoke", before_.other_refresh).status, 200);
  EXPECT_NE(refresh(before_.other_refresh).status, 200);
  EXPECT_EQ(refresh(before_.refresh_token).status, 200) << "the other family lives on";
}

TEST_F(UpgradeTest, ClientsAndKeysSurviveAndNewLoginsWork) {
  auto jwks = http().get("/v1/oauth/jwks.json");
  ASSERT_EQ(jwks.status, 200);
  EXPECT_FALSE(jwks.json().as_object().at("keys").as_array().empty());
  // The pre-upgrade client issues codes in the new format through the sandbox endpoint and exchanges them.
  auto shopper = http().request("POST", "/v1/testing/shopper/create",
                                {{"X-API-Key", before_.client_secret}, {"Content-Type", "application/json"}}, "{}");
  ASSERT_EQ(shopper.status, 200) << shopper.body;
  auto tokens = http().post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                          {"code", field(shopper, "oauth_code")},
                                                          {"client_id", before_.client_id},
                                                          {"client_secret", before_.client_secret},
                                                          {"scope", "bolt.account.manage openid"}}));
  EXPECT_EQ(tokens.status, 200) << tokens.body;
  EXPECT_FALSE(field(tokens, "id_token").empty());
}

TEST_F(UpgradeTest, FixedOtpCodeStoredInClearBeforeIsHashedAndStillLogsIn) {
  // The sandbox account's fixed code logs in through the modal after the upgrade...
  const std::string target =
      "/v1/oauth/authorize?response_type=code&client_id=" + protocol::form_encode(before_.client_id) +
      "&redirect_uri=" + protocol::form_encode("https://shop.example/cb") +
      "&scope=openid&state=s&code_challenge=" + std::string(43, 'A') + "&code_challenge_method=S256";
  auto page = http().get(target);
  ASSERT_EQ(page.status, 200) << page.body;
  // A same-origin form post with the page's cookies, as the browser sends it.
  Headers jar{{"Sec-Fetch-Site", "same-origin"}};
  for (const auto& [k, v] : page.headers)
    if (k == "set-cookie") jar.emplace_back("Cookie", v.substr(0, v.find(';')));
  std::smatch m;
  const std::regex handle_re("name=\"login\" value=\"([^\"]+)\"");
  ASSERT_TRUE(std::regex_search(page.body, m, handle_re)) << page.body;
  const std::string handle = m[1].str();
  ASSERT_EQ(
      http().post_form("/v1/oauth/login-email", form({{"login", handle}, {"email", kOldSandboxEmail}}), jar).status,
      303);
  auto done = http().post_form("/v1/oauth/login-otp", form({{"login", handle}, {"otp", kOldFixedOtp}}), jar);
  ASSERT_EQ(done.status, 303) << done.body;
  EXPECT_NE(done.header("location").value_or("").find("code="), std::string::npos);
  // ...and once the server has shut down cleanly, the database file and its log no longer hold it in clear.
  http_.reset();
  ASSERT_TRUE(server_.process().signal(SIGTERM));
  ASSERT_TRUE(server_.process().wait_exit(std::chrono::seconds(15)).has_value());
  for (const char* name : {"boltauth.db", "boltauth.db-wal"}) {
    std::ifstream in(dir_.path() / name, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(kOldFixedOtp), std::string::npos) << name << " holds the fixed code in clear";
  }
}

}  // namespace
}  // namespace boltauth::testing
