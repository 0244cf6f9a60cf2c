// The rows a token-endpoint style request will read, named from the request alone (core/client_auth.hpp): the
// same client authenticate_client resolves, without judging the credentials.
#include "core/client_auth.hpp"

#include <gtest/gtest.h>

#include "base/base64url.hpp"
#include "protocol/form.hpp"

namespace boltauth::core {
namespace {

Request post(std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = "POST";
  r.path = "/v1/oauth/token";
  r.headers = std::move(headers);
  r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  r.body = std::move(body);
  r.remote_address = "192.0.2.7";
  return r;
}

protocol::FormParams form(const Request& r) { return *protocol::parse_form(r.body, 64).params; }

std::string basic(std::string_view user_pass) { return "Basic " + base::base64_encode(user_pass); }

TEST(ReadAheadKeys, NameTheBodyClient) {
  const Request r = post("grant_type=client_credentials&client_id=merchant-1&client_secret=s");
  ReadAheadRequest ahead;
  ahead.client_grant = true;
  const auto keys = read_ahead_keys(r, form(r), nullptr, ahead);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->client_id, "merchant-1");
  EXPECT_TRUE(keys->client_grant);
  EXPECT_FALSE(keys->grant_id);
  EXPECT_TRUE(keys->throttle_key.empty());  // no shared throttle: nothing of it to read
}

TEST(ReadAheadKeys, BasicWinsOverTheBodyAsAuthenticationDoes) {
  const Request r = post("grant_type=refresh_token&client_id=other", {{"authorization", basic("merchant-2:s")}});
  ReadAheadRequest ahead;
  ahead.grant_id = 42;
  ahead.jti = 7;
  const auto keys = read_ahead_keys(r, form(r), nullptr, ahead);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->client_id, "merchant-2");
  EXPECT_EQ(keys->grant_id, 42);
  EXPECT_EQ(keys->jti, 7u);
}

TEST(ReadAheadKeys, AQualifiedIdNamesTheClientTheRegistryResolves) {
  const Request r = post("client_id=publishable.merchant-3&client_secret=s");
  const auto keys = read_ahead_keys(r, form(r), nullptr, {});
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->client_id, ClientRegistry::id_of("publishable.merchant-3"));
  EXPECT_EQ(keys->client_id, "merchant-3");
}

TEST(ReadAheadKeys, NothingToReadIsNone) {
  const Request none = post("grant_type=refresh_token");
  EXPECT_FALSE(read_ahead_keys(none, form(none), nullptr, {}));
  // Malformed Basic names no client; the grant a sealed token names is still worth reading.
  const Request malformed = post("grant_type=refresh_token", {{"authorization", "Basic !!!"}});
  EXPECT_FALSE(read_ahead_keys(malformed, form(malformed), nullptr, {}));
  ReadAheadRequest ahead;
  ahead.grant_id = 9;
  const auto keys = read_ahead_keys(malformed, form(malformed), nullptr, ahead);
  ASSERT_TRUE(keys);
  EXPECT_TRUE(keys->client_id.empty());
  EXPECT_EQ(keys->grant_id, 9);
}

}  // namespace
}  // namespace boltauth::core
