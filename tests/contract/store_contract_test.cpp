// Builders and the race harness shared by every instantiation of the storage contract (store_contract.hpp).
#include <latch>
#include <thread>

#include "contract/store_contract.hpp"

namespace boltauth::contract {

core::model::Client make_client(std::string_view id) {
  const std::string name(id);
  core::model::Client client;
  client.id = name;
  client.publishable_key = "pk1234567890.ab1234567890." + name;
  client.name = "Shop " + name;
  client.secret_hash = "secret-hash-" + name;
  // Characters that a naive list encoding would split or mangle.
  client.redirect_uris = {"https://" + name + ".example/callback", "http://127.0.0.1:8080/cb?a=1,2&b=\"q\"",
                          "https://xn--bcher-kva.example/\u00fc\\path"};
  client.grant_types = {"authorization_code", "refresh_token"};
  client.post_logout_redirect_uris = {"https://" + name + ".example/bye", "https://x.example/?a=1,2"};
  client.created_at = t0 - 1000;
  client.id_token_signed_response_alg = "ES256";  // not the default: the column must round-trip
  return client;
}

core::model::Account make_account(std::string_view sub, std::string_view email) {
  core::model::Account account;
  account.sub = std::string(sub);
  account.email = std::string(email);
  account.email_verified = true;
  account.first_name = "Ada";
  account.last_name = "Lovelace";
  account.created_at = t0 - 500;
  account.updated_at = t0 - 400;
  return account;
}

core::model::LoginRequest make_login_request(std::string_view id, std::string_view client_id) {
  core::model::LoginRequest r;
  r.id_hash = std::string(id);
  r.client_id = std::string(client_id);
  r.redirect_uri = "https://a.example/cb?x=1";
  r.redirect_uri_given = true;
  r.scope = "openid";
  r.state = "s %+ t";
  r.nonce = "n";
  r.code_challenge = std::string(43, 'c');
  r.response_mode = "web_message";
  r.browser_hash = "b";
  r.created_at = 100;
  r.expires_at = 2000;
  return r;
}

core::model::Address make_address(std::string_view id, std::string_view sub, base::UnixSeconds created_at) {
  core::model::Address address;
  address.id = std::string(id);
  address.sub = std::string(sub);
  address.fields = {
      {"first_name", "Zo\u00eb"}, {"last_name", "O'Brien \"Jr\""}, {"street_address1", "1 Main St, Apt 2\\B"},
      {"street_address2", ""},    {"locality", "\u6771\u4eac"},    {"country_code", "JP"},
      {"id", std::string(id)}};  // a field may be named like a column
  address.created_at = created_at;
  address.updated_at = created_at;
  return address;
}

core::model::Grant make_grant(std::string_view tag, std::string_view client_id, base::UnixSeconds now) {
  const std::string t(tag);
  core::model::Grant grant;
  grant.kind = core::model::GrantKind::authorization_code;
  grant.client_id = std::string(client_id);
  grant.sub = "sub-of-" + t;
  grant.scope = "openid email profile";
  grant.redirect_uri = "https://" + grant.client_id + ".example/callback?tag=" + t;
  grant.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  grant.nonce = "nonce-" + t;
  grant.state = "state-" + t;
  grant.auth_time = now - 30;
  grant.created_at = now;
  grant.code_expires_at = now + 60;
  grant.salt = 0x8000'0000U | static_cast<std::uint32_t>(std::hash<std::string>{}(t)&0xffff);  // top bit set
  return grant;
}

RaceResult race(int threads, const std::function<core::ports::ConsumeOutcome(int)>& attempt) {
  std::vector<core::ports::ConsumeOutcome> outcomes(static_cast<std::size_t>(threads),
                                                    core::ports::ConsumeOutcome::lost);
  std::vector<char> failed(static_cast<std::size_t>(threads), 0);  // not vector<bool>: written concurrently
  std::latch start(threads);
  {
    std::vector<std::jthread> workers;
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] {
        start.arrive_and_wait();  // all threads hit the store at once
        try {
          outcomes[static_cast<std::size_t>(i)] = attempt(i);
        } catch (const std::exception& e) {
          ADD_FAILURE() << "thread " << i << ": " << e.what();
          failed[static_cast<std::size_t>(i)] = 1;
        }
      });
    }
  }
  RaceResult result;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (failed[i] != 0)
      ++result.errors;
    else if (outcomes[i] == core::ports::ConsumeOutcome::consumed)
      ++result.consumed;
    else
      ++result.lost;
  }
  return result;
}

}  // namespace boltauth::contract
