// Bolt's v1 account API beyond the profile: the address book (addAddress, editAddress, replaceAddress,
// deleteAddress), detectAccount, Idempotency-Key on POST and PATCH, and the input rules of account data. Over real
// HTTP, on SQLite (and on PostgreSQL under the postgres label).
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "core/janitor.hpp"
#include "crypto/digest.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

boost::json::object address(const std::string& street = "1 Main St") {
  return {{"first_name", "Ada"},  {"last_name", "Lovelace"},    {"street_address1", street},
          {"locality", "London"}, {"region", "Greater London"}, {"postal_code", "N1 9GU"},
          {"country_code", "GB"}, {"email", "ada@example.com"}};
}

class AddressBookTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();
  std::string manage = token("bolt.account.manage");

  std::string token(const std::string& scope, const core::CreatedClient* c = nullptr) {
    const auto& who = c ? *c : client;
    auto res = server.exchange(who, server.sandbox_code(who), scope);
    EXPECT_EQ(res.status, 200) << res.body;
    return std::string(res.json().as_object().at("access_token").as_string());
  }
  Headers auth(const std::string& t, Headers more = {}) {
    more.emplace_back("Authorization", "Bearer " + t);
    more.emplace_back("Content-Type", "application/json");
    return more;
  }
  HttpResponse send(const std::string& method, const std::string& path, const boost::json::object& body,
                    Headers extra = {}, const std::string* as = nullptr) {
    return server.http().request(method, path, auth(as ? *as : manage, std::move(extra)), boost::json::serialize(body));
  }
  boost::json::array list(const std::string* as = nullptr) {
    auto res = server.http().get("/v1/account", auth(as ? *as : manage));
    EXPECT_EQ(res.status, 200) << res.body;
    return res.json().as_object().at("addresses").as_array();
  }
  static void expect_v1_error(const HttpResponse& res, int status) {
    EXPECT_EQ(res.status, status) << res.body;
    const auto body = res.json().as_object();
    ASSERT_TRUE(body.contains("errors")) << res.body;
    EXPECT_FALSE(body.at("errors").as_array().empty());
    EXPECT_EQ(body.at("result").as_object().at("success").as_bool(), false);
  }
  static std::string message(const HttpResponse& res) {
    return std::string(res.json().as_object().at("errors").as_array().at(0).as_object().at("message").as_string());
  }
};

TEST_F(AddressBookTest, AddListEditReplaceDeleteWithV1Shapes) {
  auto added = send("POST", "/v1/account/addresses", address());
  ASSERT_EQ(added.status, 200) << added.body;
  auto a = added.json().as_object();
  const std::string id(a.at("id").as_string());
  EXPECT_EQ(a.at("default").as_bool(), true) << "the first address is the default";
  EXPECT_EQ(a.at("email_address").as_string(), "ada@example.com");  // address_view spells it so
  EXPECT_EQ(a.at("street_address1").as_string(), "1 Main St");
  EXPECT_EQ(a.at("country_code").as_string(), "GB");

  auto second = send("POST", "/v1/account/addresses", address("2 Side St"));
  ASSERT_EQ(second.status, 200) << second.body;
  const std::string id2(second.json().as_object().at("id").as_string());
  EXPECT_EQ(second.json().as_object().at("default").as_bool(), false);
  ASSERT_EQ(list().size(), 2u);

  // editAddress: same id, new fields; default moves when asked.
  auto body = address("3 New St");
  body["default"] = true;
  auto edited = send("PUT", "/v1/account/addresses/" + id2, body);
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.json().as_object().at("id").as_string(), id2);
  EXPECT_EQ(edited.json().as_object().at("street_address1").as_string(), "3 New St");
  for (const auto& entry : list()) {
    const auto& o = entry.as_object();
    EXPECT_EQ(o.at("default").as_bool(), o.at("id").as_string() == id2) << boost::json::serialize(o);
  }

  // replaceAddress: a new id, the old one is gone, the default flag carried over.
  auto replaced = send("POST", "/v1/account/addresses/" + id2, address("4 Last St"));
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  const std::string id3(replaced.json().as_object().at("id").as_string());
  EXPECT_NE(id3, id2);
  EXPECT_EQ(replaced.json().as_object().at("default").as_bool(), true);
  expect_v1_error(send("PUT", "/v1/account/addresses/" + id2, address()), 404);

  // deleteAddress: empty 200; deleting the default makes the remaining one the default.
  auto deleted = server.http().request("DELETE", "/v1/account/addresses/" + id3, auth(manage));
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_TRUE(deleted.body.empty());
  const auto left = list();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left.at(0).as_object().at("id").as_string(), id);
  EXPECT_EQ(left.at(0).as_object().at("default").as_bool(), true);
  expect_v1_error(server.http().request("DELETE", "/v1/account/addresses/" + id3, auth(manage)), 404);
}

