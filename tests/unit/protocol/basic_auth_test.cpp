#include "protocol/basic_auth.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "base/base64url.hpp"

namespace boltauth::protocol {
namespace {

std::string basic(std::string_view raw_credentials) { return "Basic " + base::base64_encode(raw_credentials); }

TEST(BasicAuth, SimpleRoundTrip) {
  const std::string header = make_basic_auth("pk_test_123", "sk_secret");
  // RFC 7617 shape: "Basic " + base64("id:secret") (nothing here needs form-encoding).
  EXPECT_EQ(header, basic("pk_test_123:sk_secret"));
  const auto c = parse_basic_auth(header);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->client_id, "pk_test_123");
  EXPECT_EQ(c->client_secret, "sk_secret");
  EXPECT_TRUE(is_basic_scheme(header));
}

TEST(BasicAuth, KnownHeaderValue) {
  // RFC 7617 section 2 example: Aladdin / open sesame.
  const auto c = parse_basic_auth("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->client_id, "Aladdin");
  EXPECT_EQ(c->client_secret, "open sesame");
}

TEST(BasicAuth, SpecialCharactersAreFormEncodedAndRoundTrip) {
  // RFC 6749 section 2.3.1: id and secret are application/x-www-form-urlencoded before base64.
  struct Case {
    std::string_view id;
    std::string_view secret;
  };
  const Case cases[] = {
      {"id:with:colons", "secret:with:colons"},
      {"100%id", "50%+50%"},
      {"plus+id", "a+b"},
      {"space id", "open sesame"},
      {"amp&id", "a&b=c"},
      {"caf\xC3\xA9", "\xE2\x82\xAC secret"},
      {"pk", "%2B"},
  };
  for (const auto& tc : cases) {
    const std::string header = make_basic_auth(tc.id, tc.secret);
    const auto decoded = base::base64_decode(std::string_view(header).substr(6));
    ASSERT_TRUE(decoded.has_value()) << header;
    // After form-encoding only the separator colon is raw; no raw space, '+', '&' or '=' is left.
    EXPECT_EQ(std::count(decoded->begin(), decoded->end(), ':'), 1) << *decoded;
    EXPECT_EQ(decoded->find_first_of(" +&="), std::string::npos) << *decoded;
    const auto c = parse_basic_auth(header);
    ASSERT_TRUE(c.has_value()) << "id=" << tc.id;
    EXPECT_EQ(c->client_id, tc.id);
    EXPECT_EQ(c->client_secret, tc.secret);
  }
}

TEST(BasicAuth, EncodedIdAndSecretAreFormDecoded) {
  // A client that form-encodes by hand: ':' as %3A, space as '+', '+' as %2B.
  const auto c = parse_basic_auth(basic("my%3Aid:pass+word%2B%25"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->client_id, "my:id");
  EXPECT_EQ(c->client_secret, "pass word+%");
}

TEST(BasicAuth, SplitsOnFirstColon) {
  // A raw colon can only be in the secret: the id ends at the first colon.
  const auto c = parse_basic_auth(basic("id:sec:ret"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->client_id, "id");
  EXPECT_EQ(c->client_secret, "sec:ret");
}

TEST(BasicAuth, SchemeIsCaseInsensitive) {
  const std::string credentials = base::base64_encode("id:secret");
  for (std::string_view scheme : {"Basic", "basic", "BASIC", "bAsIc"}) {
    const std::string header = std::string(scheme) + " " + credentials;
    EXPECT_TRUE(is_basic_scheme(header)) << header;
    const auto c = parse_basic_auth(header);
    ASSERT_TRUE(c.has_value()) << header;
    EXPECT_EQ(c->client_id, "id");
    EXPECT_EQ(c->client_secret, "secret");
  }
}

TEST(BasicAuth, MissingColonIsRejected) {
  EXPECT_FALSE(parse_basic_auth(basic("idsecret")).has_value());
  EXPECT_FALSE(parse_basic_auth(basic("")).has_value());
  EXPECT_FALSE(parse_basic_auth("Basic").has_value());
  EXPECT_FALSE(parse_basic_auth("Basic ").has_value());
  // An encoded colon does not separate.
  EXPECT_FALSE(parse_basic_auth(basic("id%3Asecret")).has_value());
}

TEST(BasicAuth, BadBase64IsRejected) {
  EXPECT_FALSE(parse_basic_auth("Basic !!!!").has_value());
  EXPECT_FALSE(parse_basic_auth("Basic aWQ6c2VjcmV0=").has_value());     // wrong padding
  EXPECT_FALSE(parse_basic_auth("Basic aWQ6c2VjcmV").has_value());       // missing padding / truncated
  EXPECT_FALSE(parse_basic_auth("Basic aWQ6c2Vj cmV0").has_value());     // space inside
  EXPECT_FALSE(parse_basic_auth("Basic aWQ6c2VjcmV0-_-_").has_value());  // url alphabet
  EXPECT_FALSE(parse_basic_auth("Basic " + base::base64url_encode("id:s\xFB\xFF")).has_value());
}

TEST(BasicAuth, BadFormEncodingInsideIsRejected) {
  EXPECT_FALSE(parse_basic_auth(basic("id%zz:secret")).has_value());
  EXPECT_FALSE(parse_basic_auth(basic("id:secret%2")).has_value());
}

TEST(BasicAuth, OtherSchemesAreNotBasic) {
  EXPECT_FALSE(is_basic_scheme("Bearer x"));
  EXPECT_FALSE(parse_basic_auth("Bearer x").has_value());
  EXPECT_FALSE(is_basic_scheme("Bearer " + base::base64_encode("id:secret")));
  EXPECT_FALSE(parse_basic_auth("Bearer " + base::base64_encode("id:secret")).has_value());
  EXPECT_FALSE(is_basic_scheme("Digest username=x"));
  EXPECT_FALSE(is_basic_scheme(""));
  EXPECT_FALSE(is_basic_scheme("Bas"));
  EXPECT_FALSE(is_basic_scheme("Basicx " + base::base64_encode("id:secret")));
  EXPECT_FALSE(parse_basic_auth("Basicx " + base::base64_encode("id:secret")).has_value());
  EXPECT_FALSE(parse_basic_auth(base::base64_encode("id:secret")).has_value());  // no scheme at all
}

TEST(BasicAuth, SchemeDetectedEvenWhenMalformed) {
  // "well formed or not"
  EXPECT_TRUE(is_basic_scheme("Basic !!!!"));
  EXPECT_TRUE(is_basic_scheme("Basic"));
  EXPECT_TRUE(is_basic_scheme("basic garbage"));
}

TEST(BasicAuth, EmptyIdIsRejected) {
  EXPECT_FALSE(parse_basic_auth(basic(":secret")).has_value());
  EXPECT_FALSE(parse_basic_auth(make_basic_auth("", "secret")).has_value());
  EXPECT_FALSE(parse_basic_auth(basic(":")).has_value());
}

TEST(BasicAuth, EmptySecretIsAccepted) {
  // basic_auth.hpp documents no rule for an empty secret: only "split on the first ':'" then form-decode.
  // RFC 7617 allows an empty password, so "id:" is well formed and yields an empty secret (an empty secret
  // is then an authentication failure, invalid_client, not a malformed header).
  const auto c = parse_basic_auth(basic("id:"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->client_id, "id");
  EXPECT_EQ(c->client_secret, "");
  const auto m = parse_basic_auth(make_basic_auth("id", ""));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->client_secret, "");
}

}  // namespace
}  // namespace boltauth::protocol
