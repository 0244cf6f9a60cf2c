#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/config.hpp"
#include "core/provider.hpp"
#include "http/http_server.hpp"

namespace boltauth::server {

struct AppOptions {
  core::Config config;
  bool issuer_from_listen = true;  // no issuer configured: derive it from the bound address
  std::filesystem::path data_dir = "data";
  http::ServerOptions server;
  int rsa_key_bits = 2048;
  int busy_timeout_ms = 10000;
  int read_connections = 4;
  base::Clock* clock = nullptr;       // null: the system clock
  base::Random* random = nullptr;     // null: the kernel CSPRNG
  bool quiet = false;                 // no log lines (tests)
  std::function<void()> commit_hook;  // tests only: SqliteDatabase::set_commit_hook (issue 6)
};

/// Storage, keys and the client registry of one data dir: what both the server and the admin CLI need.
class Services {
 public:
  explicit Services(const AppOptions& options);
  ~Services();
  core::ClientRegistry& registry();
  std::unique_ptr<core::Provider> make_provider(const core::Config& config,
                                                std::function<void(std::string_view)> log_error,
                                                std::function<void(std::string_view)> log_debug);
  /// True when this process created the database (the data dir was empty).
  bool fresh() const;
  /// The store's group commit, for answers held until their writes are durable (issue 6).
  core::ports::CommitGate& commit_gate();

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
  void run_until_signal();

  core::ClientRegistry& registry();
  const core::Config& config() const { return config_; }
  bool fresh() const;

 private:
  AppOptions options_;
  core::Config config_;
  std::unique_ptr<Services> services_;
  std::unique_ptr<core::Provider> provider_;
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace boltauth::server
