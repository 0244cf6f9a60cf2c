// Account over a scripted transport: what each call sends, how each model parses, how each kind of answer maps to a
// result or exception, and which failures are retried.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "boltauth/boltauth.hpp"
#include "fake_transport.hpp"

namespace boltauth {
namespace {

namespace json = boost::json;
using sdktest::connection_error;
using sdktest::FakeTransport;
using sdktest::header_of;
using sdktest::respond;

constexpr const char* kAddress =
    R"({"id":"addr_1","default":true,"first_name":"Ada","last_name":"Lovelace","street_address1":"12 St James's Sq",)"
    R"("locality":"London","region":"Greater London","postal_code":"SW1Y 4JH","country_code":"GB",)"
    R"("email_address":"ada@example.com","phone_number":"+442071234567","company":"Analytical Engines",)"
    R"("street_address2":"Flat 1","street_address3":null,"region_code":"GB-LND","country":"United Kingdom",)"
    R"("name":"Ada Lovelace","door_code":"1843","metadata":{"k":"v"}})";

constexpr const char* kProfile =
    R"({"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","phone":"+442071234567",)"
    R"("name":"Ada Lovelace"})";

std::string account_body() {
  return std::string(R"({"has_bolt_account":true,"profile":)") + kProfile + R"(,"addresses":[)" + kAddress +
         R"(],"payment_methods":[{"id":"pm_1","type":"card","last4":"4021"}]})";
}

std::string bolt_error(int code, const std::string& message) {
  return R"({"errors":[{"code":)" + std::to_string(code) + R"(,"message":")" + message +
         R"("}],"result":{"success":false}})";
}

struct Fixture {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::unique_ptr<Bolt> bolt;
  explicit Fixture(BoltOptions o = {}) {
    o.transport = transport;
    o.retry_config.strategy = RetryConfig::Strategy::none;
    bolt = std::make_unique<Bolt>(std::move(o));
  }
  const Account& account() const { return bolt->account(); }
  HttpRequest only_request() const {
    auto requests = transport->requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? HttpRequest{} : requests.front();
  }
};

BoltOptions full_options() {
  BoltOptions o;
  o.server_url = "https://api-sandbox.bolt.com/";
  o.x_api_key = "api-key";
  o.extra_headers = {{"X-Bolt-Source-Name", "cpp-test"}};
  o.timeout = std::chrono::milliseconds(1234);
  return o;
}

models::AddressInput address_input() {
  models::AddressInput a;
  a.first_name = "Ada";
  a.last_name = "Lovelace";
  a.street_address1 = "12 St James's Sq";
  a.locality = "London";
  a.region = "Greater London";
  a.postal_code = "SW1Y 4JH";
  a.country_code = "GB";
  a.email = "ada@example.com";
  return a;
}

bool has_header(const HttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return true;
  return false;
}

// The headers every account call sends with full_options().
void expect_common_headers(const HttpRequest& r) {
  EXPECT_EQ(header_of(r, "Accept"), "application/json");
  EXPECT_EQ(header_of(r, "User-Agent").rfind("boltauth-cpp/", 0), 0u);
  EXPECT_EQ(header_of(r, "X-API-Key"), "api-key");
  EXPECT_EQ(header_of(r, "X-Bolt-Source-Name"), "cpp-test");
  EXPECT_EQ(r.timeout, std::chrono::milliseconds(1234));
}

// ---- what is sent --------------------------------------------------------------------------------------------

TEST(AccountClient, GetAccountSendsTheBearerToken) {
  Fixture f(full_options());
  f.transport->script.push_back(respond(200, account_body(), "application/json; charset=utf-8"));
  const auto details = f.account().get_account("at 1");
  EXPECT_TRUE(details.has_bolt_account);
  const HttpRequest r = f.only_request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://api-sandbox.bolt.com/v1/account");
  EXPECT_EQ(header_of(r, "Authorization"), "Bearer at 1");
  expect_common_headers(r);
  EXPECT_FALSE(has_header(r, "Content-Type")) << "no body, no content type";
  EXPECT_FALSE(has_header(r, "Idempotency-Key"));
  EXPECT_FALSE(has_header(r, "X-Publishable-Key"));
  EXPECT_TRUE(r.body.empty());
}

