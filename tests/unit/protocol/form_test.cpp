#include "protocol/form.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace boltauth::protocol {
namespace {

constexpr std::size_t kMax = 64;

FormParams parse_ok(std::string_view body, std::size_t max_params = kMax) {
  auto r = parse_form(body, max_params);
  EXPECT_TRUE(r.params.has_value()) << "body=\"" << body << "\" debug=" << r.debug;
  return r.params.value_or(FormParams{});
}

void expect_error(std::string_view body, FormError expected, std::size_t max_params = kMax) {
  const auto r = parse_form(body, max_params);
  EXPECT_FALSE(r.params.has_value()) << "body=\"" << body << "\"";
  EXPECT_EQ(r.error, expected) << "body=\"" << body << "\"";
}

TEST(Form, ParsesSimplePairs) {
  const auto p = parse_ok("grant_type=authorization_code&code=abc&client_id=pk_1");
  ASSERT_EQ(p.items().size(), 3U);
  EXPECT_EQ(p.items()[0].first, "grant_type");
  EXPECT_EQ(p.items()[0].second, "authorization_code");
  EXPECT_EQ(p.get("grant_type"), "authorization_code");
  EXPECT_EQ(p.get("code"), "abc");
  EXPECT_EQ(p.get("client_id"), "pk_1");
  EXPECT_FALSE(p.get("client_secret").has_value());
  EXPECT_FALSE(p.has("client_secret"));
  EXPECT_TRUE(p.has("code"));
}

TEST(Form, EmptyBodyHasNoParams) {
  const auto p = parse_ok("");
  EXPECT_TRUE(p.items().empty());
}

TEST(Form, PlusDecodesToSpace) {
  const auto p = parse_ok("scope=bolt.account.manage+openid");
  EXPECT_EQ(p.get("scope"), "bolt.account.manage openid");
  const auto q = parse_ok("a+b=c+d");
  EXPECT_EQ(q.get("a b"), "c d");
}

TEST(Form, PercentTwoBDecodesToPlus) {
  const auto p = parse_ok("scope=bolt.account.manage%2Bopenid");
  EXPECT_EQ(p.get("scope"), "bolt.account.manage+openid");
  const auto q = parse_ok("scope=bolt.account.manage%2bopenid");
  EXPECT_EQ(q.get("scope"), "bolt.account.manage+openid");
}

TEST(Form, PercentTwentyDecodesToSpace) {
  const auto p = parse_ok("scope=bolt.account.manage%20openid");
  EXPECT_EQ(p.get("scope"), "bolt.account.manage openid");
}

TEST(Form, PercentEscapesUpperAndLowerHex) {
  EXPECT_EQ(form_decode("%2F%2f"), "//");
  EXPECT_EQ(form_decode("%3A%3a"), "::");
  EXPECT_EQ(form_decode("%41%61"), "Aa");
  EXPECT_EQ(form_decode("%Ff%fF%FF%ff"), "\xFF\xFF\xFF\xFF");
  EXPECT_EQ(form_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(form_decode("%e2%82%ac"), "\xE2\x82\xAC");
  EXPECT_EQ(form_decode("%25"), "%");
  EXPECT_EQ(form_decode("%2525"), "%25");  // decoded once only
  const auto p = parse_ok("k%65y=v%61l");
  EXPECT_EQ(p.get("key"), "val");
}

TEST(Form, BadEscapeIsMalformed) {
  expect_error("a=%2", FormError::malformed);
  expect_error("a=%zz", FormError::malformed);
  expect_error("a=%", FormError::malformed);
  expect_error("a=%g0", FormError::malformed);
  expect_error("a=%0g", FormError::malformed);
  expect_error("a=%%41", FormError::malformed);
  expect_error("a=%2&b=1", FormError::malformed);  // truncated escape before '&'
  expect_error("%2=1", FormError::malformed);      // in the key too
  expect_error("a=1&b=%zz", FormError::malformed);
  EXPECT_FALSE(form_decode("%2").has_value());
  EXPECT_FALSE(form_decode("%zz").has_value());
  EXPECT_FALSE(form_decode("abc%").has_value());
  EXPECT_FALSE(form_decode("%-1").has_value());
  EXPECT_FALSE(form_decode("% 1").has_value());
}

TEST(Form, DuplicateKeyRejected) {
  expect_error("a=1&a=2", FormError::duplicate);
  expect_error("a=1&a=1", FormError::duplicate);
  expect_error("a=&a=1", FormError::duplicate);
  expect_error("a=1&a=", FormError::duplicate);
  expect_error("a&a", FormError::duplicate);
  expect_error("scope=x&scope=y", FormError::duplicate);
  expect_error("grant_type=authorization_code&code=1&scope=x&client_id=c&scope=y", FormError::duplicate);
  // The comparison is on decoded names.
  expect_error("a=1&%61=2", FormError::duplicate);
  expect_error("a+b=1&a%20b=2", FormError::duplicate);
}

TEST(Form, DuplicateReportsDebugName) {
  const auto r = parse_form("scope=x&scope=y", kMax);
  ASSERT_FALSE(r.params.has_value());
  EXPECT_NE(r.debug.find("scope"), std::string::npos) << r.debug;
}

TEST(Form, EmptyValueIsAbsentButKeyIsKept) {
  const auto p = parse_ok("a=&b=2");
  EXPECT_FALSE(p.get("a").has_value());
  EXPECT_FALSE(p.has("a"));
  EXPECT_EQ(p.get("b"), "2");
  ASSERT_EQ(p.items().size(), 2U);
  EXPECT_EQ(p.items()[0].first, "a");
  EXPECT_EQ(p.items()[0].second, "");
}

TEST(Form, EmptyPairsAreSkipped) {
  const auto p = parse_ok("a=1&&b=2");
  EXPECT_EQ(p.get("a"), "1");
  EXPECT_EQ(p.get("b"), "2");
  EXPECT_EQ(p.items().size(), 2U);
  EXPECT_EQ(parse_ok("&a=1").items().size(), 1U);
  EXPECT_EQ(parse_ok("a=1&").items().size(), 1U);
  EXPECT_EQ(parse_ok("&&&").items().size(), 0U);
  // Empty pairs do not count towards the limit.
  EXPECT_EQ(parse_ok("a=1&&&&b=2", 2).items().size(), 2U);
}

TEST(Form, KeyWithoutEqualsHasEmptyValue) {
  const auto p = parse_ok("flag&b=2");
  ASSERT_EQ(p.items().size(), 2U);
  EXPECT_EQ(p.items()[0].first, "flag");
  EXPECT_EQ(p.items()[0].second, "");
  EXPECT_FALSE(p.has("flag"));
  EXPECT_EQ(p.get("b"), "2");
}

TEST(Form, OnlyFirstEqualsSplits) {
  const auto p = parse_ok("a=b=c&d==");
  EXPECT_EQ(p.get("a"), "b=c");
  EXPECT_EQ(p.get("d"), "=");
}

TEST(Form, MaxParamsHonouredExactly) {
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{32}}) {
    std::string body;
    for (std::size_t i = 0; i < n; ++i) {
      if (!body.empty()) body.push_back('&');
      body += "k" + std::to_string(i) + "=v";
    }
    const auto ok = parse_form(body, n);
    ASSERT_TRUE(ok.params.has_value()) << "n=" << n;
    EXPECT_EQ(ok.params->items().size(), n);
    const std::string over = body + "&extra=1";
    expect_error(over, FormError::too_many, n);
    // Even when the extra pair is valueless.
    expect_error(body + "&extra", FormError::too_many, n);
  }
  expect_error("a=1", FormError::too_many, 0);
  EXPECT_TRUE(parse_form("", 0).params.has_value());
}

