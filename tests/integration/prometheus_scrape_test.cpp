// A real Prometheus (Debian's, installed by scripts/setup) scrapes the server's /metrics on loopback.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "integration/process_util.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

// A loopback port free now (Prometheus cannot listen on port 0 and report it back).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("no free port");
  const auto port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// The samples an instant query answers: (labels, value) pairs; empty when Prometheus does not answer yet.
std::vector<std::pair<boost::json::object, std::string>> query(std::uint16_t port, const std::string& promql) {
  std::vector<std::pair<boost::json::object, std::string>> out;
  try {
    HttpClient http(port);
    auto res = http.get("/api/v1/query?query=" + form({{"q", promql}}).substr(2));
    if (res.status != 200) return out;
    const auto v = res.json();
    const auto* data = v.is_object() ? v.as_object().if_contains("data") : nullptr;
    const auto* result = data && data->is_object() ? data->as_object().if_contains("result") : nullptr;
    if (!result || !result->is_array()) return out;
    for (const auto& r : result->as_array())
      out.emplace_back(r.at("metric").as_object(), std::string(r.at("value").as_array().at(1).as_string()));
  } catch (const std::exception&) {
    out.clear();  // not listening yet
  }
  return out;
}

TEST(PrometheusScrape, ARealPrometheusSeesTheTargetUpAndItsMetrics) {
  TestServer server;
  ASSERT_EQ(server.http().get("/healthz").status, 200);  // one request for the counters
  TempDir dir;
  const auto prometheus_port = free_port();
  const auto config = dir.path() / "prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        << "scrape_configs:\n  - job_name: boltauth\n    static_configs:\n"
                        << "      - targets: ['127.0.0.1:" << server.port() << "']\n";
  ChildProcess prometheus({"/usr/bin/prometheus", "--config.file=" + config.string(),
                           "--storage.tsdb.path=" + (dir.path() / "data").string(),
                           "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)});
  bool up = false, scraped = false;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline && !(up && scraped)) {
    std::this_thread::sleep_for(250ms);
    for (const auto& [labels, value] : query(prometheus_port, "up{job=\"boltauth\"}")) up |= value == "1";
    for (const auto& [labels, value] :
         query(prometheus_port, "boltauth_http_requests_total{route=\"/healthz\",status=\"200\"}"))
      scraped |= std::stod(value) >= 1;
  }
  EXPECT_TRUE(up) << prometheus.stderr_text();
  EXPECT_TRUE(scraped) << prometheus.stderr_text();
  auto info = query(prometheus_port, "boltauth_build_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].second, "1");
  EXPECT_EQ(std::string(info[0].first.at("store").as_string()), server.on_postgres() ? "postgresql" : "sqlite");
  ASSERT_TRUE(prometheus.signal(SIGTERM));
  const auto status = prometheus.wait_exit(30s);
  EXPECT_TRUE(status.has_value());
}

}  // namespace
}  // namespace boltauth::testing