TEST(AccountClient, NoApiKeyHeaderWithoutOne) {
  Fixture f;
  f.transport->script.push_back(respond(200, account_body()));
  f.account().get_account("at");
  EXPECT_FALSE(has_header(f.only_request(), "X-API-Key"));
}

TEST(AccountClient, UpdateProfileSendsOnlyTheSetNames) {
  Fixture f(full_options());
  f.transport->script.push_back(respond(200, kProfile));
  f.transport->script.push_back(respond(200, kProfile));
  models::UpdateProfile change;
  change.first_name = "Ada";
  const auto profile = f.account().update_account_profile("at", change);
  EXPECT_EQ(profile.first_name, "Ada");
  change.last_name = "King";
  f.account().update_account_profile("at", change, std::string("key-1"));
  const auto requests = f.transport->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PATCH");
  EXPECT_EQ(requests[0].url, "https://api-sandbox.bolt.com/v1/account/profile");
  EXPECT_EQ(json::parse(requests[0].body), json::parse(R"({"first_name":"Ada"})"));
  EXPECT_EQ(header_of(requests[0], "Content-Type"), "application/json");
  EXPECT_EQ(header_of(requests[0], "Authorization"), "Bearer at");
  EXPECT_FALSE(has_header(requests[0], "Idempotency-Key"));
  expect_common_headers(requests[0]);
  EXPECT_EQ(json::parse(requests[1].body), json::parse(R"({"first_name":"Ada","last_name":"King"})"));
  EXPECT_EQ(header_of(requests[1], "Idempotency-Key"), "key-1");
}

TEST(AccountClient, AddAddressSendsTheAddressJson) {
  Fixture f(full_options());
  f.transport->script.push_back(respond(200, kAddress));
  auto input = address_input();
  input.phone = "+442071234567";
  input.default_ = false;
  const auto view = f.account().add_address("at", input, std::string("add-1"));
  EXPECT_EQ(view.id, "addr_1");
  const HttpRequest r = f.only_request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api-sandbox.bolt.com/v1/account/addresses");
  EXPECT_EQ(header_of(r, "Authorization"), "Bearer at");
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json");
  EXPECT_EQ(header_of(r, "Idempotency-Key"), "add-1");
  expect_common_headers(r);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"first_name":"Ada","last_name":"Lovelace","street_address1":"12 St James's Sq",)"
                        R"("locality":"London","region":"Greater London","postal_code":"SW1Y 4JH",)"
                        R"("country_code":"GB","email":"ada@example.com","phone":"+442071234567","default":false})"));
}

TEST(AccountClient, AddressIdsArePercentEncodedInThePath) {
  Fixture f(full_options());
  for (int i = 0; i < 2; ++i) f.transport->script.push_back(respond(200, kAddress));
  f.transport->script.push_back(respond(200, "", ""));  // deleteAddress: an empty 200, no content type
  const std::string id = "a b/../c?d#e";
  const std::string path = "https://api-sandbox.bolt.com/v1/account/addresses/a%20b%2F%2E%2E%2Fc%3Fd%23e";
  EXPECT_EQ(f.account().edit_address("at", id, address_input()).id, "addr_1");
  EXPECT_EQ(f.account().replace_address("at", id, address_input(), std::string("rep-1")).id, "addr_1");
  f.account().delete_address("at", id);
  const auto requests = f.transport->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[2].method, "DELETE");
  for (const auto& r : requests) {
    EXPECT_EQ(r.url, path);
    EXPECT_EQ(header_of(r, "Authorization"), "Bearer at");
    expect_common_headers(r);
  }
  EXPECT_EQ(json::parse(requests[0].body), json::value(models::to_json(address_input())));
  EXPECT_EQ(header_of(requests[0], "Content-Type"), "application/json");
  EXPECT_FALSE(has_header(requests[0], "Idempotency-Key"));
  EXPECT_EQ(json::parse(requests[1].body), json::value(models::to_json(address_input())));
  EXPECT_EQ(header_of(requests[1], "Idempotency-Key"), "rep-1");
  EXPECT_TRUE(requests[2].body.empty());
  EXPECT_FALSE(has_header(requests[2], "Content-Type"));

  // A dot-segment id must not climb out of the address collection once the URL is normalized.
  f.transport->script.push_back(respond(200, "", ""));
  f.account().delete_address("at", "..");
  EXPECT_EQ(f.transport->requests().back().url, "https://api-sandbox.bolt.com/v1/account/addresses/%2E%2E");
}

