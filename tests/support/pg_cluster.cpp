#include "support/pg_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace boltauth::testing {
namespace {

namespace fs = std::filesystem;

const fs::path bin_dir = "/usr/lib/postgresql/15/bin";

bool is_root() { return ::geteuid() == 0; }

/// PostgreSQL refuses to run as root: as root, its programs run as the `postgres` system user.
std::vector<std::string> as_server_user(std::vector<std::string> argv) {
  if (!is_root()) return argv;
  argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  return argv;
}

std::string tail_of(const fs::path& log) {
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

/// Runs `argv` with stdin from /dev/null and stdout/stderr appended to `log`, in `cwd`; returns its exit status.
int run_process(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string cwd_text = cwd.string();
  const std::string log_text = log.string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int out = ::open(log_text.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
    if (::chdir(cwd_text.c_str()) != 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void run_or_throw(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& log) {
  if (run_process(argv, cwd, log) == 0) return;
  std::string command;
  for (const auto& a : argv) command += a + " ";
  throw std::runtime_error("pg_cluster: `" + command + "` failed:\n" + tail_of(log));
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("pg_cluster: socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("pg_cluster: no free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

void chown_to_server_user(const fs::path& path) {
  if (!is_root()) return;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("pg_cluster: running as root needs the `postgres` user (scripts/setup)");
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("pg_cluster: chown failed");
}

std::string database_of(const std::string& url) {
  std::string name = url.substr(url.rfind('/') + 1);
  return name.substr(0, name.find('?'));
}

std::string with_database(const std::string& url, const std::string& name) {
  return url.substr(0, url.rfind('/') + 1) + name;
}

/// `sql` on `url`; rows joined by '\n', columns by '|'. `options`: server settings for this session.
std::string run_sql(const std::string& url, const std::string& sql, const char* options = "") {
  const char* const keywords[] = {"dbname", "options", nullptr};
  const char* const values[] = {url.c_str(), options, nullptr};
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keywords, values, 1), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("pg_cluster: cannot connect to " + url + ": " + PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  const auto status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    throw std::runtime_error("pg_cluster: `" + sql + "` failed: " + PQerrorMessage(conn.get()));
  std::string out;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    if (row > 0) out += '\n';
    for (int column = 0; column < PQnfields(result.get()); ++column) {
      if (column > 0) out += '|';
      out += PQgetvalue(result.get(), row, column);
    }
  }
  return out;
}

// CREATE DATABASE copies ~7 MB of catalog pages through the WAL; waiting for their flush would cost most of a
// second per test. Not waiting is safe for the durability tests: a later synchronous commit flushes the WAL up to
// its own record, so everything before it, the new database included.
const char* const no_commit_wait = "-c synchronous_commit=off";

std::string read_trimmed(const fs::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

PgCluster& PgCluster::shared() {
  static const std::unique_ptr<PgCluster> cluster = []() -> std::unique_ptr<PgCluster> {
    if (const char* url = std::getenv("BOLTAUTH_TEST_PG_URL"); url != nullptr && *url != '\0')
      return std::unique_ptr<PgCluster>(new PgCluster(Attached{}, url, false));
    if (const char* file = std::getenv("BOLTAUTH_TEST_PG_URL_FILE"); file != nullptr && fs::exists(file)) {
      const std::string url = read_trimmed(file);
      if (url.empty()) throw std::runtime_error(std::string("pg_cluster: empty URL file ") + file);
      return std::unique_ptr<PgCluster>(new PgCluster(Attached{}, url, true));
    }
    return std::make_unique<PgCluster>();
  }();
  return *cluster;
}

PgCluster::PgCluster(Attached, std::string maintenance_url, bool defer_drops)
    : owned_(false), running_(true), defer_drops_(defer_drops) {
  // postgresql://USER@HOST:PORT/DB
  const std::size_t at = maintenance_url.find('@');
  const std::size_t colon = maintenance_url.find(':', at);
  const std::size_t slash = maintenance_url.find('/', colon);
  if (at == std::string::npos || colon == std::string::npos || slash == std::string::npos)
    throw std::runtime_error("pg_cluster: cannot parse " + maintenance_url);
  superuser_ = maintenance_url.substr(maintenance_url.find("://") + 3, at - maintenance_url.find("://") - 3);
  host_ = maintenance_url.substr(at + 1, colon - at - 1);
  port_ = static_cast<std::uint16_t>(std::stoi(maintenance_url.substr(colon + 1, slash - colon - 1)));
}

PgCluster::PgCluster() {
  std::string tmpl = (fs::temp_directory_path() / "boltauth-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("pg_cluster: mkdtemp failed");
  dir_ = tmpl;
  try {
    chown_to_server_user(dir_);
    start_watchdog();  // from here on, a killed test process leaves nothing behind
    run_or_throw(as_server_user({(bin_dir / "initdb").string(), "-D", (dir_ / "data").string(), "-U", superuser_,
                                 "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"}),
                 dir_, dir_ / "initdb.log");
    {
      std::ofstream conf(dir_ / "data" / "postgresql.conf", std::ios::app);
      conf << "\n# boltauth tests\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '" << dir_.string()
           << "'\nfsync = on\nsynchronous_commit = on\nshared_buffers = 64MB\nmax_connections = 300\n"
           // Every commit is still flushed; only checkpoints (whose cost is what the tests' new databases left
           // dirty) wait for the end of a run.
           << "max_wal_size = 2GB\ncheckpoint_timeout = 30min\n";
    }
    {
      std::ofstream hba(dir_ / "data" / "pg_hba.conf", std::ios::trunc);
      hba << "local all all trust\nhost all " << password_user << " 127.0.0.1/32 scram-sha-256\n"
          << "host all all 127.0.0.1/32 trust\n";
    }
    // Another process may take the port between the probe and the start: try a few.
    for (int attempt = 0;; ++attempt) {
      port_ = free_port();
      try {
        start();
        break;
      } catch (const std::exception&) {
        if (attempt == 4) throw;
      }
    }
    run_sql(maintenance_url(),
            "CREATE ROLE " + std::string(password_user) + " LOGIN SUPERUSER PASSWORD '" + std::string(password) + "'");
  } catch (...) {
    if (running_) stop();
    stop_watchdog();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

PgCluster::~PgCluster() {
  if (spare_.joinable()) spare_.join();
  if (!owned_) return;
  try {
    if (running_) stop();
  } catch (...) {  // the watchdog below would not help either; the dir goes anyway
  }
  stop_watchdog();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void PgCluster::start_watchdog() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pg_cluster: pipe failed");
  const std::string data = (dir_ / "data").string();
  std::string stop = (bin_dir / "pg_ctl").string() + " -D '" + data + "' -m immediate -w stop";
  if (is_root()) stop = "/usr/sbin/runuser -u postgres -- " + stop;
  const std::string script = "read _; " + stop + "; rm -rf '" + dir_.string() + "'";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("pg_cluster: fork failed");
  if (pid == 0) {
    // Waits until the test process closes the pipe: at exit, or when it is killed.
    const int null = ::open("/dev/null", O_WRONLY);
    if (::dup2(fds[0], 0) < 0 || null < 0 || ::dup2(null, 1) < 0 || ::dup2(null, 2) < 0) ::_exit(126);
    ::setsid();  // not in the test's process group: a ^C to the test does not kill the clean-up
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  watchdog_fd_ = fds[1];
  watchdog_pid_ = pid;
}

void PgCluster::stop_watchdog() {
  if (watchdog_pid_ > 0) {
    ::kill(watchdog_pid_, SIGKILL);
    int status = 0;
    ::waitpid(watchdog_pid_, &status, 0);
    watchdog_pid_ = -1;
  }
  if (watchdog_fd_ >= 0) ::close(watchdog_fd_);
  watchdog_fd_ = -1;
}

void PgCluster::detach() {
  stop_watchdog();
  owned_ = false;
}

void PgCluster::destroy(const fs::path& directory) {
  if (fs::exists(directory / "data" / "postmaster.pid"))
    run_process(as_server_user({(bin_dir / "pg_ctl").string(), "-D", (directory / "data").string(), "-m", "immediate",
                                "-w", "stop"}),
                "/", "/dev/null");
  std::error_code ec;
  fs::remove_all(directory, ec);
}

void PgCluster::stop() {
  if (!owned_) throw std::logic_error("pg_cluster: stop() on a cluster this process does not own");
  run_or_throw(
      as_server_user({(bin_dir / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"}),
      dir_, dir_ / "pg_ctl.log");
  running_ = false;
}

void PgCluster::start() {
  if (!owned_) throw std::logic_error("pg_cluster: start() on a cluster this process does not own");
  run_or_throw(
      as_server_user({(bin_dir / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-l",
                      (dir_ / "server.log").string(), "-o", "-p " + std::to_string(port_), "-w", "-t", "60", "start"}),
      dir_, dir_ / "pg_ctl.log");
  running_ = true;
}

void PgCluster::restart() {
  stop();
  start();
}

std::string PgCluster::maintenance_url() const {
  return "postgresql://" + superuser_ + "@" + host_ + ":" + std::to_string(port_) + "/postgres";
}

std::string PgCluster::password_url(const std::string& database_url, std::string_view pw) const {
  return "postgresql://" + std::string(password_user) + ":" + std::string(pw) + "@" + host_ + ":" +
         std::to_string(port_) + "/" + database_of(database_url);
}

std::string PgCluster::create_database() {
  static std::atomic<int> counter{0};
  const std::string name = "boltauth_t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  bool claimed = false;
  if (!owned_) {
    // Renaming is atomic: of two processes claiming one spare, the second gets an error and tries another.
    for (int attempt = 0; attempt < 3 && !claimed; ++attempt) {
      const std::string spare = run_sql(maintenance_url(),
                                        "SELECT datname FROM pg_database WHERE datname LIKE 'boltauth_spare_%' "
                                        "ORDER BY random() LIMIT 1");
      if (spare.empty()) break;
      try {
        run_sql(maintenance_url(), "ALTER DATABASE " + spare + " RENAME TO " + name, no_commit_wait);
        claimed = true;
      } catch (const std::exception&) {
      }
    }
    prepare_spare();
  }
  if (!claimed) run_sql(maintenance_url(), "CREATE DATABASE " + name, no_commit_wait);
  return with_database(maintenance_url(), name);
}

void PgCluster::prepare_spare() {
  if (spare_.joinable()) spare_.join();
  static std::atomic<int> counter{0};
  const std::string name = "boltauth_spare_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  spare_ = std::thread([url = maintenance_url(), name] {
    try {
      run_sql(url, "CREATE DATABASE " + name, no_commit_wait);
    } catch (const std::exception&) {  // only a lost speed-up: the next call creates its database itself
    }
  });
}

void PgCluster::drop_database(const std::string& url) {
  if (defer_drops_) {
    run_sql(maintenance_url(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database_of(url) + "'");
    run_sql(maintenance_url(), "ALTER DATABASE " + database_of(url) + " RENAME TO dropped_" + database_of(url),
            no_commit_wait);
    return;
  }
  run_sql(maintenance_url(), "DROP DATABASE IF EXISTS " + database_of(url) + " WITH (FORCE)", no_commit_wait);
}

std::string PgCluster::query(const std::string& database_url, const std::string& sql) {
  return run_sql(database_url, sql);
}

}  // namespace boltauth::testing
