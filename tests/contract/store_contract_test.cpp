// Builders and the race harness shared by every instantiation of the storage contract (store_contract.hpp).
#include <latch>
#include <thread>

#include "contract/store_contract.hpp"

namespace boltauth::contract {

using core::model::GrantRecord;
using core::model::IssuedTokens;
using core::model::TokenRecord;
using core::model::TokenType;

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

core::model::CodeRecord make_code(std::string_view hash, std::string_view client_id, base::UnixSeconds now) {
  core::model::CodeRecord code;
  code.hash = std::string(hash);
  code.client_id = std::string(client_id);
  code.sub = "sub-of-" + code.hash;
  code.scope = "openid email profile";
  code.redirect_uri = "https://" + code.client_id + ".example/callback";
  code.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  code.nonce = "nonce-" + code.hash;
  code.state = "state-" + code.hash;
  code.grant_id = "grant-" + code.hash;
  code.auth_time = now - 30;
  code.issued_at = now;
  code.expires_at = now + 60;
  return code;
}

GrantRecord make_grant(const core::model::CodeRecord& code, base::UnixSeconds now) {
  GrantRecord grant;
  grant.id = code.grant_id;
  grant.client_id = code.client_id;
  grant.sub = code.sub;
  grant.auth_time = code.auth_time;
  grant.created_at = now;
  return grant;
}

IssuedTokens make_tokens(std::string_view tag, const GrantRecord& grant, base::UnixSeconds now, bool with_refresh) {
  const auto token = [&](TokenType type, const char* prefix, base::UnixSeconds lifetime) {
    TokenRecord t;
    t.hash = prefix + std::string(tag);
    t.type = type;
    t.grant_id = grant.id;
    t.client_id = grant.client_id;
    t.sub = grant.sub;
    t.scope = "openid email";
    t.issued_at = now;
    t.expires_at = now + lifetime;
    return t;
  };
  IssuedTokens tokens;
  tokens.access = token(TokenType::access_token, "at-", 3600);
  if (with_refresh) tokens.refresh = token(TokenType::refresh_token, "rt-", 30 * 86400);
  return tokens;
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
