#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

namespace boltauth::testing {

/// A throwaway PostgreSQL 15 cluster for tests: initdb into a fresh temp dir, a free TCP port on 127.0.0.1, the
/// unix socket inside the dir, fsync on (durability is tested), trust auth for the superuser `boltauth` and
/// password (SCRAM) auth for `boltauth_pw`. As root, the dir belongs to the `postgres` system user and initdb and
/// pg_ctl run as that user (PostgreSQL refuses to run as root). The system's own cluster is never used.
///
/// A cluster this object owns is stopped and its dir removed when it dies; should the process be killed instead, a
/// watchdog process started with the cluster does the same as soon as the process is gone.
class PgCluster {
 public:
  /// The cluster for this test process: the one named by env BOLTAUTH_TEST_PG_URL (a maintenance URL of a running
  /// cluster) or by the file named in BOLTAUTH_TEST_PG_URL_FILE (written by CTest's postgres fixture), or else one
  /// started now and stopped at process exit.
  static PgCluster& shared();

  /// Initializes and starts a cluster of its own.
  PgCluster();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  /// A fresh, empty database (never migrated) and its URL (postgresql://boltauth@127.0.0.1:PORT/NAME).
  /// CREATE DATABASE copies ~7 MB and takes 100-500 ms on a slow disk, so on a cluster shared between test
  /// processes a spare empty database is made in the background after each call, and the next call (of this or
  /// another process) renames a spare instead: a few milliseconds.
  std::string create_database();
  /// Drops the database of `url` (connections to it are terminated). On CTest's fixture cluster, which is removed
  /// whole at the end of the run, the database is only renamed out of the way: DROP DATABASE forces a checkpoint,
  /// which on a slow disk costs more than the test.
  void drop_database(const std::string& url);

  /// Fault injection, for a cluster this object owns: stop (immediate: like a crash), start, restart.
  void stop();
  void start();
  void restart();
  bool owned() const noexcept { return owned_; }

  std::uint16_t port() const noexcept { return port_; }
  /// postgresql://boltauth@127.0.0.1:PORT/postgres
  std::string maintenance_url() const;
  /// The URL of `database_url`'s database for the password user, with `password` in it.
  std::string password_url(const std::string& database_url, std::string_view password) const;
  /// The password user's real password.
  static constexpr std::string_view password_user = "boltauth_pw";
  static constexpr std::string_view password = "correct-horse-battery-staple";

  /// Runs `sql` on `database_url`'s database; returns the rows, columns separated by '|' and rows by '\n'. Throws
  /// std::runtime_error on failure.
  std::string query(const std::string& database_url, const std::string& sql);

  /// For CTest's fixture: the cluster keeps running after this object dies (no watchdog); destroy() ends it.
  void detach();
  const std::filesystem::path& directory() const noexcept { return dir_; }
  /// Stops the cluster in `directory` (if running) and removes the directory.
  static void destroy(const std::filesystem::path& directory);

 private:
  struct Attached {};
  PgCluster(Attached, std::string maintenance_url, bool defer_drops);
  void start_watchdog();
  void stop_watchdog();
  void prepare_spare();

  bool owned_ = true;
  bool running_ = false;
  bool defer_drops_ = false;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::string host_ = "127.0.0.1";
  std::string superuser_ = "boltauth";
  int watchdog_fd_ = -1;  // write end of the pipe the watchdog waits on
  int watchdog_pid_ = -1;
  std::thread spare_;  // creating the next spare database
};

}  // namespace boltauth::testing
