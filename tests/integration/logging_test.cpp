// Logging of the real binary: the line format (--log-format, BOLTAUTH_LOG_FORMAT, log_format).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <boost/json.hpp>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "integration/process_util.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

// Sets an environment variable for the child processes this test starts (each test is its own process).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

std::optional<boost::json::object> json_line(const std::string& line) {
  if (line.empty() || line.front() != '{') return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

std::string str(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The log lines of a server process: every stdout line that is not the CLI's own output (the demo banner and
// the "listening on" line).
std::vector<std::string> log_lines(ServerProcess& server) {
  std::vector<std::string> out;
  for (const auto& l : server.process().stdout_lines())
    if (!l.empty() && (l.front() == '{' || l.front() == '[')) out.push_back(l);
  return out;
}

const std::regex kTextLine(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[(error|warning|info|debug)\] .+$)");
const std::regex kRfc3339Utc(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$)");

void expect_json_log(ServerProcess& server) {
  const auto lines = log_lines(server);
  ASSERT_FALSE(lines.empty()) << server.process().stdout_text();
  bool saw_start = false;
  for (const auto& l : lines) {
    auto o = json_line(l);
    ASSERT_TRUE(o) << "not a JSON object: " << l;
    EXPECT_TRUE(std::regex_match(str(*o, "time"), kRfc3339Utc)) << l;
    EXPECT_TRUE(std::regex_match(str(*o, "level"), std::regex("error|warning|info|debug"))) << l;
    saw_start |= str(*o, "msg").rfind("boltauth sandbox mode", 0) == 0;
  }
  EXPECT_TRUE(saw_start) << server.process().stdout_text();
}

void expect_text_log(ServerProcess& server) {
  const auto lines = log_lines(server);
  ASSERT_FALSE(lines.empty()) << server.process().stdout_text();
  for (const auto& l : lines) EXPECT_TRUE(std::regex_match(l, kTextLine)) << l;
}

TEST(LogFormat, TextIsTheDefault) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path());
  expect_text_log(server);
}

TEST(LogFormat, JsonFromTheFlagWritesOneObjectPerLine) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--log-format", "json"});
  expect_json_log(server);
}

TEST(LogFormat, JsonFromTheEnvironmentAndTheFlagWins) {
  ScopedEnv env("BOLTAUTH_LOG_FORMAT", "json");
  {
    TempDir dir;
    install_test_signing_key(dir.path());
    ServerProcess server(BOLTAUTH_BINARY, dir.path());
    expect_json_log(server);
  }
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--log-format", "text"});
  expect_text_log(server);
}

TEST(LogFormat, JsonFromTheConfigFileAndTheEnvironmentWins) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto config = dir.path() / "boltauth.toml";
  std::ofstream(config) << "log_format = \"json\"\n";
  {
    ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--config", config.string()});
    expect_json_log(server);
  }
  ScopedEnv env("BOLTAUTH_LOG_FORMAT", "text");
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--config", config.string()});
  expect_text_log(server);
}

TEST(LogFormat, AnUnknownFormatIsRefused) {
  TempDir dir;
  auto r = run_command(
      {BOLTAUTH_BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().string(), "--log-format", "xml"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--log-format"), std::string::npos) << r.err;
  ScopedEnv env("BOLTAUTH_LOG_FORMAT", "yaml");
  auto e = run_command({BOLTAUTH_BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().string()});
  EXPECT_NE(e.exit_code, 0);
}

}  // namespace
}  // namespace boltauth::testing
