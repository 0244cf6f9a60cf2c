// GET/POST /v1/oauth/authorize through the real provider and store: the authorization request's checks (client,
// redirect_uri, response_type, response_mode, scope, state, nonce, PKCE, prompt, max_age, login_hint,
// id_token_hint) and the login page it answers with. The input is the query (or the form body, by its first
// byte); `@ID@` becomes the merchant's client id and `@REDIRECT@` its registered redirect URI. Properties: no 5xx;
// a redirect goes only to the registered URI (RFC 6749 section 3.1.2.4: never to an unchecked one).
#include "protocol/form.hpp"
#include "provider_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace boltauth;
  static fuzz::ProviderFixture f;
  if (size == 0) return 0;
  const unsigned char mode = data[0];
  std::string params(fuzz::as_view(data + 1, size - 1));
  fuzz::substitute(params, "@ID@", [] { return f.client_id(); });
  fuzz::substitute(params, "@REDIRECT@", [] { return protocol::form_encode(fuzz::ProviderFixture::kRedirect); });

  core::Request r;
  r.path = "/v1/oauth/authorize";
  r.remote_address = "127.0.0.1";
  if (mode & 1) {
    r.method = "POST";
    r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    r.body = std::move(params);
  } else {
    r.method = "GET";
    r.query = std::move(params);
  }
  if (mode & 2) r.headers.emplace_back("cookie", "boltauth_session=" + std::string(43, 'a'));
  const auto answer = f.handle(r);
  for (const auto& [name, value] : answer.headers)
    if (name == "Location" || name == "location")
      FUZZ_CHECK(value.rfind(std::string(fuzz::ProviderFixture::kRedirect) + "?", 0) == 0 ||
                 value.rfind(std::string(fuzz::ProviderFixture::kRedirect) + "#", 0) == 0);
  return 0;
}