TEST(AccountClient, DetectAccountSendsTheQueryAndPublishableKey) {
  Fixture f(full_options());
  for (int i = 0; i < 3; ++i) f.transport->script.push_back(respond(200, R"({"has_bolt_account":true})"));
  models::DetectAccountQuery by_email;
  by_email.email = "ada+shop@example.com";
  EXPECT_TRUE(f.account().detect_account("pk.a.b", by_email).has_bolt_account);
  models::DetectAccountQuery all;
  all.email = "a b&c=d";
  all.phone = "+15551234567";
  all.sha256_email = "abc123";
  f.account().detect_account("pk.a.b", all);
  f.account().detect_account("pk.a.b", {});
  const auto requests = f.transport->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].url, "https://api-sandbox.bolt.com/v1/account/exists?email=ada%2Bshop%40example.com");
  EXPECT_EQ(
      requests[1].url,
      "https://api-sandbox.bolt.com/v1/account/exists?email=a%20b%26c%3Dd&phone=%2B15551234567&sha256_email=abc123");
  EXPECT_EQ(requests[2].url, "https://api-sandbox.bolt.com/v1/account/exists") << "the server refuses it (422)";
  for (const auto& r : requests) {
    EXPECT_EQ(header_of(r, "X-Publishable-Key"), "pk.a.b");
    EXPECT_FALSE(has_header(r, "Authorization")) << "detectAccount is not on behalf of a shopper";
    expect_common_headers(r);
  }
}

// ---- the models ----------------------------------------------------------------------------------------------

TEST(AccountModels, AddressViewParsesEveryField) {
  const auto view = models::address_view_from_json(json::parse(kAddress));
  ASSERT_TRUE(view);
  EXPECT_EQ(view->id, "addr_1");
  EXPECT_TRUE(view->default_);
  EXPECT_EQ(view->first_name, "Ada");
  EXPECT_EQ(view->last_name, "Lovelace");
  EXPECT_EQ(view->street_address1, "12 St James's Sq");
  EXPECT_EQ(view->street_address2, "Flat 1");
  EXPECT_FALSE(view->street_address3.has_value()) << "null is absent";
  EXPECT_FALSE(view->street_address4.has_value());
  EXPECT_EQ(view->locality, "London");
  EXPECT_EQ(view->region, "Greater London");
  EXPECT_EQ(view->region_code, "GB-LND");
  EXPECT_EQ(view->postal_code, "SW1Y 4JH");
  EXPECT_EQ(view->country_code, "GB");
  EXPECT_EQ(view->country, "United Kingdom");
  EXPECT_EQ(view->email_address, "ada@example.com");
  EXPECT_EQ(view->phone_number, "+442071234567");
  EXPECT_EQ(view->company, "Analytical Engines");
  EXPECT_EQ(view->name, "Ada Lovelace");
  EXPECT_EQ(view->door_code, "1843");
  // Round trip through the writer (unknown members such as metadata are dropped).
  EXPECT_EQ(models::address_view_from_json(models::to_json(*view)), view);
}

