// Races (contract section 3, checklist E1 and F4): of 32 simultaneous redemptions of one code or one refresh
// token, exactly one wins, the rest get invalid_grant, none gets a 5xx. 50 rounds each.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

constexpr int kThreads = 32;
constexpr int kRounds = 50;

struct Tally {
  int ok = 0;
  int invalid_grant = 0;
  int other = 0;
  std::string other_sample;
};

// Fires `bodies` (one per thread) at the token endpoint at once, each on its own keep-alive connection.
Tally fire(TestServer& server, std::vector<std::unique_ptr<HttpClient>>& conns, const std::string& body) {
  std::vector<HttpResponse> results(kThreads);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = conns[i]->post_form("/v1/oauth/token", body);
    });
  }
  for (auto& t : threads) t.join();
  (void)server;
  Tally tally;
  for (const auto& r : results) {
    if (r.status == 200) {
      ++tally.ok;
    } else if (r.status == 422 && r.json().is_object() && r.json().as_object().at("error") == "invalid_grant") {
      ++tally.invalid_grant;
    } else {
      ++tally.other;
      tally.other_sample = std::to_string(r.status) + " " + r.body;
    }
  }
  return tally;
}

class RaceTest : public ::testing::Test {
 protected:
  TestServer server{[](server::AppOptions& o) {
    o.server.io_threads = 2;
    o.server.worker_threads = 16;
  }};
  core::CreatedClient client = server.create_client();
  std::vector<std::unique_ptr<HttpClient>> conns;

  void SetUp() override {
    for (int i = 0; i < kThreads; ++i) conns.push_back(std::make_unique<HttpClient>(server.port()));
  }
};

TEST_F(RaceTest, ThirtyTwoRedemptionsOfOneCodeExactlyOneWins) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string code = server.sandbox_code(client);
    auto tally = fire(server, conns,
                      form({{"grant_type", "authorization_code"},
                            {"code", code},
                            {"client_id", client.client.publishable_key},
                            {"client_secret", client.client_secret},
                            {"scope", "bolt.account.manage openid"}}));
    ASSERT_EQ(tally.ok, 1) << "round " << round;
    ASSERT_EQ(tally.invalid_grant, kThreads - 1) << "round " << round << ": " << tally.other_sample;
    ASSERT_EQ(tally.other, 0) << tally.other_sample;
  }
}

TEST_F(RaceTest, ThirtyTwoRefreshesOfOneTokenExactlyOneWins) {
  for (int round = 0; round < kRounds; ++round) {
    auto first = server.exchange(client, server.sandbox_code(client));
    ASSERT_EQ(first.status, 200);
    const std::string refresh(first.json().as_object().at("refresh_token").as_string());
    auto tally = fire(server, conns,
                      form({{"grant_type", "refresh_token"},
                            {"refresh_token", refresh},
                            {"client_id", client.client.publishable_key},
                            {"client_secret", client.client_secret},
                            {"scope", "bolt.account.view"}}));
    ASSERT_EQ(tally.ok, 1) << "round " << round;
    ASSERT_EQ(tally.invalid_grant, kThreads - 1) << "round " << round << ": " << tally.other_sample;
    ASSERT_EQ(tally.other, 0) << tally.other_sample;
  }
}

}  // namespace
}  // namespace boltauth::testing
