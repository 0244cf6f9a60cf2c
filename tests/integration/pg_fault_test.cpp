// Faults under load with several nodes on PostgreSQL, black-box: the database restarted (answers in flight get
// 503 + Retry-After, never a 200 for an unwritten change; the nodes reconnect by themselves; nothing answered
// before is lost), and one node killed with SIGKILL (the others keep serving).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "integration/process_util.hpp"
#include "support/http_client.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::testing {
namespace {

const std::string kBinary = BOLTAUTH_BINARY;

std::string field(const std::string& body, const char* name) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains(name)) return {};
  return std::string(v.as_object().at(name).as_string());
}

/// Two nodes on a database of a cluster this test owns (so it may restart it).
class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = cluster_.create_database();
    key_ = dir_.path() / "master.key";
    ASSERT_EQ(run_command({kBinary, "master-key", "generate", "--out", key_.string()}).exit_code, 0);
    ASSERT_EQ(run_command({kBinary, "migrate", "--store-url", url_}).exit_code, 0);
    auto created = run_command({kBinary, "client", "create", "--store-url", url_, "--master-key-file", key_.string(),
                                "--name", "Shop", "--json"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    client_id_ = field(created.out, "client_id");
    secret_ = field(created.out, "client_secret");
    for (int i = 0; i < 2; ++i)
      nodes_.push_back(std::make_unique<ServerProcess>(
          kBinary, dir_.path() / ("node" + std::to_string(i)),
          std::vector<std::string>{"--store-url", url_, "--master-key-file", key_.string()}));
  }

  std::string creds() const { return "&client_id=" + form_value(client_id_) + "&client_secret=" + form_value(secret_); }
  static std::string form_value(const std::string& v) { return form({{"x", v}}).substr(2); }

  /// One worker's loop: a sandbox code, its exchange, then refreshes of that family until told to stop. Every 200
  /// is recorded; after a non-200 the family is abandoned (its last answered token is what must survive).
  void worker(std::uint16_t port, const std::atomic<bool>& stop) {
    HttpClient http(port);
    std::string refresh;
    while (!stop.load()) {
      HttpResponse r;
      if (refresh.empty()) {
        r = http.request("POST", "/v1/testing/shopper/create",
                         {{"X-API-Key", secret_}, {"Content-Type", "application/json"}}, "{}");
        if (r.status == 200) {
          record(r, "shopper");
          r = http.post_form("/v1/oauth/token",
                             "grant_type=authorization_code&code=" + form_value(field(r.body, "oauth_code")) +
                                 "&scope=bolt.account.manage+openid" + creds());
        }
      } else {
        r = http.post_form("/v1/oauth/token", "grant_type=refresh_token&refresh_token=" + form_value(refresh) +
                                                  "&scope=bolt.account.view" + creds());
      }
      record(r, "token");
      if (r.status == 200 && !field(r.body, "refresh_token").empty()) {
        const std::string next = field(r.body, "refresh_token");
        std::lock_guard lock(mutex_);
        if (!refresh.empty()) superseded_.push_back(refresh);
        latest_.erase(refresh);
        latest_[next] = true;
        refresh = next;
      } else {
        // The outcome of a 503 is unknown (a COMMIT whose answer was lost may have happened): stop checking
        // this family.
        std::lock_guard lock(mutex_);
        latest_.erase(refresh);
        refresh.clear();
      }
    }
  }

  void record(const HttpResponse& r, const char* what) {
    std::lock_guard lock(mutex_);
    ++statuses_[r.status];
    if (r.status >= 500 && r.status != 503)
      bad_.push_back(std::string(what) + " " + std::to_string(r.status) + " " + r.body);
    if (r.status == 503 && !r.header("retry-after")) bad_.push_back(std::string(what) + " 503 without Retry-After");
    if (r.status != 200 && r.status != 503)
      bad_.push_back(std::string(what) + " " + std::to_string(r.status) + " " + r.body);
  }

  PgCluster cluster_;
  TempDir dir_;
  std::string url_, client_id_, secret_;
  std::filesystem::path key_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::mutex mutex_;
  std::map<int, int> statuses_;
  std::vector<std::string> bad_;
  std::map<std::string, bool> latest_;   // each family's newest answered refresh token
  std::vector<std::string> superseded_;  // answered tokens that a later answered rotation replaced
};

