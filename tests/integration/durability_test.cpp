// Durability of the real server binary (checklist L1; the issue's "issue tokens, kill -9 the server, restart on
// the same data dir: every returned token still works and every used code stays used"). Each test spawns
// `boltauth serve` as a child process on a temp data dir, SIGKILLs or SIGTERMs it, and restarts it on the same dir.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/process_util.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

struct ClientCreds {
  std::string id;      // publishable key
  std::string secret;  // API key
};

ClientCreds demo_client(const ServerProcess& server) {
  if (!server.demo_client_id() || !server.demo_client_secret())
    throw std::runtime_error("the first start printed no demo client");
  return {*server.demo_client_id(), *server.demo_client_secret()};
}

std::string error_of(const HttpResponse& res) {
  auto v = res.json();
  if (!v.is_object()) return {};
  auto* e = v.as_object().if_contains("error");
  return e && e->is_string() ? std::string(e->as_string()) : std::string();
}

std::string str_field(const HttpResponse& res, const char* name) {
  auto v = res.json();
  if (!v.is_object()) return {};
  auto* f = v.as_object().if_contains(name);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

HttpResponse create_shopper(HttpClient& http, const ClientCreds& c) {
  return http.request("POST", "/v1/testing/shopper/create",
                      {{"X-API-Key", c.secret}, {"Content-Type", "application/json"}}, "{}");
}

HttpResponse exchange(HttpClient& http, const ClientCreds& c, const std::string& code) {
  return http.post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                 {"code", code},
                                                 {"client_id", c.id},
                                                 {"client_secret", c.secret},
                                                 {"scope", "bolt.account.manage openid"}}));
}

HttpResponse refresh(HttpClient& http, const ClientCreds& c, const std::string& refresh_token) {
  return http.post_form("/v1/oauth/token", form({{"grant_type", "refresh_token"},
                                                 {"refresh_token", refresh_token},
                                                 {"client_id", c.id},
                                                 {"client_secret", c.secret},
                                                 {"scope", "bolt.account.view"}}));
}

int account_status(HttpClient& http, const std::string& access_token) {
  return http.get("/v1/account", {{"Authorization", "Bearer " + access_token}}).status;
}

struct Family {
  std::string code;
  std::vector<std::string> access;   // every access token returned for this grant
  std::string refresh;               // the latest refresh token
  std::vector<std::string> rotated;  // refresh tokens that were rotated away
};

// ---------------------------------------------------------------------------------------------------------------

TEST(Durability, KillNineAfterTwoHundredsKeepsEverything) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ClientCreds client;
  std::vector<std::string> codes;
  std::vector<Family> families;
  {
    ServerProcess server(BOLTAUTH_BINARY, dir.path());
    client = demo_client(server);
    HttpClient http(server.port());
    for (int i = 0; i < 20; ++i) {
      auto res = create_shopper(http, client);
      ASSERT_EQ(res.status, 200) << res.body;
      codes.push_back(str_field(res, "oauth_code"));
      ASSERT_FALSE(codes.back().empty()) << res.body;
    }
    for (int i = 0; i < 10; ++i) {
      auto res = exchange(http, client, codes[static_cast<std::size_t>(i)]);
      ASSERT_EQ(res.status, 200) << res.body;
      families.push_back(
          {codes[static_cast<std::size_t>(i)], {str_field(res, "access_token")}, str_field(res, "refresh_token"), {}});
    }
    // Refresh families 0..3 (family 0 twice): the last request before the kill is a refresh.
    for (int i : {0, 1, 2, 3, 0}) {
      auto& f = families[static_cast<std::size_t>(i)];
      auto res = refresh(http, client, f.refresh);
      ASSERT_EQ(res.status, 200) << res.body;
      f.rotated.push_back(f.refresh);
      f.refresh = str_field(res, "refresh_token");
      f.access.push_back(str_field(res, "access_token"));
      ASSERT_NE(f.refresh, f.rotated.back());
    }
    // Right after the last 200: kill -9, no chance to flush anything.
    const int status = server.process().kill_and_reap();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  }

  ServerProcess server(BOLTAUTH_BINARY, dir.path());
  EXPECT_FALSE(server.demo_client_id().has_value()) << "a restart on a used data dir printed a new demo client";
  HttpClient http(server.port());

  // The order matters: replaying a used code or a rotated refresh token revokes the whole grant (contract 3),
  // so everything that must still work is checked first.
  for (const auto& f : families)
    for (const auto& at : f.access) EXPECT_EQ(account_status(http, at), 200) << "access token of code " << f.code;

  for (auto& f : families) {
    auto res = refresh(http, client, f.refresh);
    EXPECT_EQ(res.status, 200) << "latest refresh token of code " << f.code << ": " << res.body;
    if (res.status == 200) {
      f.rotated.push_back(f.refresh);
      f.refresh = str_field(res, "refresh_token");
    }
  }

  for (std::size_t i = 10; i < codes.size(); ++i) {
    auto res = exchange(http, client, codes[i]);
    EXPECT_EQ(res.status, 200) << "unused code " << i << ": " << res.body;
    if (res.status == 200) {
      EXPECT_EQ(account_status(http, str_field(res, "access_token")), 200);
    }
  }

  for (const auto& f : families) {
    for (const auto& old : f.rotated) {
      auto res = refresh(http, client, old);
      EXPECT_EQ(res.status, 422) << "rotated refresh token of code " << f.code << ": " << res.body;
      EXPECT_EQ(error_of(res), "invalid_grant") << res.body;
    }
  }

  for (const auto& f : families) {
    auto res = exchange(http, client, f.code);
    EXPECT_EQ(res.status, 422) << "used code " << f.code << " redeemed again: " << res.body;
    EXPECT_EQ(error_of(res), "invalid_grant") << res.body;
  }

  // Replaying the used codes revoked their grants, and that revocation is durable too.
  for (const auto& f : families) EXPECT_EQ(account_status(http, f.access.front()), 401);
}

