// The retry schedule with an injected clock and sleeper: no test waits for real.
#include "boltauth/retry.hpp"

#include <gtest/gtest.h>

#include "fake_transport.hpp"

namespace boltauth {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;
using sdktest::connection_error;
using sdktest::FakeTransport;
using sdktest::respond;

// A steady clock that only the sleeper moves; sleeps are recorded.
struct FakeTime {
  std::chrono::steady_clock::time_point now{};
  std::vector<milliseconds> sleeps;
  double jitter = 0.0;
  RetryEnv env() {
    RetryEnv e;
    e.now = [this] { return now; };
    e.wall_now = [] { return std::chrono::system_clock::from_time_t(1'800'000'000); };
    e.sleep = [this](milliseconds d) {
      sleeps.push_back(d);
      now += d;
    };
    e.jitter = [this] { return jitter; };
    return e;
  }
};

HttpRequest request() { return HttpRequest{"POST", "https://example.test/v1/oauth/token", {}, "a=b", {}}; }

TEST(Retry, BackoffScheduleIsSpeakeasys) {
  const BackoffStrategy b;  // 500 ms, x1.5, 60 s cap
  EXPECT_EQ(backoff_delay(b, 0, 0.0), 500ms);
  EXPECT_EQ(backoff_delay(b, 1, 0.0), 750ms);
  EXPECT_EQ(backoff_delay(b, 2, 0.0), 1125ms);
  EXPECT_EQ(backoff_delay(b, 3, 0.0), 1687ms);
  EXPECT_EQ(backoff_delay(b, 0, 0.5), 1000ms) << "jitter adds up to one second";
  EXPECT_EQ(backoff_delay(b, 0, 0.999), 1499ms);
  EXPECT_EQ(backoff_delay(b, 20, 0.0), 60s) << "capped at max_interval";
  EXPECT_EQ(backoff_delay(b, 200, 0.9), 60s);
  BackoffStrategy fast{10ms, 100ms, 2.0, 1s};
  EXPECT_EQ(backoff_delay(fast, 3, 0.0), 80ms);
  EXPECT_EQ(backoff_delay(fast, 4, 0.0), 100ms);
}

TEST(Retry, RetryAfterParsing) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("0", now), 0ms);
  EXPECT_EQ(parse_retry_after("7", now), 7000ms);
  EXPECT_EQ(parse_retry_after(" 120 ", now), 120s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), 10s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), 0ms) << "a past date means now";
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-1", now));
  EXPECT_FALSE(parse_retry_after("1.5", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("99999999999999999999", now));
}

TEST(Retry, IdempotentRequestsRetryEveryListedStatusWithGrowingDelays) {
  FakeTime t;
  FakeTransport transport;
  for (int s : {429, 500, 502, 503, 504}) transport.script.push_back(respond(s, "{}"));
  transport.script.push_back(respond(200, "{}"));
  const auto r = send_with_retries(transport, request(), RetryConfig{}, Idempotency::idempotent, t.env());
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->status, 200);
  EXPECT_EQ(transport.requests().size(), 6u);
  EXPECT_EQ(t.sleeps, (std::vector<milliseconds>{500ms, 750ms, 1125ms, 1687ms, 2531ms}));
}

TEST(Retry, OtherStatusesAreNotRetried) {
  for (int s : {200, 400, 401, 403, 404, 422, 501}) {
    FakeTime t;
    FakeTransport transport;
    transport.script.push_back(respond(s, "{}"));
    const auto r = send_with_retries(transport, request(), RetryConfig{}, Idempotency::idempotent, t.env());
    EXPECT_EQ(r.response->status, s);
    EXPECT_EQ(transport.requests().size(), 1u) << s;
    EXPECT_TRUE(t.sleeps.empty());
  }
}

TEST(Retry, HonoursRetryAfterCappedAtMaxInterval) {
  FakeTime t;
  FakeTransport transport;
  transport.script.push_back(respond(503, "{}", "application/json", {{"retry-after", "3"}}));
  transport.script.push_back(respond(429, "{}", "application/json", {{"retry-after", "100000"}}));
  transport.script.push_back(respond(503, "{}", "application/json", {{"retry-after", "garbage"}}));
  transport.script.push_back(respond(200, "{}"));
  send_with_retries(transport, request(), RetryConfig{}, Idempotency::idempotent, t.env());
  EXPECT_EQ(t.sleeps, (std::vector<milliseconds>{3s, 60s, 1125ms}));
}

