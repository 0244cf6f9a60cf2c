// What a standard OpenID Connect relying party sends, on the token endpoint discovery advertises: no `scope` on the
// code exchange (RFC 6749 section 4.1.3, OIDC Core 3.1.3.1), refresh with the original scope or none (RFC 6749
// section 6, OIDC Core 12.2), RFC 6749 section 5.2 statuses, and an id_token that satisfies OIDC Core 3.1.3.7
// steps 3-5 for the client_id spelling the client used. Bolt's paths keep Bolt's shape.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"
#include "protocol/basic_auth.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

constexpr const char* kStd = "/oauth2/token";
constexpr const char* kRedirect = "https://rp.example/callback";

std::string field(const HttpResponse& res, const char* name) {
  const auto value = res.json();
  const auto& o = value.as_object();
  return o.contains(name) ? std::string(o.at(name).as_string()) : std::string();
}

class StandardRpTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client({kRedirect});

  // A code as the authorization endpoint makes it for an RP: bound to redirect_uri, PKCE and a nonce.
  std::string code(const std::string& scope = "openid email bolt.account.view") {
    TestServer::CodeSpec spec;
    spec.scope = scope;
    spec.redirect_uri = kRedirect;
    spec.code_challenge = base::base64url_encode(crypto::sha256(verifier()));  // S256, RFC 7636 section 4.2
    spec.nonce = "n-rp-nonce";
    return server.insert_code(client, spec);
  }
  static std::string verifier() { return "rp-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"; }

  // mod_auth_openidc's exchange: grant_type, code, redirect_uri, code_verifier; credentials in Basic.
  HttpResponse exchange(const std::string& path, const std::string& code, const std::string& client_id) {
    return server.http().post_form(path,
                                   form({{"grant_type", "authorization_code"},
                                         {"code", code},
                                         {"redirect_uri", kRedirect},
                                         {"code_verifier", verifier()}}),
                                   {{"Authorization", protocol::make_basic_auth(client_id, client.client_secret)}});
  }
  HttpResponse refresh(const std::string& path, const std::string& token, const std::optional<std::string>& scope,
                       const std::string& client_id) {
    std::vector<std::pair<std::string, std::string>> p{{"grant_type", "refresh_token"},
                                                       {"refresh_token", token},
                                                       {"client_id", client_id},
                                                       {"client_secret", client.client_secret}};
    if (scope) p.emplace_back("scope", *scope);
    return server.http().post_form(path, form(p));
  }
  boost::json::object claims(const std::string& id_token) {
    auto jwks = server.http().get("/v1/oauth/jwks.json").json().as_object();
    auto verified = crypto::verify_jws(id_token, jwks);
    EXPECT_TRUE(verified.claims) << "id_token does not verify";
    return verified.claims ? *verified.claims : boost::json::object{};
  }
};

TEST_F(StandardRpTest, DiscoveryAdvertisesTheStandardTokenPath) {
  auto doc = server.http().get("/.well-known/openid-configuration").json().as_object();
  EXPECT_EQ(doc.at("token_endpoint").as_string(), server.issuer() + kStd);
}

TEST_F(StandardRpTest, ExchangeWithoutScopeGetsTheCodesScope) {
  for (const char* path : {kStd, "/v1/oauth/token", "/v3/oauth/token"}) {
    auto res = exchange(path, code(), client.client.id);
    ASSERT_EQ(res.status, 200) << path << " " << res.body;
    EXPECT_EQ(field(res, "scope"), "bolt.account.view openid email") << path;
    EXPECT_FALSE(field(res, "id_token").empty());
    EXPECT_FALSE(field(res, "refresh_token").empty());
  }
}

TEST_F(StandardRpTest, CanonicalIdGetsASingleStringAudience) {
  auto res = exchange(kStd, code(), client.client.id);
  ASSERT_EQ(res.status, 200) << res.body;
  const auto c = claims(field(res, "id_token"));
  EXPECT_EQ(c.at("aud"), boost::json::value(client.client.id));
  EXPECT_EQ(c.at("azp").as_string(), client.client.id);
  EXPECT_EQ(c.at("nonce").as_string(), "n-rp-nonce");
}

TEST_F(StandardRpTest, FullPublishableKeyIsInAudAndIsTheAzp) {
  const std::string& full = client.client.publishable_key;
  auto res = exchange(kStd, code(), full);
  ASSERT_EQ(res.status, 200) << res.body;
  const auto c = claims(field(res, "id_token"));
  EXPECT_EQ(c.at("aud"),
            boost::json::value(boost::json::array{boost::json::string(client.client.id), boost::json::string(full)}));
  EXPECT_EQ(c.at("azp").as_string(), full);
  // The same spelling in the body (client_secret_post) gives the same audience.
  auto refreshed = refresh(kStd, field(res, "refresh_token"), std::nullopt, full);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(claims(field(refreshed, "id_token")).at("azp").as_string(), full);
}

