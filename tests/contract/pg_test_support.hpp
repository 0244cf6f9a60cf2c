#pragma once
// What the PostgreSQL contract tests share: a fresh database per test on the shared cluster, and a StoreSet over it.
#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "contract/store_contract.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_stores.hpp"
#include "support/pg_cluster.hpp"

namespace boltauth::contract {

/// A fresh, empty database on the shared cluster, dropped when the object dies.
class PgTestDatabase {
 public:
  explicit PgTestDatabase(testing::PgCluster& cluster = testing::PgCluster::shared())
      : cluster_(cluster), url_(cluster.create_database()) {}
  ~PgTestDatabase() {
    try {
      cluster_.drop_database(url_);
    } catch (...) {  // a cluster a test stopped takes its databases with it
    }
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;
  const std::string& url() const { return url_; }
  testing::PgCluster& cluster() { return cluster_; }
  /// Runs SQL on this database (assertions).
  std::string query(const std::string& sql) { return cluster_.query(url_, sql); }

 private:
  testing::PgCluster& cluster_;
  std::string url_;
};

/// Server processes stopped with SIGSTOP (a server that does not run: its kernel still keeps its connections up),
/// resumed by resume() or when the object dies, whatever the test did in between.
class StoppedProcesses {
 public:
  explicit StoppedProcesses(std::vector<pid_t> pids) : pids_(std::move(pids)) {
    for (const pid_t p : pids_)
      if (::kill(p, SIGSTOP) != 0 && error_.empty())
        error_ = "SIGSTOP " + std::to_string(p) + ": " + std::strerror(errno);
  }
  ~StoppedProcesses() { resume(); }
  StoppedProcesses(const StoppedProcesses&) = delete;
  StoppedProcesses& operator=(const StoppedProcesses&) = delete;
  /// Empty when every process was stopped.
  const std::string& error() const { return error_; }
  void resume() noexcept {
    for (const pid_t p : pids_) ::kill(p, SIGCONT);
  }

 private:
  std::vector<pid_t> pids_;
  std::string error_;
};

/// The backends of `control`'s database other than its own (the pool's, the read-ahead's, the batches').
inline std::vector<pid_t> other_backends(store::postgres::PgConnection& control) {
  const auto pids =
      control.exec("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
  std::vector<pid_t> backends;
  for (int i = 0; i < pids.rows(); ++i) backends.push_back(static_cast<pid_t>(std::stol(pids.text(i, 0))));
  return backends;
}

inline store::postgres::PgOptions pg_options(const std::string& url, int connections = 16) {
  store::postgres::PgOptions options;
  options.url = url;
  options.connections = connections;
  return options;
}

/// Every PostgreSQL store over one pool; migrates on open, as the server's start does.
class PgStoreSet final : public StoreSet {
 public:
  explicit PgStoreSet(store::postgres::PgOptions options) : db_(std::move(options)) { db_.migrate(); }
  core::ports::ClientStore& clients() override { return clients_; }
  core::ports::AccountStore& accounts() override { return accounts_; }
  core::ports::GrantStore& grants() override { return grants_; }
  core::ports::PurgeStore& purge() override { return purge_; }
  core::ports::LoginStore& logins() override { return logins_; }
  core::ports::AddressStore& addresses() override { return addresses_; }
  core::ports::IdempotencyStore& idempotency() override { return idempotency_; }
  void put_clear_otp_code(std::string_view sub, std::string_view code) override {
    db_.run([&](store::postgres::PgConnection& c) {
      return c.exec("UPDATE accounts SET otp_code = $2, otp_hash = NULL WHERE sub = $1", {sub, code}).affected();
    });
  }
  std::optional<std::string> clear_otp_code(std::string_view sub) override {
    return db_.run([&](store::postgres::PgConnection& c) {
      return c.exec("SELECT otp_code FROM accounts WHERE sub = $1", {sub}).optional_text(0, 0);
    });
  }
  store::postgres::PgThrottleStore& throttle() { return throttle_; }
  store::postgres::PgSecretStore& secrets() { return secrets_; }
  store::postgres::PgDatabase& db() { return db_; }

 private:
  store::postgres::PgDatabase db_;
  store::postgres::PgClientStore clients_{db_};
  store::postgres::PgAccountStore accounts_{db_};
  store::postgres::PgGrantStore grants_{db_};
  store::postgres::PgPurgeStore purge_{db_};
  store::postgres::PgLoginStore logins_{db_};
  store::postgres::PgThrottleStore throttle_{db_};
  store::postgres::PgSecretStore secrets_{db_};
  store::postgres::PgAddressStore addresses_{db_};
  store::postgres::PgIdempotencyStore idempotency_{db_};
};

}  // namespace boltauth::contract
