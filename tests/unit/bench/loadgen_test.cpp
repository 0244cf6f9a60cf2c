// The load generator's own correctness (issue 6): its percentiles and its refresh chaining.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "alternation.hpp"
#include "histogram.hpp"
#include "pg_watch.hpp"
#include "server_watch.hpp"
#include "workload.hpp"

namespace boltauth::bench {
namespace {

TEST(Histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.percentile(99.9), 0u);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(90), 90u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(99.9), 100u);
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, BucketsCoverEveryValueWithoutGapsOrOverlap) {
  for (int i = 0; i + 1 < Histogram::kBuckets; ++i) {
    EXPECT_EQ(Histogram::highest_of(i) + 1, Histogram::lowest_of(i + 1)) << i;
    EXPECT_EQ(Histogram::index_of(Histogram::lowest_of(i)), i);
    EXPECT_EQ(Histogram::index_of(Histogram::highest_of(i)), i);
  }
  EXPECT_LT(Histogram::index_of(~std::uint64_t{0}), Histogram::kBuckets);
}

TEST(Histogram, LargeValuesAreWithinTwoPercent) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(7.0, 1.5);  // microseconds: ~1 ms median, long tail
  std::vector<std::uint64_t> values;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng)) + 1;
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const auto exact = values[static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size()))) - 1];
    const auto got = h.percentile(p);
    EXPECT_NEAR(static_cast<double>(got), static_cast<double>(exact), static_cast<double>(exact) * 0.02) << p;
  }
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  Histogram a;
  Histogram b;
  Histogram all;
  for (std::uint64_t v = 0; v < 5000; v += 7) {
    (v % 2 ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double p : {1.0, 50.0, 99.0, 100.0}) EXPECT_EQ(a.percentile(p), all.percentile(p));
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
}

TEST(Workload, JsonStringFieldFindsMembersNotValues) {
  EXPECT_EQ(json_string_field(R"({"access_token":"a1","refresh_token" : "r.2-_"})", "refresh_token"), "r.2-_");
  EXPECT_EQ(json_string_field(R"({"x":"refresh_token","refresh_token":"r3"})", "refresh_token"), "r3");
  EXPECT_EQ(json_string_field(R"({"refresh_token":null})", "refresh_token"), std::nullopt);
  EXPECT_EQ(json_string_field(R"({"error":"invalid_grant"})", "refresh_token"), std::nullopt);
}

TEST(Workload, FormEncodeEscapesReservedCharacters) {
  EXPECT_EQ(form_encode("openid bolt.account.view"), "openid+bolt.account.view");
  EXPECT_EQ(form_encode("a+b/c=d&e"), "a%2Bb%2Fc%3Dd%26e");
  EXPECT_EQ(form_encode("Az09-._~"), "Az09-._~");
}

