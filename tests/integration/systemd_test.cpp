// The systemd unit in packaging/ and the notify protocol it relies on, over the real binary: systemd-analyze
// accepts the unit (pointing at this build's binary), and `serve` under a NOTIFY_SOCKET reports READY=1 only once
// it answers HTTP, then STOPPING=1 on SIGTERM, draining and exiting 0.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "integration/process_util.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::testing {
namespace {

const std::string kBinary = BOLTAUTH_BINARY;
const std::filesystem::path kUnit = std::filesystem::path(BOLTAUTH_SOURCE_DIR) / "packaging" / "boltauth.service";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The unit with ExecStart's /usr/bin/boltauth replaced by this build's binary (verify checks it exists).
std::filesystem::path unit_for_this_build(const TempDir& dir, const std::string& extra = {}) {
  std::string text = read_file(kUnit);
  const std::string installed = "/usr/bin/boltauth";
  const auto at = text.find("ExecStart=" + installed);
  EXPECT_NE(at, std::string::npos) << "the unit's ExecStart names " << installed;
  if (at != std::string::npos) text.replace(at + 10, installed.size(), kBinary);
  text += extra;
  const auto path = dir.path() / "boltauth.service";
  std::ofstream(path) << text;
  return path;
}

TEST(SystemdUnit, SystemdAnalyzeVerifyAcceptsIt) {
  TempDir dir;
  const auto r = run_command({"/usr/bin/systemd-analyze", "verify", unit_for_this_build(dir).string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "") << "no warnings either";
}

TEST(SystemdUnit, SystemdAnalyzeVerifyRefusesABrokenCopy) {
  // The check above can fail: an unknown directive in the same file is reported.
  TempDir dir;
  const auto r = run_command(
      {"/usr/bin/systemd-analyze", "verify", unit_for_this_build(dir, "\n[Service]\nTyp=notify\n").string()});
  EXPECT_NE(r.err.find("Typ"), std::string::npos) << r.out << r.err;
}

TEST(SystemdUnit, DeclaresNotifyAndHardening) {
  const std::string text = read_file(kUnit);
  for (const char* line : {"Type=notify", "KillSignal=SIGTERM", "NoNewPrivileges=yes", "ProtectSystem=strict",
                           "PrivateTmp=yes", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service"})
    EXPECT_NE(text.find(line), std::string::npos) << line;
}

/// A datagram socket bound where NOTIFY_SOCKET will point, as systemd's.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
      throw std::runtime_error("cannot bind " + path.string());
  }
  ~NotifySocket() { ::close(fd_); }
  /// The next message, or nothing within `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

TEST(SystemdNotify, ReadyOnceListeningStoppingOnSigterm) {
  TempDir dir;
  NotifySocket notify(dir.path() / "notify.sock");
  ::setenv("NOTIFY_SOCKET", (dir.path() / "notify.sock").c_str(), 1);
  ServerProcess server(kBinary, dir.path() / "data");
  ::unsetenv("NOTIFY_SOCKET");
  const auto ready = notify.receive(10s);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->rfind("READY=1\n", 0), 0u) << *ready;
  EXPECT_NE(ready->find("STATUS=listening on http://127.0.0.1:" + std::to_string(server.port())), std::string::npos)
      << *ready;
  // Ready means answering.
  HttpClient http(server.port());
  EXPECT_EQ(http.get("/healthz").status, 200);
  EXPECT_FALSE(notify.receive(100ms)) << "nothing more while it runs";

  ASSERT_TRUE(server.process().signal(SIGTERM));
  const auto stopping = notify.receive(10s);
  ASSERT_TRUE(stopping);
  EXPECT_EQ(*stopping, "STOPPING=1");
  const auto status = server.process().wait_exit(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

TEST(SystemdNotify, WithoutNotifySocketNothingIsSent) {
  // Outside systemd the server starts and stops as before (no socket named, nothing to fail on).
  TempDir dir;
  ::unsetenv("NOTIFY_SOCKET");
  ServerProcess server(kBinary, dir.path() / "data");
  HttpClient http(server.port());
  EXPECT_EQ(http.get("/healthz").status, 200);
  ASSERT_TRUE(server.process().signal(SIGTERM));
  const auto status = server.process().wait_exit(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

}  // namespace
}  // namespace boltauth::testing
