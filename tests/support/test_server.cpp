#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>
#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string_view>
#include <thread>

#include <unistd.h>

#include "crypto/signing_key.hpp"
#include "crypto/token_minter.hpp"
#include "server/key_files.hpp"
#include "server/master_key.hpp"
#include "store/postgres/pg_database.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"
#include "support/pg_cluster.hpp"

namespace boltauth::testing {
namespace {

// CTest runs each test in a process of its own, so a key made once per process is still one RSA key generation
// (most of a small integration test's time) per test. The key is kept in the build folder instead: the first
// process writes it (a private name, then rename, so a reader never sees half a file; two first processes at once
// both write a whole key and the last rename wins), every later one reads it.
std::string load_or_make_signing_pem() {
  const std::filesystem::path cached = BOLTAUTH_TEST_SIGNING_KEY_FILE;
  if (std::ifstream in(cached); in) {
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (pem.find("-----END PRIVATE KEY-----") != std::string::npos) return pem;
  }
  std::string pem = crypto::SigningKey::generate_rsa(2048).private_pem();
  std::error_code ec;
  std::filesystem::create_directories(cached.parent_path(), ec);
  const auto temp = cached.string() + "." + std::to_string(::getpid()) + ".tmp";
  if (std::ofstream out(temp, std::ios::binary); out && (out << pem) && out.flush()) {
    std::filesystem::rename(temp, cached, ec);
  }
  std::filesystem::remove(temp, ec);
  return pem;
}

const std::string& shared_signing_pem() {
  static const std::string pem = load_or_make_signing_pem();
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
  if (const char* store = std::getenv("BOLTAUTH_TEST_STORE"); store && std::string_view(store) == "postgres") {
    // The same tests against PostgreSQL: a fresh database of the test cluster, migrated, and a master key.
    ::setenv("BOLTAUTH_TEST_PG_URL_FILE", BOLTAUTH_PG_TEST_URL_FILE, 0);
    options.store_url = PgCluster::shared().create_database();
    store::postgres::PgDatabase(store::postgres::PgOptions{options.store_url, 1}).migrate();
    options.master_key_file = dir_.path() / "master.key";
    server::generate_master_key_file(options.master_key_file, random_);
  }
  if (tweak) tweak(options);
  options_ = options;
  app_ = std::make_unique<server::App>(options);
  port_ = app_->start();
  http_ = std::make_unique<HttpClient>(port_);
}

server::AppOptions TestServer::same_store_options() const {
  server::AppOptions o;
  o.data_dir = options_.data_dir;
  o.store_url = options_.store_url;
  o.master_key_file = options_.master_key_file;
  o.server.host = "127.0.0.1";
  o.server.port = 0;
  o.quiet = true;
  o.clock = options_.clock;
  return o;
}

std::vector<std::string> TestServer::cli_store_args() const {
  if (on_postgres()) return {"--store-url", options_.store_url, "--master-key-file", options_.master_key_file.string()};
  return {"--data-dir", options_.data_dir.string()};
}

namespace {

std::string database_name(const std::string& url) {
  auto path = url.substr(url.rfind('/') + 1);
  return path.substr(0, path.find('?'));
}

void sqlite_exec(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + file.string());
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("sqlite: " + message + " in: " + sql);
}

}  // namespace

void TestServer::store_exec(const std::string& sqlite_sql, const std::string& pg_sql) {
  if (on_postgres())
    PgCluster::shared().query(options_.store_url, pg_sql);
  else
    sqlite_exec(options_.data_dir / "boltauth.db", sqlite_sql);
}

std::int64_t TestServer::store_count(const std::string& sql) {
  if (on_postgres()) return std::stoll(PgCluster::shared().query(options_.store_url, sql));
  sqlite3* db = nullptr;
  const auto file = options_.data_dir / "boltauth.db";
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + file.string());
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (n < 0) throw std::runtime_error("sqlite count failed: " + sql);
  return n;
}

std::string TestServer::store_dump() {
  std::string out;
  if (on_postgres()) {
    auto& pg = PgCluster::shared();
    const auto tables = pg.query(options_.store_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    std::size_t start = 0;
    while (start < tables.size()) {
      auto end = tables.find('\n', start);
      if (end == std::string::npos) end = tables.size();
      const auto table = tables.substr(start, end - start);
      if (!table.empty()) out += pg.query(options_.store_url, "SELECT t::text FROM \"" + table + "\" t") + "\n";
      start = end + 1;
    }
    return out;
  }
  for (const char* name : {"boltauth.db", "boltauth.db-wal"}) {
    std::ifstream in(options_.data_dir / name, std::ios::binary);
    out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

std::shared_ptr<void> TestServer::store_outage() {
  if (on_postgres()) {
    auto& pg = PgCluster::shared();
    const std::string name = database_name(options_.store_url);
    pg.query(pg.maintenance_url(), "ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS false");
    pg.query(pg.maintenance_url(),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
    // Termination is asynchronous: wait until the server's connections are really gone.
    for (int i = 0; i < 100; ++i) {
      if (pg.query(pg.maintenance_url(), "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + name + "'") == "0")
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::shared_ptr<void>(nullptr, [name](void*) {
      auto& cluster = PgCluster::shared();
      cluster.query(cluster.maintenance_url(), "ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS true");
    });
  }
  sqlite3* db = nullptr;
  const auto file = options_.data_dir / "boltauth.db";
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + file.string());
  sqlite3_busy_timeout(db, 5000);
  if (sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot lock " + file.string());
  }
  return std::shared_ptr<void>(db, [](void* p) {
    auto* handle = static_cast<sqlite3*>(p);
    sqlite3_exec(handle, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(handle);
  });
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