TEST(Workload, SeedParsesKeyValueLines) {
  const auto seed = parse_seed(
      "client_id pk.x.c1\nclient_secret s3\n\nrefresh_token r1\nrefresh_token r2\ncode c\n"
      "access_token a\n# comment\nother ignored\n");
  EXPECT_EQ(seed.client_id, "pk.x.c1");
  EXPECT_EQ(seed.client_secret, "s3");
  EXPECT_EQ(seed.refresh_tokens, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(seed.codes, std::vector<std::string>{"c"});
  EXPECT_EQ(seed.access_tokens, std::vector<std::string>{"a"});
  EXPECT_THROW(parse_seed("client_id\n"), std::runtime_error);
}

struct Fixture {
  Seed seed = parse_seed("client_id cid\nclient_secret sec\nrefresh_token r1\nrefresh_token r2\nrefresh_token r3\n");
  Target target;
  TokenPool spare{seed.refresh_tokens};
  TokenPool codes{{"c1", "c2"}};
  TokenPool access{{"a1", "a2"}};
};

TEST(Workload, RefreshChainsEachConnectionsRotatedToken) {
  Fixture f;
  ConnectionState one(WorkloadKind::refresh, f.target, f.seed, f.spare, f.codes, f.access);
  ConnectionState two(WorkloadKind::refresh, f.target, f.seed, f.spare, f.codes, f.access);
  auto call = one.next();
  ASSERT_TRUE(call);
  EXPECT_EQ(call->method, "POST");
  EXPECT_EQ(call->path, "/v1/oauth/token");
  EXPECT_EQ(call->body,
            "grant_type=refresh_token&refresh_token=r1&client_id=cid&client_secret=sec&scope=bolt.account.view");
  EXPECT_NE(two.next()->body.find("refresh_token=r2&"), std::string::npos);  // each connection its own chain

  one.on_response(200, R"({"access_token":"a","refresh_token":"r1-next"})");
  two.on_response(200, R"({"access_token":"a","refresh_token":"r2-next"})");
  EXPECT_NE(one.next()->body.find("refresh_token=r1-next&"), std::string::npos);
  EXPECT_NE(two.next()->body.find("refresh_token=r2-next&"), std::string::npos);
  one.on_response(200, R"({"refresh_token":"r1-next-next"})");
  EXPECT_EQ(one.current_refresh_token(), "r1-next-next");
  EXPECT_EQ(one.chain_length(), 2u);
  EXPECT_EQ(one.chain_restarts(), 0u);
}

TEST(Workload, ABrokenChainRestartsFromAnUnusedSeededToken) {
  Fixture f;
  ConnectionState one(WorkloadKind::refresh, f.target, f.seed, f.spare, f.codes, f.access);
  ASSERT_TRUE(one.next());
  one.on_response(400, R"({"error":"invalid_grant"})");
  EXPECT_EQ(one.chain_restarts(), 1u);
  EXPECT_NE(one.next()->body.find("refresh_token=r2&"), std::string::npos);
  one.on_response(0, {});  // transport failure: the token may be spent
  EXPECT_NE(one.next()->body.find("refresh_token=r3&"), std::string::npos);
  one.on_response(503, "");
  EXPECT_EQ(one.next(), std::nullopt);  // seeded tokens exhausted: the connection stops
}

TEST(Workload, CodesAreUsedOnceAcrossConnectionsAndAccessTokensCycle) {
  Fixture f;
  ConnectionState a(WorkloadKind::code_exchange_openid, f.target, f.seed, f.spare, f.codes, f.access);
  ConnectionState b(WorkloadKind::code_exchange_openid, f.target, f.seed, f.spare, f.codes, f.access);
  EXPECT_EQ(a.next()->body,
            "grant_type=authorization_code&code=c1&client_id=cid&client_secret=sec&scope=openid+bolt.account.view");
  EXPECT_NE(b.next()->body.find("code=c2&"), std::string::npos);
  EXPECT_EQ(a.next(), std::nullopt);

  ConnectionState i(WorkloadKind::introspect, f.target, f.seed, f.spare, f.codes, f.access);
  EXPECT_EQ(i.next()->path, "/v1/oauth/introspect");
  EXPECT_NE(i.next()->body.find("token=a2&"), std::string::npos);
  EXPECT_NE(i.next()->body.find("token=a1&"), std::string::npos);

  ConnectionState cc(WorkloadKind::client_credentials, f.target, f.seed, f.spare, f.codes, f.access);
  EXPECT_EQ(cc.next()->body, "grant_type=client_credentials&client_id=cid&client_secret=sec");
  ConnectionState fl(WorkloadKind::floor, f.target, f.seed, f.spare, f.codes, f.access);
  EXPECT_EQ(fl.next()->method, "GET");
  EXPECT_EQ(fl.next()->path, "/health");
}

TEST(ServerWatch, ParsesWriteBytesOfProcIo) {
  EXPECT_EQ(parse_write_bytes("rchar: 1\nwchar: 2\nread_bytes: 3\nwrite_bytes: 40960\ncancelled_write_bytes: 4096\n"),
            40960u);
  EXPECT_EQ(parse_write_bytes("write_bytes: 0"), 0u);
  EXPECT_EQ(parse_write_bytes("rchar: 1\ncancelled_write_bytes: 4096\n"), std::nullopt);
  EXPECT_EQ(parse_write_bytes("write_bytes: x\n"), std::nullopt);
  EXPECT_TRUE(read_write_bytes(::getpid()).has_value());
}

TEST(ServerWatch, StoreBytesAddsTheApparentSizesOfDatabaseWalAndShm) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "loadgen-test-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;
  EXPECT_EQ(store_bytes(dir), 0u);
  auto write = [&](const char* name, std::size_t n) {
    std::ofstream(dir / name, std::ios::binary) << std::string(n, 'x');
  };
  write("boltauth.db", 4096);
  write("boltauth.db-wal", 1000);
  write("boltauth.db-shm", 32768);
  write("other.log", 5000);  // not a store file
  EXPECT_EQ(store_bytes(dir), 4096u + 1000u + 32768u);
  std::filesystem::remove_all(dir);
}

