// Cookie headers (core/authorize find_cookie) as the login pages read them: the session, browser and login
// cookies, from any number of Cookie headers. Properties: a value found is the text after `name=` in the input
// and holds no `;`; the authorization endpoint takes any such header without a 5xx.
#include "core/authorize/authorize_endpoint.hpp"
#include "protocol/form.hpp"
#include "provider_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace boltauth;
  static fuzz::ProviderFixture f;
  const auto input = fuzz::as_view(data, size);
  core::Request r;
  r.method = "GET";
  r.path = "/v1/oauth/authorize";
  r.remote_address = "127.0.0.1";
  // One Cookie header per line of the input.
  for (std::string_view rest = input; !rest.empty();) {
    const auto [line, tail] = fuzz::split(rest, '\n');
    r.headers.emplace_back("cookie", std::string(line));
    if (tail.empty() && line.size() == rest.size()) break;
    rest = tail;
  }
  using E = core::authorize::AuthorizeEndpoint;
  for (auto name : {E::kSessionCookie, E::kBrowserCookie, E::kLoginCookie}) {
    if (const auto value = core::authorize::find_cookie(r, name)) {
      FUZZ_CHECK(value->find(';') == std::string::npos);
      FUZZ_CHECK(input.find(std::string(name) + "=" + *value) != std::string_view::npos);
    }
  }
  r.query = "response_type=code&client_id=" + f.client_id() +
            "&redirect_uri=" + protocol::form_encode(fuzz::ProviderFixture::kRedirect) + "&scope=openid&state=s1234567";
  (void)f.handle(r);
  return 0;
}
