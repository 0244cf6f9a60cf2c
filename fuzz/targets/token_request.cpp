// POST /v1/oauth/token through the real provider and store: the front checks (method, content type, form
// decoding, duplicate and unknown parameters, client authentication in the header and the body, grant type,
// scope, PKCE syntax) and, past them, code and refresh redemption. The input is the form body; its first byte
// picks the framing (credentials in Basic or the body or both, content type, method). `@CODE@` and `@REFRESH@`
// become a live code and a live refresh token, `@ID@` and `@SECRET@` the merchant's credentials, so the fuzzer
// reaches the grant logic, not only the refusals.
#include "provider_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace boltauth;
  static fuzz::ProviderFixture f;
  if (size == 0) return 0;
  const unsigned char mode = data[0];
  std::string body(fuzz::as_view(data + 1, size - 1));
  fuzz::substitute(body, "@CODE@", [] { return f.code(); });
  fuzz::substitute(body, "@REFRESH@", [] { return f.refresh_token(); });
  fuzz::substitute(body, "@ID@", [] { return f.client_id(); });
  fuzz::substitute(body, "@SECRET@", [] { return f.secret(); });

  core::Request r;
  r.method = (mode & 8) ? "GET" : "POST";
  r.path = (mode & 16) ? "/v1/oauth/token/" : "/v1/oauth/token";
  r.remote_address = "127.0.0.1";
  r.body = std::move(body);
  if (!(mode & 1)) r.headers.emplace_back("authorization", f.basic());
  if (mode & 2)
    r.headers.emplace_back("content-type", "application/json");
  else if (!(mode & 4))
    r.headers.emplace_back("content-type", "application/x-www-form-urlencoded; charset=UTF-8");
  if (mode & 32) r.headers.emplace_back("authorization", "Basic " + r.body.substr(0, 64));
  if (mode & 64) r.query = r.body.substr(0, 128);
  const auto answer = f.handle(r);
  // A token is only ever issued to a POST (RFC 6749 section 3.2).
  if (answer.status == 200) FUZZ_CHECK(r.method == "POST");
  return 0;
}