TEST(PgSample, ParsesARowAndSubtracts) {
  const char* const later[10] = {"5000", "40", "2", "4800", "30", "29", "1.5", "25.25", "900", "123"};
  const char* const earlier[10] = {"1000", "10", "0", "1000", "10", "9", "0.5", "5.25", "100", "100"};
  const auto a = parse_pg_sample(later);
  const auto b = parse_pg_sample(earlier);
  ASSERT_TRUE(a && b);
  const PgSample d = *a - *b;
  EXPECT_EQ(d.wal_lsn, 4000);
  EXPECT_EQ(d.wal_records, 30);
  EXPECT_EQ(d.wal_fpi, 2);
  EXPECT_EQ(d.wal_bytes, 3800);
  EXPECT_EQ(d.wal_write, 20);
  EXPECT_EQ(d.wal_sync, 20);
  EXPECT_DOUBLE_EQ(d.wal_write_ms, 1.0);
  EXPECT_DOUBLE_EQ(d.wal_sync_ms, 20.0);
  EXPECT_EQ(d.xact_commit, 800);
  EXPECT_EQ(d.next_xid, 23);
}

TEST(PgSample, NullIsZeroAndGarbageIsRefused) {
  const char* const nulls[10] = {"1", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, "2"};
  const auto s = parse_pg_sample(nulls);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->wal_lsn, 1);
  EXPECT_EQ(s->wal_sync, 0);
  EXPECT_EQ(s->next_xid, 2);
  const char* const bad[10] = {"1", "x", "0", "0", "0", "0", "0", "0", "0", "0"};
  EXPECT_FALSE(parse_pg_sample(bad));
  const char* const trailing[10] = {"1", "0", "0", "0", "0", "0", "0", "0.5ms", "0", "0"};
  EXPECT_FALSE(parse_pg_sample(trailing));
}

TEST(Alternation, SetsTakeTurnsSliceBySliceFromTheWindowStart) {
  using namespace std::chrono_literals;
  const auto origin = Alternation::Clock::time_point{} + 100s;
  const Alternation a(origin, 250ms);
  EXPECT_EQ(a.slice_of(origin), 0);
  EXPECT_EQ(a.slice_of(origin + 249ms), 0);
  EXPECT_EQ(a.slice_of(origin + 250ms), 1);
  EXPECT_EQ(a.slice_of(origin + 1s), 4);
  // The warm-up before the window alternates too: floor, not truncation, so slice -1 is set 1.
  EXPECT_EQ(a.slice_of(origin - 1ns), -1);
  EXPECT_EQ(a.slice_of(origin - 250ms), -1);
  EXPECT_EQ(a.slice_of(origin - 251ms), -2);
  EXPECT_EQ(a.set_of(origin), 0);
  EXPECT_EQ(a.set_of(origin + 300ms), 1);
  EXPECT_EQ(a.set_of(origin + 500ms), 0);
  EXPECT_EQ(a.set_of(origin - 1ms), 1);
  EXPECT_EQ(a.set_of(origin - 300ms), 0);
}

TEST(Alternation, ASetWaitsForItsOwnNextSlice) {
  using namespace std::chrono_literals;
  const auto origin = Alternation::Clock::time_point{} + 100s;
  const Alternation a(origin, 1s);
  // Inside its own slice a set sends at once; otherwise it waits for the start of its next slice.
  EXPECT_EQ(a.next_start(0, origin + 300ms), origin + 300ms);
  EXPECT_EQ(a.next_start(1, origin + 300ms), origin + 1s);
  EXPECT_EQ(a.next_start(0, origin + 1s), origin + 2s);
  EXPECT_EQ(a.next_start(1, origin + 1999ms), origin + 1999ms);
  EXPECT_EQ(a.next_start(0, origin - 10ms), origin);
  EXPECT_EQ(a.next_start(1, origin - 10ms), origin - 10ms);
  // Over any span, each set owns exactly the slices of its parity: half of a whole number of pairs.
  int owned[2] = {0, 0};
  for (auto t = origin; t < origin + 10s; t += 1ms) ++owned[a.set_of(t)];
  EXPECT_EQ(owned[0], 5000);
  EXPECT_EQ(owned[1], 5000);
}

}  // namespace
}  // namespace boltauth::bench