TEST(AccountModels, AddressViewRefusals) {
  EXPECT_FALSE(models::address_view_from_json(json::parse(R"({"first_name":"Ada"})"))) << "no id";
  EXPECT_FALSE(models::address_view_from_json(json::parse(R"({"id":7})")));
  EXPECT_FALSE(models::address_view_from_json(json::parse(R"({"id":"a","default":"yes"})")));
  EXPECT_FALSE(models::address_view_from_json(json::parse(R"({"id":"a","postal_code":10044})")));
  EXPECT_FALSE(models::address_view_from_json(json::parse(R"(["id"])")));
  const auto minimal = models::address_view_from_json(json::parse(R"({"id":"a"})"));
  ASSERT_TRUE(minimal) << "Bolt's schema requires no other member";
  EXPECT_FALSE(minimal->default_);
  EXPECT_EQ(minimal->first_name, "");
}

TEST(AccountModels, AddressInputSerialisesOnlyWhatIsSet) {
  const json::object minimal = models::to_json(address_input());
  EXPECT_EQ(minimal.size(), 8u);
  for (const char* key :
       {"first_name", "last_name", "street_address1", "locality", "region", "postal_code", "country_code", "email"})
    EXPECT_TRUE(minimal.contains(key)) << key;
  auto full = address_input();
  full.company = "c";
  full.street_address2 = "s2";
  full.street_address3 = "s3";
  full.street_address4 = "s4";
  full.name = "n";
  full.region_code = "rc";
  full.country = "co";
  full.door_code = "dc";
  full.phone = "+1";
  full.default_ = true;
  const json::object o = models::to_json(full);
  EXPECT_EQ(o.size(), 18u);
  EXPECT_EQ(o.at("default"), json::value(true));
  EXPECT_EQ(o.at("phone"), json::value("+1"));
  EXPECT_FALSE(o.contains("phone_number")) << "the request names it phone";
}

TEST(AccountModels, ProfileAndUpdateProfile) {
  const auto p = models::profile_from_json(json::parse(kProfile));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first_name, "Ada");
  EXPECT_EQ(p->last_name, "Lovelace");
  EXPECT_EQ(p->email, "ada@example.com");
  EXPECT_EQ(p->phone, "+442071234567");
  EXPECT_EQ(p->name, "Ada Lovelace");
  EXPECT_EQ(models::profile_from_json(models::to_json(*p)), p);
  const auto no_phone = models::profile_from_json(json::parse(R"({"first_name":"A","last_name":"B","email":"e"})"));
  ASSERT_TRUE(no_phone);
  EXPECT_FALSE(no_phone->phone);
  EXPECT_FALSE(models::profile_from_json(json::parse(R"({"first_name":1})")));
  EXPECT_FALSE(models::profile_from_json(json::parse(R"({"phone":false})")));
  EXPECT_TRUE(models::to_json(models::UpdateProfile{}).empty());
  EXPECT_EQ(json::value(models::to_json(models::UpdateProfile{std::nullopt, "King"})),
            json::parse(R"({"last_name":"King"})"));
}

TEST(AccountModels, AccountDetails) {
  const auto d = models::account_details_from_json(json::parse(account_body()));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->has_bolt_account);
  EXPECT_EQ(d->profile.email, "ada@example.com");
  ASSERT_EQ(d->addresses.size(), 1u);
  EXPECT_EQ(d->addresses[0].id, "addr_1");
  ASSERT_EQ(d->payment_methods.size(), 1u) << "kept as sent";
  EXPECT_EQ(d->payment_methods[0].as_object().at("last4"), json::value("4021"));
  EXPECT_EQ(models::account_details_from_json(models::to_json(*d)), d);

  const auto bare = models::account_details_from_json(json::parse(R"({"has_bolt_account":false})"));
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->addresses.empty());
  EXPECT_TRUE(bare->payment_methods.empty());
  for (const char* bad : {R"({})", R"({"has_bolt_account":"true"})", R"({"has_bolt_account":true,"profile":[]})",
                          R"({"has_bolt_account":true,"addresses":{}})",
                          R"({"has_bolt_account":true,"addresses":[{"first_name":"no id"}]})",
                          R"({"has_bolt_account":true,"payment_methods":"none"})"})
    EXPECT_FALSE(models::account_details_from_json(json::parse(bad))) << bad;
}