TEST_F(StandardRpTest, BoltPathsNameTheSpellingUsedAndKeepTheCanonicalIdInAud) {
  // Bolt's SDKs send the full key and look for the last section in aud (contract section 4): it is always there;
  // a single audience stays Bolt's one-element array.
  auto full = exchange("/v1/oauth/token", code(), client.client.publishable_key);
  ASSERT_EQ(full.status, 200) << full.body;
  auto c = claims(field(full, "id_token"));
  EXPECT_EQ(c.at("aud"), boost::json::value(boost::json::array{boost::json::string(client.client.id),
                                                               boost::json::string(client.client.publishable_key)}));
  EXPECT_EQ(c.at("azp").as_string(), client.client.publishable_key);
  auto canonical = exchange("/v1/oauth/token", code(), client.client.id);
  ASSERT_EQ(canonical.status, 200) << canonical.body;
  c = claims(field(canonical, "id_token"));
  EXPECT_EQ(c.at("aud"), boost::json::value(boost::json::array{boost::json::string(client.client.id)}));
  EXPECT_EQ(c.at("azp").as_string(), client.client.id);
}

TEST_F(StandardRpTest, RefreshWithTheOriginalScopeGivesItBackWithAnIdToken) {
  auto first = exchange(kStd, code(), client.client.id);
  ASSERT_EQ(first.status, 200) << first.body;
  const auto first_claims = claims(field(first, "id_token"));
  auto res = refresh(kStd, field(first, "refresh_token"), "openid email bolt.account.view", client.client.id);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(field(res, "scope"), "bolt.account.view openid email");
  const auto c = claims(field(res, "id_token"));
  // OIDC Core 12.2: same iss, sub, aud, auth_time; the nonce of the original authentication.
  EXPECT_EQ(c.at("sub"), first_claims.at("sub"));
  EXPECT_EQ(c.at("aud"), first_claims.at("aud"));
  EXPECT_EQ(c.at("auth_time"), first_claims.at("auth_time"));
  EXPECT_EQ(c.at("nonce").as_string(), "n-rp-nonce");
  // The rotated token keeps the whole scope (RFC 6749 section 6), and userinfo answers with email.
  auto again = refresh(kStd, field(res, "refresh_token"), std::nullopt, client.client.id);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(field(again, "scope"), "bolt.account.view openid email");
  auto info = server.http().get("/v1/oauth/userinfo", {{"Authorization", "Bearer " + field(again, "access_token")}});
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_TRUE(info.json().as_object().contains("email"));
}

TEST_F(StandardRpTest, RefreshMayNarrowAndAlwaysSaysWhatItIssued) {
  auto first = exchange(kStd, code(), client.client.id);
  auto res = refresh(kStd, field(first, "refresh_token"), "email", client.client.id);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(field(res, "scope"), "email");
  EXPECT_TRUE(field(res, "id_token").empty()) << "no openid, no id_token";
  // Narrowing one refresh does not narrow the refresh token.
  auto next = refresh(kStd, field(res, "refresh_token"), "openid bolt.account.view", client.client.id);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(field(next, "scope"), "bolt.account.view openid");
}

TEST_F(StandardRpTest, ManageIsNeverRegrantedByARefresh) {
  auto first = exchange(kStd, code("openid bolt.account.manage"), client.client.id);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(field(first, "scope"), "bolt.account.manage openid");
  auto wide = refresh(kStd, field(first, "refresh_token"), "openid bolt.account.manage", client.client.id);
  EXPECT_EQ(wide.status, 400);
  EXPECT_EQ(field(wide, "error"), "invalid_scope");
  auto res = refresh(kStd, field(first, "refresh_token"), std::nullopt, client.client.id);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(field(res, "scope"), "bolt.account.view openid");
  EXPECT_EQ(field(res, "refresh_token_scope"), "bolt.account.view");
}

TEST_F(StandardRpTest, ScopeOutsideTheOriginalGrantIsInvalidScope) {
  auto first = exchange(kStd, code("openid bolt.account.view"), client.client.id);
  auto res = refresh(kStd, field(first, "refresh_token"), "openid email bolt.account.view", client.client.id);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(field(res, "error"), "invalid_scope");
}

TEST_F(StandardRpTest, ErrorStatusesFollowThePath) {
  // RFC 6749 section 5.2 on the standard path; Bolt's 422 for invalid_grant on Bolt's paths.
  for (const auto& [path, status] :
       std::vector<std::pair<std::string, int>>{{kStd, 400}, {"/v1/oauth/token", 422}, {"/v3/oauth/token", 422}}) {
    auto res = exchange(path, "not-a-code", client.client.id);
    EXPECT_EQ(res.status, status) << path;
    // v3 answers its own body: {".tag":"unprocessable_request","message":...}.
    EXPECT_EQ(field(res, path.rfind("/v3/", 0) == 0 ? ".tag" : "error"),
              path.rfind("/v3/", 0) == 0 ? "unprocessable_request" : "invalid_grant")
        << path;
  }
  auto cc = server.http().post_form(kStd, form({{"grant_type", "client_credentials"},
                                                {"client_id", client.client.id},
                                                {"client_secret", client.client_secret}}));
  EXPECT_EQ(cc.status, 400);
  EXPECT_EQ(field(cc, "error"), "unauthorized_client");
  auto bad = server.http().post_form(kStd, form({{"grant_type", "authorization_code"}, {"code", "x"}}));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(field(bad, "error"), "invalid_client");
  auto get = server.http().get(kStd);
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("allow"), "POST");
}

TEST_F(StandardRpTest, BoltsOwnScopeRequirementStaysAvailable) {
  TestServer strict([](server::AppOptions& o) { o.config.token_scope_required = true; });
  auto c = strict.create_client();
  auto res = strict.http().post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                              {"code", strict.sandbox_code(c)},
                                                              {"client_id", c.client.publishable_key},
                                                              {"client_secret", c.client_secret}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(field(res, "error"), "invalid_request");
}

}  // namespace
}  // namespace boltauth::testing
