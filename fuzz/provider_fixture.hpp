#pragma once
// The real provider on a real SQLite data dir (sandbox mode, one merchant), driven without HTTP: the targets below
// hand it core::Requests built from the fuzz input. Oracle for every answer: never a 5xx (a 5xx means an
// exception or a store failure, which no input may cause) and, on the JSON endpoints, a JSON body.
#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/provider.hpp"
#include "fuzz_support.hpp"
#include "protocol/basic_auth.hpp"
#include "server/app.hpp"

namespace boltauth::fuzz {

class ProviderFixture {
 public:
  static constexpr const char* kIssuer = "http://127.0.0.1:8080";
  static constexpr const char* kRedirect = "https://merchant.example/callback";
  /// The fixture's own requests come from here, the fuzzed ones from 127.0.0.1: failed client authentication is
  /// throttled per client and address, so the fuzzer's wrong secrets must not hold off the fixture's live codes.
  static constexpr const char* kFixtureAddress = "192.0.2.1";

  ProviderFixture() {
    char pattern[] = "/tmp/boltauth-fuzz-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (!made) std::abort();
    dir_ = made;
    options_.data_dir = dir_ / "data";
    options_.quiet = true;
    options_.config.issuer = kIssuer;
    options_.issuer_from_listen = false;
    options_.config.mode = core::Mode::sandbox;
    options_.rsa_key_bits = 2048;
    services_ = std::make_unique<server::Services>(options_);
    core::ClientSpec spec;
    spec.name = "Fuzz merchant";
    spec.redirect_uris = {kRedirect};
    auto created = services_->registry().create_client(spec);
    if (!std::holds_alternative<core::CreatedClient>(created)) std::abort();
    client_ = std::get<core::CreatedClient>(created);
    provider_ = services_->make_provider(options_.config, {}, {});
  }
  ~ProviderFixture() {
    provider_.reset();
    services_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  core::Response handle(const core::Request& r) {
    auto answer = provider_->handle(r);
    FUZZ_CHECK(answer.status >= 200 && answer.status < 500);
    if (answer.content_type.rfind("application/json", 0) == 0 && !answer.body.empty()) {
      boost::system::error_code ec;
      (void)boost::json::parse(answer.body, ec);
      FUZZ_CHECK(!ec);
    }
    return answer;
  }

  const std::string& client_id() const { return client_.client.id; }
  const std::string& secret() const { return client_.client_secret; }
  std::string basic() const { return protocol::make_basic_auth(client_id(), secret()); }

  /// A fresh authorization code for the merchant (a new sandbox shopper each time).
  std::string code() {
    core::Request r;
    r.method = "POST";
    r.path = "/v1/testing/shopper/create";
    r.headers = {{"x-api-key", secret()}, {"content-type", "application/json"}};
    r.body = "{}";
    r.remote_address = kFixtureAddress;
    const auto answer = handle(r);
    FUZZ_CHECK(answer.status == 200);
    return std::string(boost::json::parse(answer.body).at("oauth_code").as_string());
  }

  /// A live refresh token (a code exchanged for tokens).
  std::string refresh_token() {
    core::Request r;
    r.method = "POST";
    r.path = "/v1/oauth/token";
    r.headers = {{"content-type", "application/x-www-form-urlencoded"}, {"authorization", basic()}};
    r.body = "grant_type=authorization_code&code=" + code() + "&scope=openid+bolt.account.manage";
    r.remote_address = kFixtureAddress;
    const auto answer = handle(r);
    FUZZ_CHECK(answer.status == 200);
    return std::string(boost::json::parse(answer.body).at("refresh_token").as_string());
  }

 private:
  std::filesystem::path dir_;
  server::AppOptions options_;
  std::unique_ptr<server::Services> services_;
  core::CreatedClient client_;
  std::unique_ptr<core::Provider> provider_;
};

/// Replaces every `from` in `text` by what `make()` returns (called once, only when `from` occurs).
template <typename Make>
void substitute(std::string& text, std::string_view from, Make make) {
  auto at = text.find(from);
  if (at == std::string::npos) return;
  const std::string to = make();
  for (; at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
}

}  // namespace boltauth::fuzz