TEST(AccountModels, AccountsViewAndErrorBody) {
  EXPECT_EQ(models::accounts_view_from_json(json::parse(R"({"has_bolt_account":false})")), models::AccountsView{false});
  EXPECT_FALSE(models::accounts_view_from_json(json::parse(R"({})"))) << "an answer without the answer";
  EXPECT_FALSE(models::accounts_view_from_json(json::parse(R"({"has_bolt_account":1})")));

  const auto e = models::errors_bolt_api_response_from_json(json::parse(bolt_error(1002, "country_code is bad")));
  ASSERT_TRUE(e);
  ASSERT_EQ(e->errors.size(), 1u);
  EXPECT_EQ(e->errors[0], (models::ErrorBoltApi{1002, "country_code is bad"}));
  EXPECT_EQ(e->success, false);
  EXPECT_EQ(models::errors_bolt_api_response_from_json(models::to_json(*e)), e);
  for (const char* bad : {R"({})", R"({"error":"invalid_grant"})", R"({"errors":"x"})", R"({"errors":[1]})",
                          R"({"errors":[{"code":"1002"}]})", R"({"errors":[],"result":[]})"})
    EXPECT_FALSE(models::errors_bolt_api_response_from_json(json::parse(bad))) << bad;
}

// ---- answers -> results and exceptions -------------------------------------------------------------------------

TEST(AccountClient, EachErrorStatusIsErrorsBoltApiResponse) {
  for (int status : {400, 401, 403, 404, 409, 415, 422, 429}) {
    Fixture f;
    const std::string body = bolt_error(1000 + status, "refused " + std::to_string(status));
    HttpHeaders extra{{"www-authenticate", "Bearer realm=\"boltauth\""}, {"retry-after", "2"}};
    f.transport->script.push_back(respond(status, body, "application/json", extra));
    try {
      f.account().add_address("at", address_input());
      ADD_FAILURE() << "no exception for " << status;
    } catch (const errors::ErrorsBoltApiResponse& e) {
      EXPECT_EQ(e.status_code(), status);
      ASSERT_EQ(e.errors().size(), 1u);
      EXPECT_EQ(e.errors()[0].code, 1000 + status);
      EXPECT_EQ(e.errors()[0].message, "refused " + std::to_string(status));
      EXPECT_EQ(e.body(), body);
      EXPECT_EQ(e.data().success, false);
      bool retry_after = false;
      for (const auto& [k, v] : e.headers()) retry_after = retry_after || (k == "retry-after" && v == "2");
      EXPECT_TRUE(retry_after);
      EXPECT_NE(std::string(e.what()).find(std::to_string(status)), std::string::npos);
    }
  }
}

TEST(AccountClient, EveryCallMapsBoltErrors) {
  Fixture f;
  f.transport->fallback = [](const HttpRequest&) { return respond(404, bolt_error(1004, "No such address.")); };
  const auto& a = f.account();
  EXPECT_THROW(a.get_account("at"), errors::ErrorsBoltApiResponse);
  EXPECT_THROW(a.update_account_profile("at", {}), errors::ErrorsBoltApiResponse);
  EXPECT_THROW(a.add_address("at", address_input()), errors::ErrorsBoltApiResponse);
  EXPECT_THROW(a.edit_address("at", "x", address_input()), errors::ErrorsBoltApiResponse);
  EXPECT_THROW(a.replace_address("at", "x", address_input()), errors::ErrorsBoltApiResponse);
  EXPECT_THROW(a.delete_address("at", "x"), errors::ErrorsBoltApiResponse);
  EXPECT_THROW(a.detect_account("pk", {}), errors::ErrorsBoltApiResponse);
}

