// TokenManager over a scripted transport: expiry, single flight, rotation callback order, shared errors.
#include "boltauth/token_manager.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <thread>

#include "fake_transport.hpp"

namespace boltauth {
namespace {

using namespace std::chrono_literals;
using sdktest::FakeTransport;
using sdktest::respond;

std::string token_json(const std::string& access, const std::string& refresh, int expires_in = 3600) {
  return R"({"access_token":")" + access + R"(","expires_in":)" + std::to_string(expires_in) + R"(,"refresh_token":")" +
         refresh + R"(","token_type":"bearer"})";
}

struct Env {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::atomic<std::int64_t> now_s{1'800'000'000};
  std::unique_ptr<Bolt> bolt;
  Env() {
    BoltOptions o;
    o.transport = transport;
    o.retry_config.strategy = RetryConfig::Strategy::none;
    bolt = std::make_unique<Bolt>(std::move(o));
  }
  TokenManagerOptions options() {
    TokenManagerOptions m;
    m.client_id = "pk";
    m.client_secret = "secret";
    m.refresh_ahead = 60s;
    m.now = [this] { return std::chrono::system_clock::time_point(std::chrono::seconds(now_s.load())); };
    return m;
  }
};

TEST(TokenManager, RefreshesOnlyNearExpiry) {
  Env env;
  int n = 0;
  env.transport->fallback = [&n](const HttpRequest&) {
    ++n;
    return respond(200, token_json("at" + std::to_string(n), "rt" + std::to_string(n)));
  };
  TokenManager m(*env.bolt, env.options(), "rt0");
  EXPECT_EQ(m.access_token(), "at1") << "no access token yet: refresh";
  EXPECT_EQ(m.access_token(), "at1");
  env.now_s += 3600 - 61;
  EXPECT_EQ(m.access_token(), "at1") << "61 s left, more than refresh_ahead";
  env.now_s += 2;
  EXPECT_EQ(m.access_token(), "at2") << "59 s left: refreshed ahead of expiry";
  EXPECT_EQ(m.refresh_token(), "rt2");
  EXPECT_EQ(m.refresh_count(), 2u);
  const auto requests = env.transport->requests();
  EXPECT_NE(requests[0].body.find("refresh_token=rt0"), std::string::npos);
  EXPECT_NE(requests[1].body.find("refresh_token=rt1"), std::string::npos) << "the rotated token is presented";
  EXPECT_NE(requests[1].body.find("grant_type=refresh_token"), std::string::npos);
  EXPECT_NE(requests[1].body.find("scope=bolt.account.view"), std::string::npos);
}

TEST(TokenManager, SeededTokensAreUsedUntilExpiry) {
  Env env;
  TokenManager m(*env.bolt, env.options(), "unused");
  models::OAuthTokenResponse seed;
  seed.access_token = "seed-at";
  seed.refresh_token = "seed-rt";
  seed.expires_in = 3600;
  m.set_tokens(seed);
  EXPECT_EQ(m.access_token(), "seed-at");
  EXPECT_EQ(m.refresh_token(), "seed-rt");
  EXPECT_TRUE(env.transport->requests().empty());
}

TEST(TokenManager, SingleFlightAcrossEightThreads) {
  Env env;
  std::mutex gate_mutex;
  std::condition_variable gate_cv;
  bool open = false;
  std::atomic<int> sent{0};
  env.transport->fallback = [&](const HttpRequest&) {
    const int n = ++sent;
    std::unique_lock lock(gate_mutex);
    gate_cv.wait(lock, [&] { return open; });  // hold the flight until every thread is waiting on it
    return respond(200, token_json("at" + std::to_string(n), "rt" + std::to_string(n)));
  };
  std::vector<std::string> rotated;
  TokenManager m(*env.bolt, env.options(), "rt0",
                 [&](const std::string& rt, const models::OAuthTokenResponse&) { rotated.push_back(rt); });
  for (int round = 1; round <= 3; ++round) {
    {
      std::lock_guard lock(gate_mutex);
      open = false;
    }
    std::vector<std::string> got(8);
    std::vector<std::thread> threads;
    std::barrier sync(8);
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        sync.arrive_and_wait();
        got[i] = m.access_token();
      });
    }
    while (sent.load() < round) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);  // let the other seven reach the wait
    {
      std::lock_guard lock(gate_mutex);
      open = true;
    }
    gate_cv.notify_all();
    for (auto& t : threads) t.join();
    for (const auto& g : got) EXPECT_EQ(g, "at" + std::to_string(round));
    EXPECT_EQ(sent.load(), round) << "exactly one refresh per expiry";
    env.now_s += 3600;
  }
  EXPECT_EQ(rotated, (std::vector<std::string>{"rt1", "rt2", "rt3"}));
}

TEST(TokenManager, RotationCallbackRunsBeforeTheTokenIsHandedOut) {
  Env env;
  env.transport->script.push_back(respond(200, token_json("at1", "rt1")));
  std::string persisted;
  TokenManager* self = nullptr;
  TokenManager m(*env.bolt, env.options(), "rt0", [&](const std::string& rt, const models::OAuthTokenResponse& r) {
    persisted = rt;
    EXPECT_EQ(r.access_token, "at1");
    EXPECT_EQ(self->refresh_token(), "rt1") << "kept in memory already";
  });
  self = &m;
  EXPECT_EQ(m.access_token(), "at1");
  EXPECT_EQ(persisted, "rt1");
}

TEST(TokenManager, FailingCallbackReachesTheCaller) {
  Env env;
  env.transport->script.push_back(respond(200, token_json("at1", "rt1")));
  TokenManager m(*env.bolt, env.options(), "rt0",
                 [](const std::string&, const models::OAuthTokenResponse&) { throw std::runtime_error("disk full"); });
  EXPECT_THROW(m.access_token(), std::runtime_error);
  EXPECT_EQ(m.refresh_token(), "rt1");
}

TEST(TokenManager, ErrorsReachEveryWaiterOfTheFlight) {
  Env env;
  std::atomic<int> sent{0};
  env.transport->fallback = [&](const HttpRequest&) {
    ++sent;
    std::this_thread::sleep_for(100ms);
    return respond(422, R"({"error":"invalid_grant","error_description":"revoked"})");
  };
  TokenManager m(*env.bolt, env.options(), "rt0");
  std::atomic<int> oauth_errors{0};
  std::vector<std::thread> threads;
  std::barrier sync(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      sync.arrive_and_wait();
      try {
        m.access_token();
      } catch (const errors::ErrorsOauthServerResponse& e) {
        if (e.data().error == "invalid_grant") ++oauth_errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(oauth_errors.load(), 4);
  EXPECT_LE(sent.load(), 4);
  EXPECT_GE(sent.load(), 1);
}

}  // namespace
}  // namespace boltauth
