#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/authorize/demo_endpoint.hpp"
#include "core/config.hpp"
#include "core/ports/purge_store.hpp"
#include "core/ports/store_metrics.hpp"
#include "core/provider.hpp"
#include "http/http_server.hpp"
#include "mail/otp_senders.hpp"

namespace boltauth::server {

class KeyMaterial;
class Metrics;

/// True for a `postgresql://` (or `postgres://`) store URL.
bool is_postgres_url(std::string_view url);
/// The default issuer for a server bound to `host`:`port`: `http://host:port`, an IPv6 address bracketed, and the
/// loopback address for a wildcard bind (with a warning unless `quiet`: set the issuer explicitly then).
std::string issuer_for(const std::string& host, std::uint16_t port, bool quiet);

struct AppOptions {
  core::Config config;
  bool issuer_from_listen = true;  // no issuer configured: derive it from the bound address
  std::filesystem::path data_dir = "data";
  http::ServerOptions server;
  int rsa_key_bits = 2048;
  /// `keys rotate`: seconds a new key is published before it signs (verifiers refetch the JWKS meanwhile).
  std::int64_t key_activation_delay = 3600;
  /// Seconds between janitor runs in `serve` (0 = never), and rows deleted per transaction.
  std::int64_t janitor_interval = 300;
  int janitor_batch = 500;
  int busy_timeout_ms = 10000;
  int read_connections = 4;
  /// `postgresql://...`: every store (and the server secrets, encrypted under the master key) in that PostgreSQL
  /// database, shared by several nodes; empty: SQLite in the data dir.
  std::string store_url;
  int store_connections = 16;             // PostgreSQL connections per process
  std::filesystem::path master_key_file;  // required with PostgreSQL (`boltauth master-key generate`)
  base::Clock* clock = nullptr;           // null: the system clock
  base::Random* random = nullptr;         // null: the kernel CSPRNG
  bool quiet = false;                     // no log lines (tests)
  /// `serve` logging: "text" or "json" lines, at "error", "warn", "info" or "debug" (refusals and their reasons).
  std::string log_format = "text";
  std::string log_level = "info";
  /// One-time login codes: "file" (<data_dir>/outbox/otp.jsonl, the default) or "smtp".
  std::string otp_delivery = "file";
  mail::SmtpOptions smtp;
  std::function<void()> commit_hook;  // tests only: SqliteDatabase::set_commit_hook (issue 6)
};

/// Storage, keys and the client registry of one data dir: what both the server and the admin CLI need.
class Services {
 public:
  explicit Services(const AppOptions& options);
  ~Services();
  core::ClientRegistry& registry();
  core::ports::PurgeStore& purge_store();
  core::ports::KeySource& keys();
  /// Where the server secrets live (the `keys` commands add and list keys through it).
  KeyMaterial& key_material();
  const base::Clock& clock() const;
  std::unique_ptr<core::Provider> make_provider(const core::Config& config,
                                                std::function<void(std::string_view)> log_error,
                                                std::function<void(std::string_view)> log_debug);
  /// True when this process created the database (the data dir was empty).
  bool fresh() const;
  /// Sandbox demo merchant: creates it (redirect URI `<issuer>/demo/callback`) and keeps its credentials in
  /// `<data_dir>/demo-client.json` (mode 0600) so that `/demo` can redeem codes. Returns the new client.
  std::optional<core::CreatedClient> create_demo_client(const std::string& issuer);
  /// The stored demo credentials, if this data dir has them.
  std::optional<core::authorize::DemoClient> demo_client() const;
  /// The store's group commit, for answers held until their writes are durable.
  core::ports::CommitGate& commit_gate();
  /// Issues and resolves tokens on this data dir's store and keys (tools and tests that mint codes directly).
  core::TokenService& tokens();
  /// True on a store several nodes share (PostgreSQL).
  bool shared_store() const;
  /// The store answers (readiness).
  bool ready() noexcept;
  /// Readiness for `/readyz`: empty when the store answers and accepts writes and the keys are loaded, else the
  /// name of the first failing check ("store_reachable", "store_writable", "keys_loaded").
  std::string readiness() noexcept;
  /// Reports the store's group commits to `metrics` (null: nothing). Call before serving.
  void set_store_metrics(core::ports::StoreMetrics* metrics) noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// The composition root: storage + keys + Provider + HTTP.
class App {
 public:
  explicit App(AppOptions options);
  ~App();

  /// Binds (port 0 = any), builds the provider and serves. Returns the port.
  std::uint16_t start();
  void stop();
  /// Serves until SIGTERM or SIGINT, then drains in-flight requests and stops; `on_stopping` runs first.
  void run_until_signal(const std::function<void()>& on_stopping = {});

  core::ClientRegistry& registry();
  const core::Config& config() const { return config_; }
  bool fresh() const;
  Services& services() { return *services_; }
  /// See Services::create_demo_client; call after start() (the issuer is known then).
  std::optional<core::CreatedClient> create_demo_client();
  /// Sandbox starts: the demo client exists and this issuer's `/demo/callback` is one of its redirect URIs,
  /// whatever an earlier start left (none: a first start that failed, a data dir set up by the CLI; another
  /// issuer: another port or host, whose callback it adds). Returns the client when it created one. On
  /// PostgreSQL (one demo client for all nodes would need their data dirs to agree) only on a database with no
  /// client at all.
  std::optional<core::CreatedClient> ensure_demo_client();

 private:
  AppOptions options_;
  core::Config config_;
  // Before services_: the store's committer reports to it until the store is closed.
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Services> services_;
  std::unique_ptr<core::Provider> provider_;
  std::unique_ptr<http::HttpServer> http_;

  core::Response metrics_response(const core::Request& r) const;
  void janitor_loop();
  std::thread janitor_;
  std::mutex janitor_mutex_;
  std::condition_variable janitor_cv_;
  bool janitor_stop_ = false;
  std::atomic<bool> janitor_abort_{false};
};

}  // namespace boltauth::server