// ---------------------------------------------------------------------------------------------------------------

struct WorkerLog {
  std::vector<std::string> unused_codes;  // shopper/create answered 200, no exchange attempted
  std::vector<Family> families;           // exchange answered 200
  std::string inflight_code;              // exchange sent, no answer (outcome unknown)
  int inflight_family = -1;               // refresh sent for this family, no answer (outcome unknown)
  std::vector<std::string> unexpected;    // non-200 answers or failures before the kill
};

void load_worker(std::uint16_t port, ClientCreds client, std::atomic<int>& successes, std::atomic<bool>& stop,
                 std::atomic<bool>& killed, WorkerLog& log, int refreshes_per_grant,
                 std::chrono::steady_clock::time_point deadline) {
  HttpClient http(port);
  auto note = [&](const std::string& what) {
    if (!killed.load()) log.unexpected.push_back(what);
  };
  try {
    while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
      auto shopper = create_shopper(http, client);
      if (shopper.status != 200) return note("shopper/create " + std::to_string(shopper.status) + " " + shopper.body);
      const std::string code = str_field(shopper, "oauth_code");
      if (stop.load()) {
        log.unused_codes.push_back(code);
        return;
      }
      log.inflight_code = code;
      auto res = exchange(http, client, code);
      if (res.status != 200) return note("exchange " + std::to_string(res.status) + " " + res.body);
      log.inflight_code.clear();
      log.families.push_back({code, {str_field(res, "access_token")}, str_field(res, "refresh_token"), {}});
      successes.fetch_add(1);
      auto& f = log.families.back();
      for (int r = 0; r < refreshes_per_grant && !stop.load(); ++r) {
        log.inflight_family = static_cast<int>(log.families.size() - 1);
        auto rr = refresh(http, client, f.refresh);
        if (rr.status != 200) return note("refresh " + std::to_string(rr.status) + " " + rr.body);
        log.inflight_family = -1;
        f.rotated.push_back(f.refresh);
        f.refresh = str_field(rr, "refresh_token");
        f.access.push_back(str_field(rr, "access_token"));
        successes.fetch_add(1);
      }
    }
  } catch (const std::exception& e) {
    note(std::string("exception before the kill: ") + e.what());
  }
}

