// Group commit seen from HTTP (issue 6): token answers wait for their batch's commit, and a failed commit
// answers 5xx to every member of the batch and keeps nothing of it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>

#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

/// The committer's hook: while held, no batch commits; on release it commits or fails that batch.
struct Valve {
  std::mutex m;
  std::condition_variable cv;
  bool held = false;
  bool fail = false;
  void operator()() {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return !held; });
    if (fail) throw std::runtime_error("injected commit failure");
  }
  void set(bool hold, bool failing) {
    {
      std::lock_guard lock(m);
      held = hold;
      fail = failing;
    }
    cv.notify_all();
  }
};

HttpResponse exchange_on(std::uint16_t port, const core::CreatedClient& client, const std::string& code) {
  HttpClient http(port);
  return http.post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                 {"code", code},
                                                 {"client_id", client.client.publishable_key},
                                                 {"client_secret", client.client_secret},
                                                 {"scope", "openid bolt.account.view"}}));
}

TEST(SqliteGroupCommitHttp, AFailedCommitAnswers503ToEveryMemberOfTheBatchAndKeepsNothing) {
  auto valve = std::make_shared<Valve>();
  TestServer server([valve](server::AppOptions& o) { o.commit_hook = [valve] { (*valve)(); }; });
  auto client = server.create_client();
  const std::string one = server.sandbox_code(client);
  const std::string two = server.sandbox_code(client);

  valve->set(/*hold=*/true, /*failing=*/false);
  auto first = std::async(std::launch::async, [&] { return exchange_on(server.port(), client, one); });
  auto second = std::async(std::launch::async, [&] { return exchange_on(server.port(), client, two); });
  // Both redemptions run and join the held batch; neither may be answered before its commit.
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout) << "answered uncommitted";
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(10)), std::future_status::timeout) << "answered uncommitted";
  valve->set(/*hold=*/false, /*failing=*/true);
  for (auto* f : {&first, &second}) {
    const auto res = f->get();
    EXPECT_EQ(res.status, 503) << res.body;
    EXPECT_EQ(res.json().as_object().at("error").as_string(), "temporarily_unavailable") << res.body;
    EXPECT_EQ(res.header("retry-after"), "1");
    EXPECT_EQ(res.body.find("access_token"), std::string::npos) << res.body;
  }
  valve->set(/*hold=*/false, /*failing=*/false);
  // Nothing of the failed batch was kept: both codes still redeem, once.
  for (const auto& code : {one, two}) {
    const auto res = exchange_on(server.port(), client, code);
    EXPECT_EQ(res.status, 200) << res.body;
  }
  EXPECT_NE(exchange_on(server.port(), client, one).status, 200) << "a code redeemed twice";
}

TEST(SqliteGroupCommitHttp, ConcurrentRedemptionsOfOneCodeInOneBatchExactlyOneGetsTokens) {
  auto valve = std::make_shared<Valve>();
  TestServer server([valve](server::AppOptions& o) { o.commit_hook = [valve] { (*valve)(); }; });
  auto client = server.create_client();
  const std::string code = server.sandbox_code(client);
  valve->set(/*hold=*/true, /*failing=*/false);
  std::vector<std::future<HttpResponse>> answers;
  for (int i = 0; i < 8; ++i)
    answers.push_back(std::async(std::launch::async, [&] { return exchange_on(server.port(), client, code); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  valve->set(/*hold=*/false, /*failing=*/false);
  int ok = 0;
  for (auto& a : answers) {
    const auto res = a.get();
    if (res.status == 200)
      ++ok;
    else
      EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_grant") << res.body;
  }
  EXPECT_EQ(ok, 1);
}

}  // namespace
}  // namespace boltauth::testing
