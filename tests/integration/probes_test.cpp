// Liveness and readiness probes (`/healthz`, `/readyz`, and the older `/health`), on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

std::string field(const HttpResponse& res, const char* name) {
  const auto json = res.json();
  const auto* v = json.as_object().if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

TEST(ProbesTest, HealthzAndTheOlderHealthAnswerOk) {
  TestServer server;
  for (const char* path : {"/healthz", "/health"}) {
    auto res = server.http().get(path);
    EXPECT_EQ(res.status, 200) << path;
    EXPECT_EQ(field(res, "status"), "ok") << path;
    EXPECT_EQ(res.header("cache-control"), "no-store") << path;
  }
}

TEST(ProbesTest, ReadyzIsReadyWhenTheStoreAndKeysAreUsable) {
  TestServer server;
  auto res = server.http().get("/readyz");
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(field(res, "status"), "ready");
  EXPECT_EQ(server.http().post_form("/readyz", "").status, 405);
}

TEST(ProbesTest, ReadyzIs503NamingTheFailedCheckDuringAStoreOutageAndRecovers) {
  TestServer server([](server::AppOptions& o) { o.busy_timeout_ms = 200; });
  ASSERT_EQ(server.http().get("/readyz").status, 200);
  {
    auto outage = server.store_outage();
    auto res = server.http().get("/readyz");
    EXPECT_EQ(res.status, 503) << res.body;
    EXPECT_EQ(field(res, "status"), "not_ready");
    // SQLite: another process holds the write lock (reads still work); PostgreSQL: the database refuses
    // connections.
    EXPECT_EQ(field(res, "failed_check"), server.on_postgres() ? "store_reachable" : "store_writable") << res.body;
    // Liveness is not readiness: the process still serves.
    EXPECT_EQ(server.http().get("/healthz").status, 200);
  }
  auto res = server.http().get("/readyz");
  EXPECT_EQ(res.status, 200) << res.body;
}

}  // namespace
}  // namespace boltauth::testing
