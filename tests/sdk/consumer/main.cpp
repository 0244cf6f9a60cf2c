// Uses the installed SDK the way a merchant backend would; exits non-zero on any surprise.
#include <boltauth/boltauth.hpp>
#include <iostream>

int main() {
  int failures = 0;
  auto check = [&failures](bool ok, const char* what) {
    if (!ok) {
      std::cerr << "FAILED: " << what << "\n";
      ++failures;
    }
  };

  const auto parsed = boltauth::models::parse_oauth_token_response(
      R"({"access_token":"a","expires_in":3600,"refresh_token":"r","refresh_token_scope":"bolt.account.view",)"
      R"("scope":"bolt.account.view","token_type":"bearer"})");
  check(parsed && parsed->expires_in == 3600, "OAuthTokenResponse parses");
  check(parsed && boltauth::models::parse_oauth_token_response(boltauth::models::to_json_string(*parsed)) == parsed,
        "OAuthTokenResponse round-trips");
  boltauth::models::OAuthTokenInput input;
  input.client_id = "pk";
  input.client_secret = "sk";
  input.code = "c";
  input.scope =
      boltauth::models::join_scopes({boltauth::models::Scope::bolt_account_manage, boltauth::models::Scope::openid});
  check(boltauth::models::to_form(input) ==
            "grant_type=authorization_code&code=c&client_id=pk&client_secret=sk&scope=bolt.account.manage%20openid",
        "form encoding");

  boltauth::BoltOptions sandbox;
  sandbox.server_idx = 1;
  check(boltauth::Bolt(sandbox).server_url() == "https://api-sandbox.bolt.com", "server index 1");

  // Nothing listens on port 1: a transport failure, reported as APIError with status 0 (no retries here).
  boltauth::BoltOptions local;
  local.server_url = "http://127.0.0.1:1";
  local.retry_config.strategy = boltauth::RetryConfig::Strategy::none;
  boltauth::Bolt bolt(local);
  try {
    bolt.o_auth().o_auth_token(input);
    check(false, "o_auth_token throws");
  } catch (const boltauth::errors::APIError& e) {
    check(e.status_code() == 0, "transport failure has status 0");
  }

  boltauth::IdTokenVerifierOptions vo;
  vo.issuer = "http://127.0.0.1:1";
  vo.client_id = "pk";
  boltauth::IdTokenVerifier verifier(bolt.options().transport, vo);
  try {
    verifier.verify("a.b.c");
    check(false, "verify throws");
  } catch (const boltauth::errors::IdTokenError& e) {
    check(e.failure() == boltauth::errors::IdTokenFailure::discovery_failed, "verify fails on discovery");
  }
  boltauth::TokenManagerOptions mo;
  boltauth::TokenManager manager(bolt, mo, "refresh");
  check(manager.refresh_token() == "refresh", "TokenManager holds the refresh token");

  if (failures == 0) std::cout << "consumer OK\n";
  return failures == 0 ? 0 : 1;
}
