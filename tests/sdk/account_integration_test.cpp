// The SDK's account calls against a real boltauth server on a loopback port (libcurl transport, real HTTP): the
// profile, the address book (add, edit, replace, delete, Idempotency-Key replays), refusals as typed errors, and
// account detection.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "boltauth/boltauth.hpp"
#include "support/test_server.hpp"

namespace boltauth {
namespace {

using testing::TestServer;

// The machine may have a proxy configured; loopback traffic must not go through it.
const bool kNoProxy = [] {
  setenv("no_proxy", "*", 1);
  setenv("NO_PROXY", "*", 1);
  return true;
}();

BoltOptions options_for(TestServer& server) {
  BoltOptions o;
  o.server_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.retry_config.strategy = RetryConfig::Strategy::none;
  return o;
}

models::AddressInput home() {
  models::AddressInput a;
  a.first_name = "Ada";
  a.last_name = "Lovelace";
  a.street_address1 = "888 main street";
  a.street_address2 = "apt 3021";
  a.locality = "Brooklyn";
  a.region = "NY";
  a.postal_code = "10044";
  a.country_code = "US";
  a.email = "ada@example.com";
  a.phone = "+15555550100";
  return a;
}

models::AddressInput office() {
  models::AddressInput a = home();
  a.street_address1 = "535 Mission St";
  a.street_address2.reset();
  a.locality = "San Francisco";
  a.region = "CA";
  a.postal_code = "94105";
  a.company = "Bolt";
  return a;
}

// The ErrorsBoltApiResponse a call answers, or fails the test.
template <class T>
errors::ErrorsBoltApiResponse bolt_error(AccountResult<T> result) {
  if (auto* e = std::get_if<errors::ErrorsBoltApiResponse>(&result)) return *e;
  if (auto* e = std::get_if<errors::APIError>(&result)) {
    ADD_FAILURE() << "expected ErrorsBoltApiResponse, got APIError " << e->status_code() << ": " << e->body();
  } else {
    ADD_FAILURE() << "expected ErrorsBoltApiResponse, got a success";
  }
  return errors::ErrorsBoltApiResponse({}, 0, {});
}

class SdkAccountIntegration : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();
  Bolt bolt{options_for(server)};
  std::string shopper_email;  // of the last shopper token() made

  // An access token of a fresh sandbox shopper with `scope`.
  std::string token(const std::string& scope = "bolt.account.manage") {
    const auto shopper = server.create_shopper(client);
    shopper_email = std::string(shopper.at("email").as_string());
    auto res = server.exchange(client, std::string(shopper.at("oauth_code").as_string()), scope);
    EXPECT_EQ(res.status, 200) << res.body;
    return std::string(res.json().as_object().at("access_token").as_string());
  }
  const Account& account() const { return bolt.account(); }
};

TEST_F(SdkAccountIntegration, GetAccount) {
  for (const char* scope : {"bolt.account.manage", "bolt.account.view"}) {
    const auto details = account().get_account(token(scope));
    EXPECT_TRUE(details.has_bolt_account);
    EXPECT_EQ(details.profile.first_name, "Test");
    EXPECT_EQ(details.profile.last_name, "Shopper");
    EXPECT_EQ(details.profile.email, shopper_email);
    EXPECT_EQ(details.profile.name, "Test Shopper");
    EXPECT_TRUE(details.profile.phone.has_value()) << "sandbox shoppers have a verified phone";
    EXPECT_TRUE(details.addresses.empty());
    EXPECT_TRUE(details.payment_methods.empty());
  }
}

TEST_F(SdkAccountIntegration, BadTokenIs401) {
  const auto e = bolt_error(account().get_account_result("not-a-token"));
  EXPECT_EQ(e.status_code(), 401);
  ASSERT_FALSE(e.errors().empty());
  bool bearer = false;
  for (const auto& [name, value] : e.headers())
    bearer = bearer || (name == "www-authenticate" && value.find("Bearer") == 0);
  EXPECT_TRUE(bearer);
}

TEST_F(SdkAccountIntegration, UpdateAccountProfile) {
  const std::string at = token();
  models::UpdateProfile change;
  change.first_name = "Ada";
  const auto profile = account().update_account_profile(at, change);
  EXPECT_EQ(profile.first_name, "Ada");
  EXPECT_EQ(profile.last_name, "Shopper") << "an absent name is left alone";
  EXPECT_EQ(profile.email, shopper_email);
  EXPECT_EQ(account().get_account(at).profile.first_name, "Ada");
  EXPECT_EQ(bolt_error(account().update_account_profile_result(token("bolt.account.view"), change)).status_code(), 403);
}

TEST_F(SdkAccountIntegration, AddressBook) {
  const std::string at = token();
  const auto first = account().add_address(at, home());
  EXPECT_FALSE(first.id.empty());
  EXPECT_TRUE(first.default_) << "the first address of a book is its default";
  EXPECT_EQ(first.street_address1, "888 main street");
  EXPECT_EQ(first.street_address2, "apt 3021");
  EXPECT_EQ(first.email_address, "ada@example.com");
  EXPECT_EQ(first.phone_number, "+15555550100");
  EXPECT_EQ(first.country_code, "US");

  const auto second = account().add_address(at, office());
  EXPECT_NE(second.id, first.id);
  EXPECT_FALSE(second.default_);
  EXPECT_EQ(second.company, "Bolt");

  // Edit: same id, new fields.
  auto moved = office();
  moved.street_address1 = "1 Market St";
  const auto edited = account().edit_address(at, second.id, moved);
  EXPECT_EQ(edited.id, second.id);
  EXPECT_EQ(edited.street_address1, "1 Market St");

  // Replace: a new id; the old one is gone; the default follows.
  const auto replaced = account().replace_address(at, first.id, home());
  EXPECT_NE(replaced.id, first.id);
  EXPECT_TRUE(replaced.default_);
  EXPECT_EQ(bolt_error(account().edit_address_result(at, first.id, home())).status_code(), 404);

  auto details = account().get_account(at);
  ASSERT_EQ(details.addresses.size(), 2u);
  std::vector<std::string> ids;
  for (const auto& a : details.addresses) ids.push_back(a.id);
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> expected{second.id, replaced.id};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ids, expected);
  for (const auto& a : details.addresses) {
    if (a.id == second.id) {
      EXPECT_EQ(a.street_address1, "1 Market St");
    }
    if (a.id == replaced.id) {
      EXPECT_TRUE(a.default_);
    }
  }