TEST_F(FaultTest, PostgresRestartedUnderLoadLosesNothingAnsweredAndNodesReconnect) {
  std::atomic<bool> stop{false};
  {
    std::vector<std::jthread> workers;
    for (int i = 0; i < 8; ++i)
      workers.emplace_back([&, i] { worker(nodes_[static_cast<std::size_t>(i % 2)]->port(), stop); });
    std::this_thread::sleep_for(1500ms);
    cluster_.restart();  // immediate stop (a crash for PostgreSQL), then start
    std::this_thread::sleep_for(3000ms);
    stop = true;
  }
  for (const auto& b : bad_) ADD_FAILURE() << b;
  EXPECT_GT(statuses_[200], 50);
  // Both nodes reconnected by themselves: a fresh request on each succeeds.
  for (auto& n : nodes_) {
    HttpClient http(n->port());
    auto r = http.request("POST", "/v1/testing/shopper/create",
                          {{"X-API-Key", secret_}, {"Content-Type", "application/json"}}, "{}");
    EXPECT_EQ(r.status, 200) << r.body;
  }
  // Every rotation answered with 200 was durable: each family's newest token refreshes, and no token it
  // replaced is still good.
  HttpClient http(nodes_[0]->port());
  for (const auto& old : superseded_) {
    auto r = http.post_form("/v1/oauth/introspect", "token=" + form_value(old) + creds());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("\"active\":false"), std::string::npos) << r.body;
  }
  int checked = 0;
  for (const auto& [token, unused] : latest_) {
    (void)unused;
    auto r = http.post_form("/v1/oauth/token", "grant_type=refresh_token&refresh_token=" + form_value(token) +
                                                   "&scope=bolt.account.view" + creds());
    EXPECT_EQ(r.status, 200) << r.body;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST_F(FaultTest, KillingOneNodeUnderLoadLeavesTheOthersServing) {
  std::atomic<bool> stop{false};
  std::atomic<int> after_ok{0}, after_bad{0};
  std::atomic<bool> killed{false};
  {
    std::vector<std::jthread> workers;
    for (int i = 0; i < 4; ++i)
      workers.emplace_back([&] {
        HttpClient http(nodes_[1]->port());
        while (!stop.load()) {
          auto r = http.request("POST", "/v1/testing/shopper/create",
                                {{"X-API-Key", secret_}, {"Content-Type", "application/json"}}, "{}");
          if (r.status == 200)
            r = http.post_form("/v1/oauth/token",
                               "grant_type=authorization_code&code=" + form_value(field(r.body, "oauth_code")) +
                                   "&scope=bolt.account.manage+openid" + creds());
          if (killed.load()) (r.status == 200 ? after_ok : after_bad)++;
        }
      });
    // Load on the node that dies, too.
    for (int i = 0; i < 4; ++i)
      workers.emplace_back([&] {
        HttpClient http(nodes_[0]->port());
        try {
          while (!stop.load() && !killed.load())
            http.request("POST", "/v1/testing/shopper/create",
                         {{"X-API-Key", secret_}, {"Content-Type", "application/json"}}, "{}");
        } catch (const std::exception&) {
          // The node died under this request: expected.
        }
      });
    std::this_thread::sleep_for(1000ms);
    ASSERT_EQ(::kill(nodes_[0]->process().pid(), SIGKILL), 0);
    killed = true;
    std::this_thread::sleep_for(2000ms);
    stop = true;
  }
  EXPECT_GT(after_ok.load(), 20);
  EXPECT_EQ(after_bad.load(), 0);
}

}  // namespace
}  // namespace boltauth::testing