TEST(AccountClient, OtherFailuresAreApiErrors) {
  struct Case {
    TransportResult answer;
    int status;
    std::string message;  // a part of what()
  };
  std::vector<Case> cases{
      {respond(500, bolt_error(1000, "boom")), 500, "API error occurred"},  // 5xx: not a refusal
      {respond(503, "<html>busy</html>", "text/html"), 503, "API error occurred"},
      {respond(404, "not found", "text/plain"), 404, "API error occurred"},         // 4xx without the JSON body
      {respond(400, R"({"error":"invalid_request"})"), 400, "API error occurred"},  // the OAuth shape
      {respond(422, "{not json"), 422, "API error occurred"},
      {respond(200, "<html>login</html>", "text/html"), 200, "unknown content-type"},
      {respond(200, R"({"id":"a","default":"yes"})"), 200, "invalid AddressView body"},  // wrong field type
      {respond(200, "{not json"), 200, "invalid AddressView body"},
      {respond(302, "", ""), 302, "unknown status code"},
      {connection_error(true), 0, "transport failure"},
  };
  for (auto& c : cases) {
    Fixture f;
    f.transport->script.push_back(c.answer);
    try {
      f.account().edit_address("at", "addr_1", address_input());
      ADD_FAILURE() << "no exception for " << c.status;
    } catch (const errors::APIError& e) {
      EXPECT_EQ(e.status_code(), c.status);
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      if (c.answer.response) {
        EXPECT_EQ(e.body(), c.answer.response->body);
      }
    }
  }
}

TEST(AccountClient, InvalidBodiesNameTheirModel) {
  Fixture f;
  f.transport->fallback = [](const HttpRequest&) { return respond(200, R"({"has_bolt_account":"maybe"})"); };
  const std::vector<std::pair<std::function<void()>, std::string>> calls{
      {[&] { f.account().get_account("at"); }, "invalid AccountDetails body"},
      {[&] { f.account().detect_account("pk", {}); }, "invalid AccountsView body"},
  };
  for (const auto& [call, message] : calls) {
    try {
      call();
      ADD_FAILURE() << message;
    } catch (const errors::APIError& e) {
      EXPECT_STREQ(e.what(), message.c_str());
    }
  }
  f.transport->script.push_back(respond(200, R"({"first_name":["Ada"]})"));
  try {
    f.account().update_account_profile("at", {});
    ADD_FAILURE();
  } catch (const errors::APIError& e) {
    EXPECT_STREQ(e.what(), "invalid Profile body");
  }
}

TEST(AccountClient, DeleteTakesAnyTwoHundredBody) {
  Fixture f;
  f.transport->script.push_back(respond(200, "", ""));
  f.transport->script.push_back(respond(200, "{}"));
  f.transport->script.push_back(respond(204, "", ""));
  for (int i = 0; i < 3; ++i) EXPECT_NO_THROW(f.account().delete_address("at", "addr_1"));
}

TEST(AccountClient, ResultForms) {
  Fixture f;
  f.transport->script.push_back(respond(200, account_body()));
  f.transport->script.push_back(respond(403, bolt_error(1003, "scope")));
  f.transport->script.push_back(respond(500, "{}"));
  f.transport->script.push_back(respond(200, "", ""));
  f.transport->script.push_back(respond(404, bolt_error(1004, "No such address.")));
  f.transport->script.push_back(respond(200, kProfile));
  f.transport->script.push_back(respond(200, kAddress));
  f.transport->script.push_back(respond(200, kAddress));
  f.transport->script.push_back(respond(200, R"({"has_bolt_account":false})"));

  auto ok = f.account().get_account_result("at");
  ASSERT_TRUE(std::holds_alternative<models::AccountDetails>(ok));
  EXPECT_EQ(std::get<models::AccountDetails>(ok).addresses.size(), 1u);
  auto refused = f.account().add_address_result("at", address_input());
  ASSERT_TRUE(std::holds_alternative<errors::ErrorsBoltApiResponse>(refused));
  EXPECT_EQ(std::get<errors::ErrorsBoltApiResponse>(refused).status_code(), 403);
  auto failed = f.account().edit_address_result("at", "a", address_input());
  ASSERT_TRUE(std::holds_alternative<errors::APIError>(failed));
  EXPECT_EQ(std::get<errors::APIError>(failed).status_code(), 500);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(f.account().delete_address_result("at", "a")));
  auto gone = f.account().delete_address_result("at", "a");
  ASSERT_TRUE(std::holds_alternative<errors::ErrorsBoltApiResponse>(gone));
  EXPECT_EQ(std::get<errors::ErrorsBoltApiResponse>(gone).errors()[0].code, 1004);
  EXPECT_TRUE(std::holds_alternative<models::Profile>(f.account().update_account_profile_result("at", {})));
  EXPECT_TRUE(std::holds_alternative<models::AddressView>(f.account().replace_address_result("at", "a", {})));
  EXPECT_TRUE(std::holds_alternative<models::AddressView>(f.account().add_address_result("at", {}, "k")));
  auto detected = f.account().detect_account_result("pk", {});
  ASSERT_TRUE(std::holds_alternative<models::AccountsView>(detected));
  EXPECT_FALSE(std::get<models::AccountsView>(detected).has_bolt_account);
}