TEST_F(AddressBookTest, ViewTokenReadsButCannotWriteAndAnotherShoppersAddressIsNotFound) {
  auto added = send("POST", "/v1/account/addresses", address());
  ASSERT_EQ(added.status, 200);
  const std::string id(added.json().as_object().at("id").as_string());
  const std::string view = token("bolt.account.view");
  EXPECT_EQ(server.http().get("/v1/account", auth(view)).status, 200);
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/v1/account/addresses"},
                                                        {"PUT", "/v1/account/addresses/" + id},
                                                        {"POST", "/v1/account/addresses/" + id},
                                                        {"DELETE", "/v1/account/addresses/" + id}}) {
    auto res = send(method, path, address(), {}, &view);
    expect_v1_error(res, 403);
    ASSERT_TRUE(res.header("www-authenticate"));
    EXPECT_NE(res.header("www-authenticate")->find("insufficient_scope"), std::string::npos);
  }
  // Another shopper (another sandbox account) neither sees nor touches it.
  const std::string other = token("bolt.account.manage");
  EXPECT_TRUE(list(&other).empty());
  expect_v1_error(send("PUT", "/v1/account/addresses/" + id, address(), {}, &other), 404);
  expect_v1_error(server.http().request("DELETE", "/v1/account/addresses/" + id, auth(other)), 404);
  EXPECT_EQ(list().size(), 1u);
  // No token at all.
  expect_v1_error(server.http().request("POST", "/v1/account/addresses", {{"Content-Type", "application/json"}},
                                        boost::json::serialize(address())),
                  401);
}

TEST_F(AddressBookTest, InputRulesNameTheFieldAndCountCodePoints) {
  auto bad = [&](boost::json::object body, const std::string& field, int status = 400) {
    auto res = send("POST", "/v1/account/addresses", body);
    expect_v1_error(res, status);
    EXPECT_NE(message(res).find(field), std::string::npos) << message(res);
  };
  for (const char* field :
       {"first_name", "last_name", "street_address1", "locality", "region", "postal_code", "country_code", "email"}) {
    auto body = address();
    body.erase(field);
    bad(body, field);
  }
  auto body = address();
  body["country_code"] = "XX";
  bad(body, "country_code");
  body["country_code"] = "USA";
  bad(body, "country_code");
  body = address();
  body["first_name"] = 42;
  bad(body, "first_name");
  body = address();
  body["phone"] = "555-0100";
  bad(body, "phone");
  body = address();
  body["nickname"] = "home";
  bad(body, "nickname");
  // Control and bidi-override characters (the "Trojan Source" trick) are refused by name.
  body = address();
  body["street_address1"] = "1 Main St\x01";
  bad(body, "street_address1");
  body["street_address1"] = "1 Main St \u202Eevil";
  bad(body, "street_address1");
  body["street_address1"] = "1 Main St \u2066x\u2069";
  bad(body, "street_address1");
  // Lengths are code points: 32 two-byte characters fit postal_code's 32, 33 do not.
  std::string postal;
  for (int i = 0; i < 32; ++i) postal += "\u00e9";
  body = address();
  body["postal_code"] = postal;
  EXPECT_EQ(send("POST", "/v1/account/addresses", body).status, 200);
  body["postal_code"] = postal + "\u00e9";
  bad(body, "postal_code");
  // Lower-case country codes are taken and stored upper case.
  body = address();
  body["country_code"] = "us";
  auto ok = send("POST", "/v1/account/addresses", body);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json().as_object().at("country_code").as_string(), "US");
  // Only JSON bodies: 415 otherwise; a body that is not an object is 400. Nothing of these was kept.
  const auto before = list().size();
  auto res = server.http().request("POST", "/v1/account/addresses",
                                   {{"Authorization", "Bearer " + manage}, {"Content-Type", "text/plain"}},
                                   boost::json::serialize(address()));
  expect_v1_error(res, 415);
  res = server.http().request("POST", "/v1/account/addresses", {{"Authorization", "Bearer " + manage}},
                              boost::json::serialize(address()));
  expect_v1_error(res, 415);
  res = server.http().request("POST", "/v1/account/addresses", auth(manage), "[1,2]");
  expect_v1_error(res, 400);
  res = server.http().request("POST", "/v1/account/addresses", auth(manage), "{\"first_name\":");
  expect_v1_error(res, 400);
  EXPECT_EQ(list().size(), before);
  // The profile follows the same rules.
  res = server.http().request("PATCH", "/v1/account/profile", auth(manage), R"({"first_name":"A\u202Eb"})");
  expect_v1_error(res, 400);
  res = server.http().request("PATCH", "/v1/account/profile", {{"Authorization", "Bearer " + manage}},
                              R"({"first_name":"Ada"})");
  expect_v1_error(res, 415);
}