  account().delete_address(at, second.id);
  details = account().get_account(at);
  ASSERT_EQ(details.addresses.size(), 1u);
  EXPECT_EQ(details.addresses[0].id, replaced.id);
  EXPECT_EQ(bolt_error(account().delete_address_result(at, second.id)).status_code(), 404);
}

TEST_F(SdkAccountIntegration, ViewTokenCannotWrite) {
  try {
    account().add_address(token("bolt.account.view"), home());
    ADD_FAILURE() << "a view token added an address";
  } catch (const errors::ErrorsBoltApiResponse& e) {
    EXPECT_EQ(e.status_code(), 403);
    EXPECT_FALSE(e.errors().empty());
  }
}

TEST_F(SdkAccountIntegration, UnknownAddressIs404) {
  const std::string at = token();
  for (auto result : {bolt_error(account().edit_address_result(at, "no-such-id", home())),
                      bolt_error(account().replace_address_result(at, "no-such-id", home())),
                      bolt_error(account().delete_address_result(at, "no-such-id"))}) {
    EXPECT_EQ(result.status_code(), 404);
  }
  EXPECT_THROW(account().delete_address(at, "no-such-id"), errors::ErrorsBoltApiResponse);
}

TEST_F(SdkAccountIntegration, InvalidCountryCodeIs400NamingTheField) {
  auto bad = home();
  bad.country_code = "USA";
  const auto e = bolt_error(account().add_address_result(token(), bad));
  EXPECT_EQ(e.status_code(), 400);
  ASSERT_FALSE(e.errors().empty());
  EXPECT_NE(e.errors()[0].message.find("country_code"), std::string::npos) << e.errors()[0].message;
}

TEST_F(SdkAccountIntegration, IdempotencyKeyReplaysTheFirstAnswer) {
  const std::string at = token();
  const auto first = account().add_address(at, home(), std::string("add-home-1"));
  const auto again = account().add_address(at, home(), std::string("add-home-1"));
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(account().get_account(at).addresses.size(), 1u) << "the repeat wrote nothing";
  // The same key with another body is refused.
  EXPECT_EQ(bolt_error(account().add_address_result(at, office(), std::string("add-home-1"))).status_code(), 422);
}

TEST_F(SdkAccountIntegration, DetectAccount) {
  token();  // makes a shopper (shopper_email)
  const std::string pk = client.client.publishable_key;
  models::DetectAccountQuery known;
  known.email = shopper_email;
  EXPECT_TRUE(account().detect_account(pk, known).has_bolt_account);
  models::DetectAccountQuery unknown;
  unknown.email = "nobody+" + std::to_string(server.port()) + "@example.com";
  EXPECT_FALSE(account().detect_account(pk, unknown).has_bolt_account);
  EXPECT_EQ(bolt_error(account().detect_account_result("pk_unknown.publishable.key", known)).status_code(), 401);
  EXPECT_EQ(bolt_error(account().detect_account_result(pk, {})).status_code(), 422) << "no identifier";
}

}  // namespace
}  // namespace boltauth
