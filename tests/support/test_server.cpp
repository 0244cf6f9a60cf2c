#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <fstream>

#include "crypto/signing_key.hpp"
#include "crypto/token_minter.hpp"
#include "server/key_files.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"

namespace boltauth::testing {
namespace {

const std::string& shared_signing_pem() {
  static const std::string pem = crypto::SigningKey::generate_rsa(2048).private_pem();
  return pem;
}

std::uint64_t next_seed() {
  static std::atomic<std::uint64_t> seed{0x5eed};
  return seed.fetch_add(1);
}

}  // namespace

void install_test_signing_key(const std::filesystem::path& data_dir) {
  const auto dir = data_dir / "keys" / "signing";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "0001.pem") << shared_signing_pem();
}

TestServer::TestServer(std::function<void(server::AppOptions&)> tweak) : random_(next_seed()) {
  install_test_signing_key(dir_.path());
  server::AppOptions options;
  options.data_dir = dir_.path();
  options.server.host = "127.0.0.1";
  options.server.port = 0;
  options.server.io_threads = 2;
  options.server.worker_threads = 8;
  options.clock = &clock_;
  options.random = &random_;
  options.quiet = true;
  if (tweak) tweak(options);
  app_ = std::make_unique<server::App>(options);
  port_ = app_->start();
  http_ = std::make_unique<HttpClient>(port_);
}

TestServer::~TestServer() {
  http_.reset();
  app_.reset();
}

core::CreatedClient TestServer::create_client(const std::vector<std::string>& redirect_uris,
                                              const std::vector<std::string>& grants) {
  auto created = app_->registry().create_client(core::ClientSpec{"Test merchant", redirect_uris, grants});
  if (auto* err = std::get_if<std::string>(&created)) throw std::runtime_error(*err);
  return std::get<core::CreatedClient>(created);
}

boost::json::object TestServer::create_shopper(const core::CreatedClient& client, const std::string& body) {
  auto res = http_->request("POST", "/v1/testing/shopper/create",
                            {{"X-API-Key", client.client_secret}, {"Content-Type", "application/json"}}, body);
  EXPECT_EQ(res.status, 200) << res.body;
  auto v = res.json();
  if (!v.is_object()) throw std::runtime_error("shopper/create did not answer JSON: " + res.body);
  return v.as_object();
}

std::string TestServer::sandbox_code(const core::CreatedClient& client) {
  return std::string(create_shopper(client).at("oauth_code").as_string());
}

std::string TestServer::account_sub() {
  static std::atomic<int> n{0};
  core::AccountSpec spec;
  spec.email = "shopper" + std::to_string(n.fetch_add(1)) + "@example.com";
  spec.first_name = "Ada";
  spec.last_name = "Lovelace";
  spec.email_verified = true;
  auto created = app_->registry().create_account(spec);
  if (auto* err = std::get_if<std::string>(&created)) throw std::runtime_error(*err);
  return std::get<core::model::Account>(created).sub;
}

std::string TestServer::insert_code(const core::CreatedClient& client, const CodeSpec& spec) {
  core::model::Grant g;
  g.client_id = client.client.id;
  g.sub = account_sub();
  g.scope = spec.scope;
  g.redirect_uri = spec.redirect_uri;
  g.code_challenge = spec.code_challenge;
  g.nonce = spec.nonce;
  g.state = spec.state;
  g.auth_time = clock_.now() - 5;
  g.code_expires_at = clock_.now() + spec.ttl;
  return app_->services().tokens().issue_code(std::move(g), clock_.now());
}

HttpResponse TestServer::exchange(const core::CreatedClient& client, const std::string& code, const std::string& scope,
                                  const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> p{{"grant_type", "authorization_code"},
                                                     {"code", code},
                                                     {"client_id", client.client.publishable_key},
                                                     {"client_secret", client.client_secret},
                                                     {"scope", scope}};
  p.insert(p.end(), extra.begin(), extra.end());
  return http_->post_form("/v1/oauth/token", form(p));
}

HttpResponse TestServer::refresh(const core::CreatedClient& client, const std::string& refresh_token,
                                 const std::string& scope) {
  return http_->post_form("/v1/oauth/token", form({{"grant_type", "refresh_token"},
                                                   {"refresh_token", refresh_token},
                                                   {"client_id", client.client.publishable_key},
                                                   {"client_secret", client.client_secret},
                                                   {"scope", scope}}));
}

}  // namespace boltauth::testing
