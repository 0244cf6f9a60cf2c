// The write path of the SQLite adapter under sustained refresh load: rotation rewrites one row and no index,
// and the WAL stays bounded (the committer's RESTART checkpoint between batches lets it start over), where
// PASSIVE checkpoints alone never finished while the writer kept appending.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "contract/store_contract.hpp"
#include "store/sqlite/sqlite_stores.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::contract {
namespace {

namespace fs = std::filesystem;
using core::ports::ConsumeOutcome;
using store::sqlite::Connection;
using store::sqlite::SqliteDatabase;
using store::sqlite::SqliteGrantStore;

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::stoll(value) : fallback;
}

/// write_bytes of /proc/self/io: what this process sent to the block layer.
std::int64_t write_bytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::int64_t value = 0;
  while (io >> key >> value)
    if (key == "write_bytes:") return value;
  return -1;
}

std::uintmax_t file_size_or_zero(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

struct LoadResult {
  std::uintmax_t max_wal_bytes = 0;
  std::uintmax_t final_wal_bytes = 0;
  std::int64_t rotations = 0;
  std::int64_t bytes_written = 0;
  double seconds = 0;
};

/// `grant_count` active grants, then `rotations` rotations of random grants from `threads` threads through the
/// group-commit writer (each a synchronous write), sampling the -wal size every millisecond.
LoadResult run_rotations(const fs::path& path, SqliteDatabase::CheckpointLimits limits, std::int64_t grant_count,
                         std::int64_t rotations, int threads) {
  SqliteDatabase db({path, 4, 10000});
  db.set_checkpoint_limits(limits);
  store::sqlite::SqliteClientStore clients(db);
  SqliteGrantStore grants(db);
  EXPECT_TRUE(clients.insert(make_client("client-a")));
  std::vector<std::int64_t> ids;
  for (std::int64_t done = 0; done < grant_count;) {
    db.write([&](Connection& c) {
      for (int i = 0; i < 10000 && done < grant_count; ++i, ++done) {
        auto grant = make_grant("g", "client-a", t0);
        grant.redeemed_at = t0;
        grant.rotated_at = t0;
        grant.generation = 1;
        grant.expires_at = t0 + 86400;
        ids.push_back(SqliteGrantStore::insert_row(c, grant));
      }
    });
  }
  std::vector<std::atomic<std::int64_t>> generation(ids.size());
  for (auto& g : generation) g = 1;

  const fs::path wal = path.string() + "-wal";
  std::atomic<bool> running{true};
  std::atomic<std::uintmax_t> max_wal{0};
  std::thread sampler([&] {
    while (running) {
      const auto size = file_size_or_zero(wal);
      if (size > max_wal) max_wal = size;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> consumed{0};
  const auto before = write_bytes();
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        std::mt19937_64 random(static_cast<std::uint64_t>(t) + 1);
        std::uniform_int_distribution<std::size_t> pick(0, ids.size() - 1);
        while (next.fetch_add(1) < rotations) {
          const auto i = pick(random);
          auto g = generation[i].load();
          // Two threads may present one generation: the store picks the winner, which then advances the count.
          if (grants.rotate(ids[i], g, t0 + 1, t0 + 86400) == ConsumeOutcome::consumed) {
            generation[i].compare_exchange_strong(g, g + 1);
            ++consumed;
          }
        }
      });
    }
  }
  LoadResult result;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.bytes_written = write_bytes() - before;
  running = false;
  sampler.join();
  result.max_wal_bytes = max_wal;
  result.final_wal_bytes = file_size_or_zero(wal);
  result.rotations = consumed;
  return result;
}

TEST(SqliteWritePath, RotationTouchesNoIndex) {
  testing::TempDir dir;
  SqliteDatabase db({dir.path() / "boltauth.db", 1, 10000});
  // Every index on `grants` covers client_id only, which no consuming write changes.
  const auto columns = db.read([](Connection& c) {
    std::vector<std::string> out;
    auto st = c.prepare(
        "SELECT ii.name FROM sqlite_master m, pragma_index_info(m.name) ii WHERE m.type = 'index' "
        "AND m.tbl_name = 'grants'");
    while (st.step()) out.push_back(st.column_text(0));
    return out;
  });
  EXPECT_FALSE(columns.empty());
  for (const auto& column : columns) EXPECT_EQ(column, "client_id");
}

TEST(SqliteWritePath, WalStaysBoundedUnderSustainedRotations) {
  testing::TempDir dir;
  const SqliteDatabase::CheckpointLimits limits{100, 400};
  const auto result = run_rotations(dir.path() / "boltauth.db", limits, 1000, 6000, 8);
  EXPECT_GT(result.rotations, 5000);
  // A restart happens after the first commit past 400 frames; a batch of 8 rotations adds a few dozen frames.
  const std::uintmax_t frame = 4096 + 24;
  EXPECT_LT(result.max_wal_bytes, 2 * 400 * frame) << "max WAL " << result.max_wal_bytes;
}

// Measurement, not a check (docs: storage v2 figures). Run with --gtest_also_run_disabled_tests;
// BOLTAUTH_WAL_GRANTS, BOLTAUTH_WAL_ROTATIONS, BOLTAUTH_WAL_THREADS, BOLTAUTH_WAL_RESTART_FRAMES (a huge value
// turns the committer's RESTART off, to compare with PASSIVE checkpoints alone).
TEST(SqliteWritePath, DISABLED_MeasureWalAndBytesPerRotation) {
  const auto grant_count = env_int("BOLTAUTH_WAL_GRANTS", 1000);
  const auto rotations = env_int("BOLTAUTH_WAL_ROTATIONS", 200000);
  const auto threads = static_cast<int>(env_int("BOLTAUTH_WAL_THREADS", 8));
  SqliteDatabase::CheckpointLimits limits;
  limits.restart_frames = static_cast<int>(env_int("BOLTAUTH_WAL_RESTART_FRAMES", limits.restart_frames));
  testing::TempDir dir;
  const auto result = run_rotations(dir.path() / "boltauth.db", limits, grant_count, rotations, threads);
  std::printf(
      "grants=%lld rotations=%lld threads=%d seconds=%.1f rotations/s=%.0f max_wal=%.1f MiB final_wal=%.1f MiB "
      "write_bytes/rotation=%.0f\n",
      static_cast<long long>(grant_count), static_cast<long long>(result.rotations), threads, result.seconds,
      static_cast<double>(result.rotations) / result.seconds, static_cast<double>(result.max_wal_bytes) / 1048576.0,
      static_cast<double>(result.final_wal_bytes) / 1048576.0,
      static_cast<double>(result.bytes_written) / static_cast<double>(std::max<std::int64_t>(1, result.rotations)));
  EXPECT_LT(result.max_wal_bytes, std::uintmax_t{64} << 20);
}

}  // namespace
}  // namespace boltauth::contract