TEST_F(AddressBookTest, AnAccountKeepsAtMostFiftyAddresses) {
  for (int i = 0; i < 50; ++i) ASSERT_EQ(send("POST", "/v1/account/addresses", address()).status, 200) << i;
  auto res = send("POST", "/v1/account/addresses", address());
  expect_v1_error(res, 422);
  EXPECT_EQ(list().size(), 50u);
}

TEST_F(AddressBookTest, IdempotencyKeyReplaysTheFirstAnswerAndWritesNothing) {
  const Headers key{{"Idempotency-Key", "6f1c0c1e-6a53-4c55-9d1b-2f7d3a0e5b11"}};
  auto first = send("POST", "/v1/account/addresses", address(), key);
  ASSERT_EQ(first.status, 200) << first.body;
  auto again = send("POST", "/v1/account/addresses", address(), key);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(list().size(), 1u);
  // The same key with another body is refused, and writes nothing either.
  auto other = send("POST", "/v1/account/addresses", address("9 Other St"), key);
  expect_v1_error(other, 422);
  EXPECT_NE(message(other).find("Idempotency-Key"), std::string::npos);
  EXPECT_EQ(list().size(), 1u);
  // A refused request keeps nothing: after fixing the body, the same key runs.
  const Headers key2{{"Idempotency-Key", "second"}};
  auto body = address();
  body["country_code"] = "XX";
  expect_v1_error(send("POST", "/v1/account/addresses", body, key2), 400);
  EXPECT_EQ(send("POST", "/v1/account/addresses", address("5 Fixed St"), key2).status, 200);
  EXPECT_EQ(list().size(), 2u);
  // Keys are the client's own: another merchant's same key is another request.
  auto other_client = server.create_client();
  const std::string theirs = token("bolt.account.manage", &other_client);
  auto res = send("POST", "/v1/account/addresses", address(), key, &theirs);
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_NE(res.body, first.body);
  // PATCH too.
  const Headers pkey{{"Idempotency-Key", "profile-1"}};
  auto p1 = send("PATCH", "/v1/account/profile", {{"first_name", "Grace"}}, pkey);
  ASSERT_EQ(p1.status, 200) << p1.body;
  auto p2 = send("PATCH", "/v1/account/profile", {{"first_name", "Grace"}}, pkey);
  EXPECT_EQ(p2.body, p1.body);
  EXPECT_EQ(p2.header("idempotent-replayed"), "true");
  expect_v1_error(send("PATCH", "/v1/account/profile", {{"first_name", "Ada"}}, pkey), 422);
  // A malformed key is named.
  auto bad = send("POST", "/v1/account/addresses", address(), {{"Idempotency-Key", std::string(256, 'k')}});
  expect_v1_error(bad, 400);
  EXPECT_NE(message(bad).find("Idempotency-Key"), std::string::npos);
}

