// The store stays bounded under sustained load: the real `boltauth serve` binary on a temp data dir takes a
// minute of mixed durable traffic from several keep-alive connections (chained refreshes, code exchanges,
// client_credentials, introspection, revocation) while a sampler measures the apparent size of the SQLite files
// (boltauth.db + boltauth.db-wal + boltauth.db-shm) every 100 ms. Target: never above 256 MiB
// (docs/benchmarks.md). BOLTAUTH_STORE_BOUND_SECONDS shortens the load for a local run (default 60).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "integration/process_util.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr std::uint64_t kBoundBytes = 256ull * 1024 * 1024;
constexpr int kThreads = 8;

int load_seconds() {
  const char* v = std::getenv("BOLTAUTH_STORE_BOUND_SECONDS");
  if (!v || !*v) return 60;
  const int s = std::atoi(v);
  return s > 0 ? s : 60;
}

struct Creds {
  std::string id;
  std::string secret;
};

std::string str_field(const HttpResponse& res, const char* name) {
  auto v = res.json();
  if (!v.is_object()) return {};
  auto* f = v.as_object().if_contains(name);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

/// Apparent sizes (st_size) of the store files; a file missing at the moment counts 0.
struct StoreSize {
  std::uint64_t db = 0, wal = 0, shm = 0;
  std::uint64_t total() const { return db + wal + shm; }
};
StoreSize store_size(const fs::path& dir) {
  auto size = [&](const char* name) -> std::uint64_t {
    std::error_code ec;
    const auto n = fs::file_size(dir / name, ec);
    return ec ? 0 : n;
  };
  return {size("boltauth.db"), size("boltauth.db-wal"), size("boltauth.db-shm")};
}

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

struct Counts {
  std::atomic<std::uint64_t> refresh{0}, exchange{0}, shopper{0}, client_credentials{0}, introspect{0}, revoke{0};
  std::atomic<std::uint64_t> status_4xx{0}, status_5xx{0}, transport_errors{0}, broken_chains{0};
  std::mutex mutex;
  std::vector<std::string> samples;  // the first few unexpected answers, for the failure message

  void unexpected(const std::string& what, int status, const std::string& body) {
    (status >= 500 ? status_5xx : status_4xx).fetch_add(1);
    std::lock_guard lock(mutex);
    if (samples.size() < 10) samples.push_back(what + " " + std::to_string(status) + " " + body.substr(0, 200));
  }
  void failed(const std::string& what, const std::exception& e) {
    transport_errors.fetch_add(1);
    std::lock_guard lock(mutex);
    if (samples.size() < 10) samples.push_back(what + ": " + e.what());
  }
};

/// One client thread: a refresh chain (each refresh presents the token the previous one returned), with code
/// exchanges, client_credentials, introspection and revocation interleaved, until the deadline.
void client_thread(std::uint16_t port, const Creds& user_client, const Creds& machine, Counts& counts,
                   SteadyClock::time_point deadline) {
  HttpClient http(port);
  // Every request goes through here: a 2xx is counted by the caller, anything else is recorded.
  auto call = [&](const char* what, auto&& send) -> std::optional<HttpResponse> {
    try {
      HttpResponse res = send();
      if (res.status >= 200 && res.status < 300) return res;
      counts.unexpected(what, res.status, res.body);
    } catch (const std::exception& e) {
      counts.failed(what, e);
    }
    return std::nullopt;
  };
  struct Grant {
    std::string access, refresh;
  };
  // shopper/create (sandbox) gives a code; the code exchange gives a grant.
  auto new_grant = [&]() -> std::optional<Grant> {
    auto shopper = call("shopper/create", [&] {
      return http.request("POST", "/v1/testing/shopper/create",
                          {{"X-API-Key", user_client.secret}, {"Content-Type", "application/json"}}, "{}");
    });
    if (!shopper) return std::nullopt;
    counts.shopper.fetch_add(1);
    auto tokens = call("code exchange", [&] {
      return http.post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                     {"code", str_field(*shopper, "oauth_code")},
                                                     {"client_id", user_client.id},
                                                     {"client_secret", user_client.secret},
                                                     {"scope", "bolt.account.manage openid"}}));
    });
    if (!tokens) return std::nullopt;
    counts.exchange.fetch_add(1);
    return Grant{str_field(*tokens, "access_token"), str_field(*tokens, "refresh_token")};
  };
  auto introspect = [&](const Creds& c, const std::string& token) {
    if (call("introspect", [&] {
          return http.post_form("/v1/oauth/introspect",
                                form({{"client_id", c.id}, {"client_secret", c.secret}, {"token", token}}));
        }))
      counts.introspect.fetch_add(1);
  };

  std::optional<Grant> chain;
  for (std::uint64_t i = 0; SteadyClock::now() < deadline; ++i) {
    if (!chain) {
      chain = new_grant();
      if (!chain) continue;
    }
    auto res = call("refresh", [&] {
      return http.post_form("/v1/oauth/token", form({{"grant_type", "refresh_token"},
                                                     {"refresh_token", chain->refresh},
                                                     {"client_id", user_client.id},
                                                     {"client_secret", user_client.secret},
                                                     {"scope", "bolt.account.view"}}));
    });
    if (res) {
      counts.refresh.fetch_add(1);
      chain = Grant{str_field(*res, "access_token"), str_field(*res, "refresh_token")};
    } else {
      counts.broken_chains.fetch_add(1);
      chain.reset();  // the token may be spent: start a new grant
      continue;
    }
    if (i % 4 == 0) introspect(user_client, chain->access);
    if (i % 8 == 0) {
      std::string token;
      if (auto cc = call("client_credentials", [&] {
            return http.post_form("/v1/oauth/token", form({{"grant_type", "client_credentials"},
                                                           {"client_id", machine.id},
                                                           {"client_secret", machine.secret},
                                                           {"scope", "bolt.account.view"}}));
          })) {
        counts.client_credentials.fetch_add(1);
        token = str_field(*cc, "access_token");
      }
      if (!token.empty()) introspect(machine, token);
    }
    if (i % 16 == 0) {
      // A short-lived grant next to the chain: exchanged, introspected, then revoked by its refresh token.
      if (auto side = new_grant()) {
        introspect(user_client, side->access);
        if (call("revoke", [&] {
              return http.post_form("/v1/oauth/revoke", form({{"client_id", user_client.id},
                                                              {"client_secret", user_client.secret},
                                                              {"token", side->refresh}}));
            }))
          counts.revoke.fetch_add(1);
      }
    }
  }
}

