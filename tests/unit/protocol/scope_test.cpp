#include "protocol/scope.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "protocol/form.hpp"

namespace boltauth::protocol {
namespace {

const ScopeSet kManageOpenid{ScopeToken::bolt_account_manage, ScopeToken::openid};

ScopeSet parse_ok(std::string_view value) {
  const auto r = parse_scope(value);
  EXPECT_TRUE(r.scope.has_value()) << "value=\"" << value << "\"";
  return r.scope.value_or(ScopeSet{});
}

void expect_error(std::string_view value, ScopeError expected) {
  const auto r = parse_scope(value);
  EXPECT_FALSE(r.scope.has_value()) << "value=\"" << value << "\" parsed as \""
                                    << (r.scope ? r.scope->to_string() : std::string()) << "\"";
  EXPECT_EQ(r.error, expected) << "value=\"" << value << "\"";
}

// The decoded form value, as the token endpoint sees it.
std::string decoded_scope(std::string_view body) {
  const auto r = parse_form(body, 16);
  EXPECT_TRUE(r.params.has_value()) << body;
  if (!r.params) return {};
  return std::string(r.params->get("scope").value_or(""));
}

TEST(Scope, EveryContractEncodingGivesTheSameSet) {
  // Contract section 3: all of these MUST parse to {bolt.account.manage, openid}.
  const std::string bodies[] = {
      "scope=bolt.account.manage+openid",                      // space, as '+'
      "scope=bolt.account.manage%20openid",                    // space, as %20
      "scope=bolt.account.manage%2Bopenid",                    // a literal plus (Bolt's guide)
      R"(scope=["bolt.account.manage","openid"])",             // raw JSON array (v3 TypeScript SDK)
      "scope=%5B%22bolt.account.manage%22%2C%22openid%22%5D",  // the same array, encoded
      "scope=openid+bolt.account.manage",                      // reversed
      "scope=openid%2Bbolt.account.manage",                    // reversed literal plus
      R"(scope=["openid","bolt.account.manage"])",             // reversed array
  };
  for (const auto& body : bodies) {
    const auto value = decoded_scope(body);
    const auto r = parse_scope(value);
    ASSERT_TRUE(r.scope.has_value()) << body << " -> \"" << value << "\"";
    EXPECT_EQ(*r.scope, kManageOpenid) << body;
    EXPECT_EQ(r.scope->to_string(), "bolt.account.manage openid") << body;
  }
}

TEST(Scope, DecodedValuesDirectly) {
  EXPECT_EQ(parse_ok("bolt.account.manage openid"), kManageOpenid);
  EXPECT_EQ(parse_ok("bolt.account.manage+openid"), kManageOpenid);
  EXPECT_EQ(parse_ok(R"(["bolt.account.manage","openid"])"), kManageOpenid);
  EXPECT_EQ(parse_ok(R"([ "bolt.account.manage" , "openid" ])"), kManageOpenid);
  EXPECT_EQ(parse_ok("openid bolt.account.manage"), kManageOpenid);
}

TEST(Scope, SingleToken) {
  const auto s = parse_ok("bolt.account.view");
  EXPECT_EQ(s, ScopeSet{ScopeToken::bolt_account_view});
  EXPECT_TRUE(s.has(ScopeToken::bolt_account_view));
  EXPECT_FALSE(s.has(ScopeToken::bolt_account_manage));
  EXPECT_FALSE(s.has(ScopeToken::openid));
  EXPECT_FALSE(s.has(ScopeToken::email));
  EXPECT_EQ(parse_ok("email"), ScopeSet{ScopeToken::email});
  EXPECT_EQ(parse_ok("openid"), ScopeSet{ScopeToken::openid});
  EXPECT_EQ(parse_ok(R"(["bolt.account.view"])"), ScopeSet{ScopeToken::bolt_account_view});
}

TEST(Scope, AllFourKnownScopes) {
  const auto s = parse_ok("email openid bolt.account.view bolt.account.manage");
  EXPECT_EQ(s.to_string(), "bolt.account.manage bolt.account.view openid email");
  EXPECT_EQ(s.bits(), 15);
}

TEST(Scope, UnknownScope) {
  expect_error("bolt.account.delete", ScopeError::unknown);
  expect_error("openid profile", ScopeError::unknown);
  expect_error("profile+openid", ScopeError::unknown);
  expect_error("OPENID", ScopeError::unknown);  // scope tokens are case-sensitive
  expect_error("open_id", ScopeError::unknown);
  expect_error("bolt.account", ScopeError::unknown);
  expect_error(R"(["bolt.account.manage","profile"])", ScopeError::unknown);
  expect_error(R"(["nope"])", ScopeError::unknown);
}

TEST(Scope, MalformedEmptyOrSeparatorsOnly) {
  expect_error("", ScopeError::malformed);
  expect_error(" ", ScopeError::malformed);
  expect_error("+", ScopeError::malformed);
  expect_error(" + ", ScopeError::malformed);
}

TEST(Scope, MalformedJson) {
  expect_error("[", ScopeError::malformed);
  expect_error("[]", ScopeError::malformed);
  expect_error("[1]", ScopeError::malformed);
  expect_error(R"(["openid",1])", ScopeError::malformed);
  expect_error(R"(["openid",null])", ScopeError::malformed);
  expect_error(R"(["openid",["email"]])", ScopeError::malformed);
  expect_error(R"(["openid"])"
               "x",
               ScopeError::malformed);
  expect_error(R"(["openid")", ScopeError::malformed);
  expect_error(R"([openid])", ScopeError::malformed);
}

TEST(Scope, MalformedJsonWithUnknownStringBeforeNonString) {
  // `["a",1]` is not an array of strings: malformed, even though "a" (unknown) comes first.
  expect_error(R"(["a",1])", ScopeError::malformed);
}

TEST(Scope, MalformedTokenCharacters) {
  // scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 appendix A.4)
  expect_error("open\"id", ScopeError::malformed);
  expect_error("openid \"email\"", ScopeError::malformed);
  expect_error("open\\id", ScopeError::malformed);
  expect_error("openid\temail", ScopeError::malformed);
  expect_error("openid\nemail", ScopeError::malformed);
  expect_error(std::string_view("openid\0", 7), ScopeError::malformed);
  expect_error("openid\x7F", ScopeError::malformed);
  expect_error("openid\x01", ScopeError::malformed);
  expect_error("caf\xC3\xA9", ScopeError::malformed);  // non-ASCII
}

TEST(Scope, ToStringCanonicalOrder) {
  ScopeSet s;
  EXPECT_EQ(s.to_string(), "");
  s.add(ScopeToken::email);
  s.add(ScopeToken::openid);
  s.add(ScopeToken::bolt_account_view);
  s.add(ScopeToken::bolt_account_manage);
  EXPECT_EQ(s.to_string(), "bolt.account.manage bolt.account.view openid email");
  EXPECT_EQ((ScopeSet{ScopeToken::email, ScopeToken::bolt_account_manage}).to_string(), "bolt.account.manage email");
  EXPECT_EQ((ScopeSet{ScopeToken::openid, ScopeToken::bolt_account_view}).to_string(), "bolt.account.view openid");
  // to_string output parses back to the same set.
  for (std::uint8_t bits = 1; bits < 16; ++bits) {
    const ScopeSet set(bits);
    EXPECT_EQ(parse_ok(set.to_string()), set) << set.to_string();
  }
}

TEST(Scope, SubsetOf) {
  const ScopeSet view{ScopeToken::bolt_account_view};
  const ScopeSet manage_openid = kManageOpenid;
  const ScopeSet all{ScopeToken::bolt_account_manage, ScopeToken::bolt_account_view, ScopeToken::openid,
                     ScopeToken::email};
  EXPECT_TRUE(ScopeSet{}.subset_of(view));
  EXPECT_TRUE(ScopeSet{}.subset_of(ScopeSet{}));
  EXPECT_TRUE(view.subset_of(view));
  EXPECT_TRUE(view.subset_of(all));
  EXPECT_TRUE(manage_openid.subset_of(all));
  EXPECT_FALSE(view.subset_of(manage_openid));
  EXPECT_FALSE(manage_openid.subset_of(view));
  EXPECT_FALSE(all.subset_of(manage_openid));
  EXPECT_FALSE(view.subset_of(ScopeSet{}));
  EXPECT_TRUE(ScopeSet{ScopeToken::openid}.subset_of(manage_openid));
  EXPECT_FALSE((ScopeSet{ScopeToken::openid, ScopeToken::email}).subset_of(manage_openid));
}

TEST(Scope, DuplicateTokensCollapse) {
  EXPECT_EQ(parse_ok("openid openid"), ScopeSet{ScopeToken::openid});
  EXPECT_EQ(parse_ok("openid+openid bolt.account.manage"), kManageOpenid);
  EXPECT_EQ(parse_ok(R"(["openid","openid","bolt.account.manage"])"), kManageOpenid);
  EXPECT_EQ(parse_ok("openid openid").to_string(), "openid");
}

}  // namespace
}  // namespace boltauth::protocol