// ---- retries -------------------------------------------------------------------------------------------------

struct Retrying {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<Bolt> bolt;
  Retrying() {
    BoltOptions o;
    o.transport = transport;
    o.retry_env.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    o.retry_env.jitter = [] { return 0.0; };
    bolt = std::make_unique<Bolt>(std::move(o));
  }
};

TEST(AccountRetries, PostWithoutKeyIsNotRetriedWhenTheServerMayHaveActed) {
  for (auto outcome : {respond(500, "{}"), respond(502, "{}"), respond(504, "{}"), connection_error(true)}) {
    Retrying r;
    r.transport->script.push_back(outcome);
    r.transport->script.push_back(respond(200, kAddress));
    EXPECT_THROW(r.bolt->account().add_address("at", address_input()), errors::APIError);
    EXPECT_EQ(r.transport->requests().size(), 1u) << "a second POST could add a second address";
    EXPECT_TRUE(r.sleeps.empty());
  }
  // replace_address (POST) and update_account_profile (PATCH) without a key: the same rule.
  Retrying r;
  r.transport->script.push_back(respond(500, "{}"));
  r.transport->script.push_back(respond(502, "{}"));
  EXPECT_THROW(r.bolt->account().replace_address("at", "a", address_input()), errors::APIError);
  EXPECT_THROW(r.bolt->account().update_account_profile("at", {}), errors::APIError);
  EXPECT_EQ(r.transport->requests().size(), 2u);
}

TEST(AccountRetries, PostAndPatchWithKeyAreRetried) {
  Retrying r;
  r.transport->script.push_back(respond(500, "{}"));
  r.transport->script.push_back(connection_error(true));
  r.transport->script.push_back(respond(200, kAddress));
  EXPECT_EQ(r.bolt->account().add_address("at", address_input(), std::string("k1")).id, "addr_1");
  const auto requests = r.transport->requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& q : requests) EXPECT_EQ(header_of(q, "Idempotency-Key"), "k1") << "the same key every time";
  EXPECT_EQ(r.sleeps,
            (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(500), std::chrono::milliseconds(750)}));

  Retrying p;
  p.transport->script.push_back(respond(504, "{}"));
  p.transport->script.push_back(respond(200, kAddress));
  p.transport->script.push_back(respond(502, "{}"));
  p.transport->script.push_back(respond(200, kProfile));
  EXPECT_EQ(p.bolt->account().replace_address("at", "a", address_input(), std::string("k2")).id, "addr_1");
  EXPECT_EQ(p.bolt->account().update_account_profile("at", {}, std::string("k3")).first_name, "Ada");
  EXPECT_EQ(p.transport->requests().size(), 4u);
}