TEST_F(AddressBookTest, SixteenConcurrentRetriesWriteOnceAndGetOneAnswer) {
  const std::string body = boost::json::serialize(address());
  std::vector<HttpResponse> answers(16);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      HttpClient http(server.port());
      ready.fetch_add(1);
      while (ready.load() < 16) std::this_thread::yield();
      answers[i] =
          http.request("POST", "/v1/account/addresses", auth(manage, {{"Idempotency-Key", "concurrent-key"}}), body);
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> bodies;
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 200) << a.body;
    bodies.insert(a.body);
  }
  EXPECT_EQ(bodies.size(), 1u) << "every retry answers the first answer";
  EXPECT_EQ(list().size(), 1u) << "one write";
  EXPECT_EQ(server.store_count("SELECT count(*) FROM addresses"), 1);
}

TEST_F(AddressBookTest, IdempotencyRecordsArePurgedAfterADay) {
  const Headers key{{"Idempotency-Key", "day-old"}};
  ASSERT_EQ(send("POST", "/v1/account/addresses", address(), key).status, 200);
  EXPECT_EQ(server.store_count("SELECT count(*) FROM idempotency_keys"), 1);
  server.clock().advance(86400 + 1);
  core::run_janitor(server.app().services().purge_store(), server.clock().now(), 100);
  EXPECT_EQ(server.store_count("SELECT count(*) FROM idempotency_keys"), 0);
}

class DetectAccountTest : public AddressBookTest {
 protected:
  std::string query(const std::string& q, const std::string& pk) {
    auto res = server.http().get("/v1/account/exists?" + q, {{"X-Publishable-Key", pk}});
    EXPECT_EQ(res.status, 200) << res.body;
    return res.status == 200 && res.json().as_object().at("has_bolt_account").as_bool() ? "yes" : "no";
  }
};

TEST_F(DetectAccountTest, AnswersForEmailPhoneAndSha256Email) {
  auto shopper = server.create_shopper(client);
  const std::string email(shopper.at("email").as_string());
  const std::string phone(shopper.at("phone").as_string());
  const std::string pk = client.client.publishable_key;
  const auto digest = crypto::sha256(email);
  std::string hex;
  for (auto b : digest) {
    static constexpr char d[] = "0123456789abcdef";
    hex += d[b >> 4];
    hex += d[b & 15];
  }
  EXPECT_EQ(query("email=" + email, pk), "yes");
  EXPECT_EQ(query("email=nobody%40example.com", pk), "no");
  EXPECT_EQ(query("phone=" + std::string("%2B") + phone.substr(1), pk), "yes");
  EXPECT_EQ(query("phone=%2B14155550123", pk), "no");
  EXPECT_EQ(query("sha256_email=" + hex, pk), "yes");
  EXPECT_EQ(query("sha256_email=" + std::string(64, 'a'), pk), "no");
}

TEST_F(DetectAccountTest, NeedsARegisteredPublishableKeyAndOneIdentifier) {
  expect_v1_error(server.http().get("/v1/account/exists?email=a%40b.c"), 401);
  expect_v1_error(server.http().get("/v1/account/exists?email=a%40b.c", {{"X-Publishable-Key", "pk_unknown"}}), 401);
  const Headers pk{{"X-Publishable-Key", client.client.publishable_key}};
  expect_v1_error(server.http().get("/v1/account/exists", pk), 422);
  expect_v1_error(server.http().get("/v1/account/exists?email=a%40b.c&phone=%2B14155550100", pk), 422);
  auto res = server.http().get("/v1/account/exists?sha256_email=zz", pk);
  expect_v1_error(res, 400);
  EXPECT_NE(message(res).find("sha256_email"), std::string::npos);
}

TEST_F(DetectAccountTest, IsThrottledPerSourceAddress) {
  const Headers pk{{"X-Publishable-Key", client.client.publishable_key}};
  int ok = 0;
  HttpResponse last;
  for (int i = 0; i < 12; ++i) {
    last = server.http().get("/v1/account/exists?email=x" + std::to_string(i) + "%40example.com", pk);
    ok += last.status == 200;
  }
  EXPECT_EQ(ok, 10) << "10 lookups a minute per address by default";
  expect_v1_error(last, 429);
  EXPECT_TRUE(last.header("retry-after"));
  server.clock().advance(60);
  EXPECT_EQ(server.http().get("/v1/account/exists?email=y%40example.com", pk).status, 200);
}

}  // namespace
}  // namespace boltauth::testing
