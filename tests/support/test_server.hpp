#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/client_registry.hpp"
#include "core/config.hpp"
#include "server/app.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::testing {

/// A real boltauth server in this process: real SQLite file in a temp dir (or, with BOLTAUTH_TEST_STORE=postgres in
/// the environment, a fresh database of the test PostgreSQL cluster), real HTTP on 127.0.0.1 port 0,
/// a manual clock and seeded randomness (deterministic tests). Signing keys are generated once per test process
/// and copied in, since RSA key generation is slow.
class TestServer {
 public:
  explicit TestServer(std::function<void(server::AppOptions&)> tweak = {});
  ~TestServer();

  std::uint16_t port() const { return port_; }
  base::ManualClock& clock() { return clock_; }
  server::App& app() { return *app_; }
  const std::filesystem::path& data_dir() const { return dir_.path(); }
  std::string issuer() const { return app_->config().issuer; }

  /// A client allowed authorization_code + refresh_token (or `grants`).
  core::CreatedClient create_client(const std::vector<std::string>& redirect_uris = {},
                                    const std::vector<std::string>& grants = {});
  /// `POST /v1/testing/shopper/create` as `client`; returns the JSON body (asserts a 200).
  boost::json::object create_shopper(const core::CreatedClient& client, const std::string& body = "{}");
  /// The code of a fresh sandbox shopper.
  std::string sandbox_code(const core::CreatedClient& client);

  /// Exchanges a code with body credentials and the given scope.
  HttpResponse exchange(const core::CreatedClient& client, const std::string& code,
                        const std::string& scope = "bolt.account.manage openid",
                        const std::vector<std::pair<std::string, std::string>>& extra = {});
  HttpResponse refresh(const core::CreatedClient& client, const std::string& refresh_token,
                       const std::string& scope = "bolt.account.view");

  HttpClient& http() { return *http_; }

  /// Bindings of a code made directly in the store (the authorization endpoint that makes such codes
  /// arrives later; the sandbox endpoint makes unbound ones).
  struct CodeSpec {
    std::string scope = "bolt.account.manage bolt.account.view openid";
    std::string redirect_uri;
    std::string code_challenge;
    std::string nonce;
    std::string state;
    std::int64_t ttl = 300;
  };
  /// Creates an account and a code for `client` directly in the server's store (a pending grant with these
  /// bindings), sealed with the server's own keys. Returns the code.
  std::string insert_code(const core::CreatedClient& client, const CodeSpec& spec);
  /// Creates a verified account (Ada Lovelace) and returns its sub.
  std::string account_sub();

  // --- the store from outside, whichever backend this server runs on ------------------------------------------
  /// True when the store is PostgreSQL (BOLTAUTH_TEST_STORE=postgres), false for the SQLite data dir.
  bool on_postgres() const { return !options_.store_url.empty(); }
  /// Options for another server or tool on this server's store (its data dir, or its database and master key),
  /// with this server's clock and port 0.
  server::AppOptions same_store_options() const;
  /// The command-line options that name this server's store (`--data-dir D` or `--store-url U --master-key-file F`).
  std::vector<std::string> cli_store_args() const;
  /// Runs SQL on the store from another connection, as another process would (`sqlite_sql` on SQLite, `pg_sql`
  /// on PostgreSQL). Throws std::runtime_error when it fails.
  void store_exec(const std::string& sqlite_sql, const std::string& pg_sql);
  /// The single integer a COUNT-like query answers (the SQL must be valid on both backends).
  std::int64_t store_count(const std::string& sql);
  /// Everything a stolen copy of the store holds, as text: the SQLite files' bytes, or every row of every table.
  std::string store_dump();
  /// Makes the store unavailable to the server until the returned object dies: on SQLite another connection
  /// holds the write lock (the server waits busy_timeout_ms, then fails); on PostgreSQL the database refuses
  /// connections and the server's connections are ended (as in a database restart).
  std::shared_ptr<void> store_outage();

 private:
  TempDir dir_;
  server::AppOptions options_;
  base::ManualClock clock_;
  base::SeededRandom random_;
  std::unique_ptr<server::App> app_;
  std::uint16_t port_ = 0;
  std::unique_ptr<HttpClient> http_;
};

/// Copies the process-wide pre-generated signing key into `data_dir` (so a spawned server skips RSA keygen).
void install_test_signing_key(const std::filesystem::path& data_dir);

}  // namespace boltauth::testing