TEST(AccountRetries, GetPutAndDeleteAreRetried) {
  Retrying r;
  r.transport->script.push_back(respond(500, "{}"));
  r.transport->script.push_back(respond(200, account_body()));
  r.transport->script.push_back(respond(502, "{}"));
  r.transport->script.push_back(respond(200, kAddress));
  r.transport->script.push_back(connection_error(true));
  r.transport->script.push_back(respond(200, "", ""));
  r.transport->script.push_back(respond(504, "{}"));
  r.transport->script.push_back(respond(200, R"({"has_bolt_account":true})"));
  EXPECT_TRUE(r.bolt->account().get_account("at").has_bolt_account);
  EXPECT_EQ(r.bolt->account().edit_address("at", "a", address_input()).id, "addr_1");
  r.bolt->account().delete_address("at", "a");
  EXPECT_TRUE(r.bolt->account().detect_account("pk", {}).has_bolt_account);
  EXPECT_EQ(r.transport->requests().size(), 8u);
}

TEST(AccountRetries, RefusalsBeforeProcessingAreRetriedForEveryMethod) {
  // The existing rule for non-idempotent requests: 429, 503 and a connection error before any byte was sent prove
  // the server did not act, so even a POST without a key is repeated. A throttled detect_account honours
  // Retry-After.
  Retrying r;
  r.transport->script.push_back(respond(503, "{}"));
  r.transport->script.push_back(
      respond(429, bolt_error(1429, "slow down"), "application/json", {{"retry-after", "3"}}));
  r.transport->script.push_back(connection_error(false));
  r.transport->script.push_back(respond(200, kAddress));
  EXPECT_EQ(r.bolt->account().add_address("at", address_input()).id, "addr_1");
  EXPECT_EQ(r.transport->requests().size(), 4u);
  ASSERT_EQ(r.sleeps.size(), 3u);
  EXPECT_EQ(r.sleeps[1], std::chrono::milliseconds(3000));
}

TEST(AccountRetries, ClientErrorsAreNeverRetried) {
  for (int status : {400, 401, 403, 404, 409, 415, 422}) {
    Retrying r;
    r.transport->script.push_back(respond(status, bolt_error(1, "no")));
    EXPECT_THROW(r.bolt->account().get_account("at"), errors::ErrorsBoltApiResponse);
    EXPECT_EQ(r.transport->requests().size(), 1u) << status;
  }
}

// The README's example, as written there, on the fake transport.
TEST(AccountClient, ReadmeExample) {
  Fixture f;
  f.transport->script.push_back(respond(200, account_body()));
  for (int i = 0; i < 3; ++i) f.transport->script.push_back(respond(200, kAddress));
  f.transport->script.push_back(respond(200, "", ""));
  f.transport->script.push_back(respond(200, R"({"has_bolt_account":true})"));
  const Bolt& bolt = *f.bolt;
  models::OAuthTokenResponse tokens;
  tokens.access_token = "at";
  const std::string publishable_key = "pk.a.b";

  const auto& account = bolt.account();
  auto details = account.get_account(*tokens.access_token);  // profile, addresses, payment_methods
  boltauth::models::AddressInput home;                       // the required fields; optionals are sent only when set
  home.first_name = "Ada";
  home.last_name = "Lovelace";
  home.email = "ada@example.com";
  home.street_address1 = "888 main street";
  home.locality = "Brooklyn";
  home.region = "NY";
  home.postal_code = "10044";
  home.country_code = "US";
  auto added = account.add_address(*tokens.access_token, home, "add-home-1");  // Idempotency-Key: safe to retry
  home.street_address2 = "apt 3021";
  account.edit_address(*tokens.access_token, added.id, home);                  // same id
  auto moved = account.replace_address(*tokens.access_token, added.id, home);  // a new id; added.id is gone
  account.delete_address(*tokens.access_token, moved.id);
  boltauth::models::DetectAccountQuery query;
  query.email = "ada@example.com";
  bool known = account.detect_account(publishable_key, query).has_bolt_account;  // no token: X-Publishable-Key

  EXPECT_EQ(details.addresses.size(), 1u);
  EXPECT_TRUE(known);
  const auto requests = f.transport->requests();
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_EQ(json::parse(requests[1].body).as_object().at("locality"), json::value("Brooklyn"));
  EXPECT_EQ(header_of(requests[1], "Idempotency-Key"), "add-home-1");
}

}  // namespace
}  // namespace boltauth
