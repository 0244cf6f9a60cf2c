// Debian's libiddawc (a C OpenID Connect client library nobody here wrote, with librhonabwy for JWTs) against a
// real boltauth started here, with the server's defaults. The code is bound in the store to a PKCE challenge, a
// nonce and a redirect URI, as the authorization endpoint binds it; everything after that is the library's doing:
// discovery, exchange, id_token verification, userinfo, refresh (original scope, none), introspection, revocation.
#include <gtest/gtest.h>

#include <ctime>
#include <iostream>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "integration/process_util.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

TEST(Iddawc, DiscoveryExchangeVerifyUserinfoRefreshIntrospectRevoke) {
  TestServer server;
  // librhonabwy checks iat/exp against the wall clock: run the server's manual clock at real time.
  server.clock().advance(static_cast<base::UnixSeconds>(std::time(nullptr)) - server.clock().now());
  const std::string redirect_uri = "http://127.0.0.1/iddawc/callback";
  const auto client = server.create_client({redirect_uri});
  base::SeededRandom random(0x1dda);  // fixed: the same verifier and nonce on every run
  const std::string verifier = random.token(48);
  TestServer::CodeSpec spec;
  spec.scope = "openid email bolt.account.view";
  spec.redirect_uri = redirect_uri;
  spec.code_challenge = base::base64url_encode(crypto::sha256(verifier));
  spec.nonce = "iddawc-" + random.token(12);
  const std::string code = server.insert_code(client, spec);
  // The canonical id, as `client create` prints it on its `oidc id:` line: Debian 12's librhonabwy needs `aud` to
  // be a string, which that spelling gets.
  const auto r = run_command({BOLTAUTH_IDDAWC_FLOW, server.issuer(), client.client.id, client.client_secret,
                              redirect_uri, code, verifier, spec.nonce, spec.scope},
                             60s);
  std::cout << r.out;
  EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  EXPECT_NE(r.out.find("every check passed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace boltauth::testing
