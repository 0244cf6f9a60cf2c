// Interoperability: real OAuth clients nobody here wrote (Debian's python3-authlib, npm's openid-client) run
// against a real boltauth server started here (TestServer: real HTTP on 127.0.0.1 port 0, a temporary data dir).
// The code is bound in the store to a PKCE challenge, a nonce and a redirect URI, as the authorization endpoint
// binds it, so the flow needs no browser; everything after that is the client library's own doing.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <ctime>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "integration/process_util.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class Interop : public ::testing::Test {
 protected:
  TestServer server;
  const std::string redirect_uri = "http://127.0.0.1/interop/callback";
  core::CreatedClient client = server.create_client({redirect_uri});

  void SetUp() override {
    // The libraries check iat/exp against the wall clock: run the server's manual clock at real time.
    server.clock().advance(static_cast<base::UnixSeconds>(std::time(nullptr)) - server.clock().now());
  }

  std::string config() {
    base::SeededRandom random(0x1e7e);              // fixed: the same verifier and nonce on every run
    const std::string verifier = random.token(48);  // base64url: RFC 7636 unreserved characters, 64 long
    TestServer::CodeSpec spec;
    spec.scope = "bolt.account.manage bolt.account.view openid email";
    spec.redirect_uri = redirect_uri;
    spec.code_challenge = base::base64url_encode(crypto::sha256(verifier));
    spec.nonce = "interop-" + random.token(12);
    const std::string code = server.insert_code(client, spec);
    boost::json::object cfg;
    cfg["issuer"] = server.issuer();
    cfg["client_id"] = client.client.publishable_key;
    cfg["canonical_client_id"] = client.client.id;
    cfg["client_secret"] = client.client_secret;
    cfg["redirect_uri"] = redirect_uri;
    cfg["code"] = code;
    cfg["code_verifier"] = verifier;
    cfg["code_challenge"] = spec.code_challenge;
    cfg["nonce"] = spec.nonce;
    cfg["scope"] = spec.scope;
    return boost::json::serialize(cfg);
  }

  static void expect_success(const CommandResult& r) {
    EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
    EXPECT_NE(r.out.find("every check passed"), std::string::npos) << r.out;
  }
};

TEST_F(Interop, authlib_code_flow_pkce_id_token_userinfo_refresh_introspect_revoke) {
  // Debian's python3 with Debian's python3-authlib (not a virtualenv's interpreter).
  expect_success(run_command({"/usr/bin/python3", BOLTAUTH_INTEROP_DIR "/authlib_flow.py", config()}, 60s));
}

TEST_F(Interop, openid_client_discovery_code_flow_pkce_id_token_userinfo_refresh) {
  expect_success(run_command({"/usr/bin/env", "node", BOLTAUTH_INTEROP_DIR "/openid_client_flow.js", config()}, 60s));
}

}  // namespace
}  // namespace boltauth::testing