TEST(Retry, StopsAtMaxElapsedTime) {
  FakeTime t;
  FakeTransport transport;
  transport.fallback = [](const HttpRequest&) { return respond(503, "{}"); };
  RetryConfig config;
  config.backoff.max_elapsed_time = 5s;
  const auto r = send_with_retries(transport, request(), config, Idempotency::idempotent, t.env());
  EXPECT_EQ(r.response->status, 503) << "the last response is returned";
  // 500 + 750 + 1125 + 1687 = 4062 ms; the next (2531 ms) would end past 5 s.
  EXPECT_EQ(t.sleeps.size(), 4u);
  EXPECT_EQ(transport.requests().size(), 5u);
}

TEST(Retry, JitterIsAddedPerAttempt) {
  FakeTime t;
  t.jitter = 0.25;
  FakeTransport transport;
  transport.script.push_back(respond(502, "{}"));
  transport.script.push_back(respond(502, "{}"));
  transport.script.push_back(respond(200, "{}"));
  send_with_retries(transport, request(), RetryConfig{}, Idempotency::idempotent, t.env());
  EXPECT_EQ(t.sleeps, (std::vector<milliseconds>{750ms, 1000ms}));
}

TEST(Retry, ConnectionErrors) {
  {
    FakeTime t;
    FakeTransport transport;
    transport.script.push_back(connection_error(true));
    transport.script.push_back(respond(200, "{}"));
    EXPECT_TRUE(send_with_retries(transport, request(), RetryConfig{}, Idempotency::idempotent, t.env()).response);
    EXPECT_EQ(transport.requests().size(), 2u);
  }
  {
    FakeTime t;
    FakeTransport transport;
    transport.script.push_back(connection_error(false));
    RetryConfig config;
    config.retry_connection_errors = false;
    EXPECT_FALSE(send_with_retries(transport, request(), config, Idempotency::idempotent, t.env()).response);
    EXPECT_EQ(transport.requests().size(), 1u);
  }
}

TEST(Retry, NonIdempotentRetriesOnlyWhenTheServerSurelyDidNotAct) {
  // Not retried: the request may have been processed (a second code redemption would revoke the first's tokens).
  for (auto outcome : {respond(500, "{}"), respond(502, "{}"), respond(504, "{}"), connection_error(true)}) {
    FakeTime t;
    FakeTransport transport;
    transport.script.push_back(outcome);
    send_with_retries(transport, request(), RetryConfig{}, Idempotency::non_idempotent, t.env());
    EXPECT_EQ(transport.requests().size(), 1u);
    EXPECT_TRUE(t.sleeps.empty());
  }
  // Retried: refused before processing.
  FakeTime t;
  FakeTransport transport;
  transport.script.push_back(respond(503, "{}"));
  transport.script.push_back(respond(429, "{}"));
  transport.script.push_back(connection_error(false));
  transport.script.push_back(respond(200, "{}"));
  const auto r = send_with_retries(transport, request(), RetryConfig{}, Idempotency::non_idempotent, t.env());
  EXPECT_EQ(r.response->status, 200);
  EXPECT_EQ(transport.requests().size(), 4u);
}

TEST(Retry, StrategyNoneAndCustomStatusList) {
  FakeTime t;
  FakeTransport transport;
  transport.script.push_back(respond(503, "{}"));
  RetryConfig none;
  none.strategy = RetryConfig::Strategy::none;
  EXPECT_EQ(send_with_retries(transport, request(), none, Idempotency::idempotent, t.env()).response->status, 503);
  EXPECT_EQ(transport.requests().size(), 1u);

  FakeTransport t2;
  t2.script.push_back(respond(500, "{}"));
  RetryConfig only_429;
  only_429.status_codes = {429};
  EXPECT_EQ(send_with_retries(t2, request(), only_429, Idempotency::idempotent, t.env()).response->status, 500);
  EXPECT_EQ(t2.requests().size(), 1u);
}

}  // namespace
}  // namespace boltauth