TEST(StoreBound, MixedLoadKeepsStoreFilesUnder256MiB) {
  const int seconds = load_seconds();
  TempDir dir;
  install_test_signing_key(dir.path());
  ServerProcess server(BOLTAUTH_BINARY, dir.path());
  ASSERT_TRUE(server.demo_client_id() && server.demo_client_secret()) << "the first start printed no demo client";
  const Creds user_client{*server.demo_client_id(), *server.demo_client_secret()};

  // A second client allowed client_credentials, made with the CLI while the server runs.
  auto made = run_command({BOLTAUTH_BINARY, "client", "create", "--data-dir", dir.path().string(), "--name",
                           "Store bound machine", "--grant-types", "client_credentials", "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  boost::system::error_code ec;
  auto made_json = boost::json::parse(made.out, ec);
  ASSERT_FALSE(ec) << made.out;
  ASSERT_TRUE(made_json.is_object()) << made.out;
  const auto& mo = made_json.as_object();
  ASSERT_TRUE(mo.contains("client_id") && mo.contains("client_secret")) << made.out;
  const Creds machine{std::string(mo.at("client_id").as_string()), std::string(mo.at("client_secret").as_string())};

  // The sampler: apparent size of the store files every 100 ms, from before the load until after it.
  std::atomic<bool> sampling{true};
  StoreSize peak;
  const StoreSize start = store_size(dir.path());
  std::uint64_t samples = 0;
  std::thread sampler([&] {
    auto next = SteadyClock::now();
    for (;;) {
      const auto s = store_size(dir.path());
      ++samples;
      if (s.total() > peak.total()) peak = s;
      if (!sampling.load()) break;
      next += std::chrono::milliseconds(100);
      std::this_thread::sleep_until(next);
    }
  });

  Counts counts;
  const auto started = SteadyClock::now();
  const auto deadline = started + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(client_thread, server.port(), std::cref(user_client), std::cref(machine), std::ref(counts),
                         deadline);
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();
  sampling = false;
  sampler.join();
  const auto end = store_size(dir.path());

  // Clean stop (the server checkpoints on SIGTERM); killed by the ServerProcess if it takes over a minute.
  server.process().signal(SIGTERM);
  const auto exit_status = server.process().wait_exit(std::chrono::seconds(60));

  const std::uint64_t total =
      counts.refresh + counts.exchange + counts.shopper + counts.client_credentials + counts.introspect + counts.revoke;
  std::printf(
      "store bound: %d s of load (%.1f s), %d threads: %llu 2xx answers (%.0f/s): %llu refreshes (%.0f/s), "
      "%llu shopper/create, %llu code exchanges, %llu client_credentials, %llu introspections, %llu revocations; "
      "%llu 4xx, %llu 5xx, %llu transport errors, %llu broken chains\n",
      seconds, elapsed, kThreads, static_cast<unsigned long long>(total), static_cast<double>(total) / elapsed,
      static_cast<unsigned long long>(counts.refresh.load()), static_cast<double>(counts.refresh) / elapsed,
      static_cast<unsigned long long>(counts.shopper.load()), static_cast<unsigned long long>(counts.exchange.load()),
      static_cast<unsigned long long>(counts.client_credentials.load()),
      static_cast<unsigned long long>(counts.introspect.load()), static_cast<unsigned long long>(counts.revoke.load()),
      static_cast<unsigned long long>(counts.status_4xx.load()),
      static_cast<unsigned long long>(counts.status_5xx.load()),
      static_cast<unsigned long long>(counts.transport_errors.load()),
      static_cast<unsigned long long>(counts.broken_chains.load()));
  std::printf(
      "store files (apparent size, %llu samples): start %.1f MiB, peak %.1f MiB (db %.1f + wal %.1f + shm %.1f), "
      "end of load %.1f MiB (db %.1f + wal %.1f); server %s\n",
      static_cast<unsigned long long>(samples), mib(start.total()), mib(peak.total()), mib(peak.db), mib(peak.wal),
      mib(peak.shm), mib(end.total()), mib(end.db), mib(end.wal),
      exit_status ? ("exited " + std::to_string(exit_code_of(*exit_status))).c_str() : "did not stop within 60 s");
  {
    std::lock_guard lock(counts.mutex);
    for (const auto& s : counts.samples) std::printf("  unexpected: %s\n", s.c_str());
  }
  std::fflush(stdout);

  EXPECT_LE(peak.total(), kBoundBytes) << "store files reached " << mib(peak.total()) << " MiB (db " << mib(peak.db)
                                       << ", wal " << mib(peak.wal) << ", shm " << mib(peak.shm) << "); bound 256 MiB";
  EXPECT_EQ(counts.status_5xx.load(), 0u) << "server errors under load";
  EXPECT_EQ(counts.transport_errors.load(), 0u) << "requests without an answer";
  // The load happened: at least 50 refreshes per second of load on average (3,000 in the full minute), and
  // every other kind of request was served.
  EXPECT_GE(counts.refresh.load(), 50ull * static_cast<unsigned long long>(seconds));
  EXPECT_GT(counts.exchange.load(), 0u);
  EXPECT_GT(counts.client_credentials.load(), 0u);
  EXPECT_GT(counts.introspect.load(), 0u);
  EXPECT_GT(counts.revoke.load(), 0u);
}

}  // namespace
}  // namespace boltauth::testing