TEST(Form, RawJsonArrayValueSurvives) {
  const auto p = parse_ok(R"(grant_type=authorization_code&scope=["bolt.account.manage","openid"]&code=x)");
  EXPECT_EQ(p.get("scope"), R"(["bolt.account.manage","openid"])");
  EXPECT_EQ(p.get("code"), "x");
  // And percent-encoded brackets/quotes decode to the same text.
  const auto q = parse_ok("scope=%5B%22bolt.account.manage%22%2C%22openid%22%5D");
  EXPECT_EQ(q.get("scope"), R"(["bolt.account.manage","openid"])");
}

TEST(Form, EncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(form_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(form_encode(" "), "%20");
  EXPECT_EQ(form_encode("+"), "%2B");
  EXPECT_EQ(form_encode("%"), "%25");
  EXPECT_EQ(form_encode("&="), "%26%3D");
  EXPECT_EQ(form_encode(":/?#[]@!$'()*,;"), "%3A%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B");
  EXPECT_EQ(form_encode("\xE2\x82\xAC"), "%E2%82%AC");
  EXPECT_EQ(form_encode(std::string(1, '\0')), "%00");
  EXPECT_EQ(form_encode(""), "");
}

TEST(Form, EncodeDecodeRoundTrip) {
  const std::string samples[] = {
      "",
      "plain",
      "with space",
      "a+b",
      "100%",
      "%2B",
      "a&b=c",
      "==&&",
      "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91",
      R"(["bolt.account.manage","openid"])",
      "line\r\nbreak\ttab",
      std::string("nul\0byte", 8),
  };
  for (const auto& s : samples) {
    const auto back = form_decode(form_encode(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string encoded = form_encode(all);
  EXPECT_EQ(encoded.find_first_of("+& ="), std::string::npos);
  const auto back = form_decode(encoded);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, all);
}

TEST(Form, EncodedValuesSurviveParseForm) {
  const std::string tricky = "a b+c%d&e=f\xC3\xA9";
  const std::string body = "k=" + form_encode(tricky) + "&" + form_encode("k&=2") + "=x";
  const auto p = parse_ok(body);
  EXPECT_EQ(p.get("k"), tricky);
  EXPECT_EQ(p.get("k&=2"), "x");
}

}  // namespace
}  // namespace boltauth::protocol