TEST(Durability, KillNineUnderLoadKeepsEveryAnsweredToken) {
  const auto test_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::mt19937 rng(0xB017u + static_cast<unsigned>(round));
    const int kill_after = std::uniform_int_distribution<int>(40, 150)(rng);
    TempDir dir;
    install_test_signing_key(dir.path());
    ClientCreds client;
    std::vector<WorkerLog> logs(3);
    {
      ServerProcess server(BOLTAUTH_BINARY, dir.path());
      client = demo_client(server);
      std::atomic<int> successes{0};
      std::atomic<bool> stop{false}, killed{false};
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
      std::vector<std::thread> workers;
      for (std::size_t w = 0; w < logs.size(); ++w)
        workers.emplace_back(load_worker, server.port(), client, std::ref(successes), std::ref(stop), std::ref(killed),
                             std::ref(logs[w]), 1 + static_cast<int>(w), deadline);
      while (successes.load() < kill_after && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      killed.store(true);
      const int status = server.process().kill_and_reap();
      stop.store(true);
      for (auto& t : workers) t.join();
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
      EXPECT_GE(successes.load(), kill_after) << "the load did not reach the kill point in time";
      for (const auto& l : logs)
        for (const auto& u : l.unexpected) ADD_FAILURE() << "before the kill: " << u;
    }

    ServerProcess server(BOLTAUTH_BINARY, dir.path());
    HttpClient http(server.port());
    std::size_t access_checked = 0, codes_checked = 0, refresh_checked = 0;
    // 1. Every access token answered with a 200 before the kill works.
    for (const auto& l : logs)
      for (const auto& f : l.families)
        for (const auto& at : f.access) {
          ++access_checked;
          EXPECT_EQ(account_status(http, at), 200) << "access token of code " << f.code;
        }
    // 2. Every latest refresh token refreshes (unless a refresh of it was in flight at the kill).
    for (auto& l : logs)
      for (std::size_t i = 0; i < l.families.size(); ++i) {
        if (static_cast<int>(i) == l.inflight_family) continue;
        ++refresh_checked;
        auto res = refresh(http, client, l.families[i].refresh);
        EXPECT_EQ(res.status, 200) << "latest refresh token of code " << l.families[i].code << ": " << res.body;
      }
    // 3. No code that got a 200 redeems again.
    for (const auto& l : logs)
      for (const auto& f : l.families) {
        ++codes_checked;
        auto res = exchange(http, client, f.code);
        EXPECT_EQ(res.status, 422) << "used code " << f.code << " redeemed again: " << res.body;
        EXPECT_EQ(error_of(res), "invalid_grant") << res.body;
      }
    // 4. A code created but never redeemed is still good.
    for (const auto& l : logs)
      for (const auto& code : l.unused_codes) EXPECT_EQ(exchange(http, client, code).status, 200);
    int inflight = 0;
    for (const auto& l : logs) inflight += (!l.inflight_code.empty()) + (l.inflight_family >= 0);
    std::printf(
        "[ round %d ] kill after %d successes: %zu access tokens, %zu latest refresh tokens, %zu used codes "
        "checked; %d requests in flight at the kill\n",
        round, kill_after, access_checked, refresh_checked, codes_checked, inflight);
    EXPECT_GT(access_checked, 0u);
    EXPECT_GT(codes_checked, 0u);
    EXPECT_GT(refresh_checked, 0u);
    if (std::chrono::steady_clock::now() > test_deadline) {
      ADD_FAILURE() << "time budget exhausted after round " << round;
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

TEST(Durability, SigtermDrainsAndExitsZero) {
  TempDir dir;
  install_test_signing_key(dir.path());
  std::string jwks;
  ClientCreds client;
  std::string access, refresh_token;
  {
    ServerProcess server(BOLTAUTH_BINARY, dir.path());
    client = demo_client(server);
    HttpClient http(server.port());
    auto j = http.get("/v1/oauth/jwks.json");
    ASSERT_EQ(j.status, 200) << j.body;
    jwks = j.body;
    auto shopper = create_shopper(http, client);
    ASSERT_EQ(shopper.status, 200) << shopper.body;
    auto res = exchange(http, client, str_field(shopper, "oauth_code"));
    ASSERT_EQ(res.status, 200) << res.body;
    access = str_field(res, "access_token");
    refresh_token = str_field(res, "refresh_token");
    // `http` keeps an idle kept-alive connection open: draining must not wait for it forever.
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(server.process().signal(SIGTERM));
    auto status = server.process().wait_exit(std::chrono::seconds(15));
    ASSERT_TRUE(status.has_value()) << "boltauth serve still runs 15 s after SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status)) << "status " << *status;
    EXPECT_EQ(exit_code_of(*status), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
  }

  ServerProcess server(BOLTAUTH_BINARY, dir.path());
  EXPECT_FALSE(server.demo_client_id().has_value()) << server.process().stdout_text();
  EXPECT_FALSE(server.demo_client_secret().has_value());
  HttpClient http(server.port());
  auto j = http.get("/v1/oauth/jwks.json");
  ASSERT_EQ(j.status, 200) << j.body;
  EXPECT_EQ(j.body, jwks) << "the signing keys changed across a restart";
  EXPECT_EQ(account_status(http, access), 200);
  auto res = refresh(http, client, refresh_token);
  EXPECT_EQ(res.status, 200) << res.body;
  // A clean stop once more, on a second data-dir generation.
  ASSERT_TRUE(server.process().signal(SIGTERM));
  auto status = server.process().wait_exit(std::chrono::seconds(15));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(exit_code_of(*status), 0);
}

}  // namespace
}  // namespace boltauth::testing
