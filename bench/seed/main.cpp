// boltauth-seed: writes a client, an account and grants straight into a data dir's SQLite file (not the HTTP
// path), seals the tokens that name them with the data dir's own sealing key, and prints what the load generator
// needs as `key value` lines. Run it while no server uses the data dir.
//
// With --store-url postgresql://... it seeds a (migrated) PostgreSQL database instead, through the same store
// ports the server uses (server::Services: the client registry, GrantStore::insert_grant, TokenService::seal with
// the database's sealing key under --master-key-file), from several connections at once so that their commits
// share WAL flushes. A server may already run on that database.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/client_registry.hpp"
#include "crypto/token_minter.hpp"
#include "crypto/token_sealer.hpp"
#include "protocol/scope.hpp"
#include "server/app.hpp"
#include "server/key_files.hpp"
#include "store/postgres/pg_database.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"

using namespace boltauth;

namespace {

struct Options {
  std::filesystem::path data_dir;
  std::string store_url;                  // postgresql://...: seed that database instead of the data dir's SQLite
  std::filesystem::path master_key_file;  // with --store-url
  int connections = 16;                   // with --store-url: grants inserted in parallel
  long refresh = 0;                       // chains: one grant + one refresh token each, printed
  long codes = 0;                         // unused codes with scope `openid bolt.account.view`, printed
  long access = 0;                        // access tokens of one grant, printed (introspection)
  long filler = 0;                        // stored grants nobody presents: the store's size for scale runs
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "boltauth-seed: " << why << "\n"
            << "usage: boltauth-seed --data-dir DIR [--refresh N] [--codes N] [--access N] [--filler N]\n"
            << "       boltauth-seed --store-url postgresql://... --master-key-file FILE --data-dir DIR "
               "[--connections N] [--refresh N] [--codes N] [--access N] [--filler N]\n";
  std::exit(2);
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

// Every seeded grant gets this salt (core::model::Grant::salt): the seed makes rows, not secrets.
constexpr std::uint32_t kSalt = 0x5eed5eed;

class Bulk {
 public:
  explicit Bulk(const std::filesystem::path& path) {
    check(sqlite3_open(path.c_str(), &db_), db_, "open");
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA synchronous=OFF");  // one fsync at the end (checkpoint) rather than one per transaction
    exec("PRAGMA cache_size=-262144");
    exec("BEGIN");
  }
  ~Bulk() {
    if (grant_) sqlite3_finalize(grant_);
    sqlite3_close(db_);
  }
  void exec(const char* sql) { check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), db_, sql); }
  void tick() {
    if (++rows_ % 200000 == 0) {
      exec("COMMIT");
      exec("BEGIN");
    }
  }
  void finish() {
    exec("COMMIT");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA wal_checkpoint(TRUNCATE)");  // copies into the database file and fsyncs it
  }
  /// A grant row: pending (a code, `generation` 0) or active at `generation`; returns its id.
  std::int64_t grant(const std::string& client, const std::string& sub, const std::string& scope, long now,
                     std::int64_t generation, long expires_at) {
    prepare(
        grant_,
        "INSERT INTO grants (kind, client_id, sub, scope, redirect_uri, code_challenge, nonce, state, auth_time, "
        "created_at, code_expires_at, redeemed_at, generation, rotated_at, replayed, access_floor, expires_at, salt) "
        "VALUES (0, ?1, ?2, ?3, '', '', '', '', ?4, ?4, ?5, ?6, ?7, ?6, 0, 0, ?8, ?9)");
    bind(grant_, 1, client);
    bind(grant_, 2, sub);
    bind(grant_, 3, scope);
    sqlite3_bind_int64(grant_, 4, now);
    sqlite3_bind_int64(grant_, 5, generation == 0 ? expires_at : now);
    if (generation == 0)
      sqlite3_bind_null(grant_, 6);
    else
      sqlite3_bind_int64(grant_, 6, now);
    sqlite3_bind_int64(grant_, 7, generation);
    sqlite3_bind_int64(grant_, 8, expires_at);
    sqlite3_bind_int64(grant_, 9, kSalt);
    check(sqlite3_step(grant_), db_, "insert");
    sqlite3_reset(grant_);
    const auto id = sqlite3_last_insert_rowid(db_);
    tick();
    return id;
  }

 private:
  void prepare(sqlite3_stmt*& st, const char* sql) {
    if (st == nullptr) check(sqlite3_prepare_v2(db_, sql, -1, &st, nullptr), db_, sql);
  }
  static void bind(sqlite3_stmt* st, int i, const std::string& v) {
    sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* grant_ = nullptr;
  long rows_ = 0;
};

/// The client and shopper every seeded grant belongs to, created through the registry.
struct Owner {
  std::string client_id, publishable_key, secret, sub;
};

Owner create_owner(core::ClientRegistry& registry) {
  Owner owner;
  auto created = registry.create_client(core::ClientSpec{
      "bench", {"https://bench.example/cb"}, {"authorization_code", "refresh_token", "client_credentials"}});
  if (auto* err = std::get_if<std::string>(&created)) throw std::runtime_error(*err);
  const auto& c = std::get<core::CreatedClient>(created);
  owner.client_id = c.client.id;
  owner.publishable_key = c.client.publishable_key;
  owner.secret = c.client_secret;
  core::AccountSpec spec;
  spec.email = "bench-" + owner.client_id + "@example.com";
  spec.first_name = "Bench";
  spec.last_name = "User";
  spec.email_verified = true;
  auto account = registry.create_account(spec);
  if (auto* err = std::get_if<std::string>(&account)) throw std::runtime_error(*err);
  owner.sub = std::get<core::model::Account>(account).sub;
  return owner;
}

/// PostgreSQL: every row through the server's own ports. Grants are inserted by `o.connections` threads at once
/// (each insert is its own durable commit; concurrent ones share a WAL flush), then printed in the SQLite mode's
/// order: client, refresh tokens, codes, access tokens.
void seed_postgres(const Options& o) {
  server::AppOptions ao;
  ao.store_url = o.store_url;
  ao.master_key_file = o.master_key_file;
  ao.store_connections = o.connections;
  ao.data_dir = o.data_dir;
  ao.quiet = true;
  server::Services services(ao);
  const auto started = std::chrono::steady_clock::now();
  const Owner owner = create_owner(services.registry());
  core::TokenService& tokens = services.tokens();
  const long now = services.clock().now();
  const auto view = *protocol::parse_scope("bolt.account.view").scope;
  const auto code_scope = *protocol::parse_scope("openid bolt.account.view").scope;
  const long refresh_ttl = 30L * 86400;

  // Row i: [0, refresh) refresh chains, then codes, then the access tokens' grant, then filler.
  const long access_grants = o.access > 0 ? 1 : 0;
  const long total = o.refresh + o.codes + access_grants + o.filler;
  std::vector<std::string> printed(static_cast<std::size_t>(o.refresh + o.codes));
  std::vector<std::string> access_tokens;
  std::atomic<long> next{0};
  std::atomic<bool> failed{false};
  std::string failure;
  std::mutex failure_mutex;
  auto work = [&] {
    try {
      for (long i = next++; i < total && !failed; i = next++) {
        core::model::Grant g;
        g.kind = core::model::GrantKind::authorization_code;
        g.salt = tokens.new_salt();
        g.client_id = owner.client_id;
        g.sub = owner.sub;
        g.auth_time = now;
        g.created_at = now;
        crypto::SealedPayload p;
        p.issued_at = now;
        const bool code = i >= o.refresh && i < o.refresh + o.codes;
        if (code) {
          // Pending, as TokenService::issue_code writes it; a day: seeded before the timed window, redeemed in it.
          g.scope = code_scope.to_string();
          g.code_expires_at = now + 86400;
          g.expires_at = g.code_expires_at;
          p.kind = crypto::SealedKind::authorization_code;
          p.expires_at = g.code_expires_at;
          p.scope_bits = code_scope.bits();
        } else {
          // Active at generation 1: a redeemed code's grant.
          const bool access = i == o.refresh + o.codes && access_grants == 1;
          const long ttl = access ? 86400 : refresh_ttl;
          g.scope = view.to_string();
          g.code_expires_at = now;
          g.redeemed_at = now;
          g.rotated_at = now;
          g.generation = 1;
          g.expires_at = now + ttl;
          p.kind = crypto::SealedKind::refresh_token;
          p.generation = 1;
          p.expires_at = now + ttl;
          p.scope_bits = view.bits();
        }
        p.grant_id = tokens.grants().insert_grant(g);
        if (i < o.refresh) {
          printed[static_cast<std::size_t>(i)] = "refresh_token " + tokens.seal(p, g.salt, now);
        } else if (code) {
          printed[static_cast<std::size_t>(i)] = "code " + tokens.seal(p, g.salt, now);
        } else if (i == o.refresh + o.codes && access_grants == 1) {
          p.kind = crypto::SealedKind::access_token;
          for (long a = 0; a < o.access; ++a) access_tokens.push_back("access_token " + tokens.seal(p, g.salt, now));
        }
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(failure_mutex);
      if (!failed.exchange(true)) failure = e.what();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, o.connections); ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  if (failed) throw std::runtime_error(failure);
  std::printf("client_id %s\nclient_secret %s\n", owner.publishable_key.c_str(), owner.secret.c_str());
  for (const auto& line : printed) std::printf("%s\n", line.c_str());
  for (const auto& line : access_tokens) std::printf("%s\n", line.c_str());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr,
               "seeded %ld refresh, %ld codes, %ld access tokens, %ld filler grants into %s in %.1f s "
               "(%d connections)\n",
               o.refresh, o.codes, o.access, o.filler, store::postgres::redact_url(o.store_url).c_str(), seconds,
               o.connections);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--data-dir")
      o.data_dir = v;
    else if (a == "--refresh")
      o.refresh = std::stol(v);
    else if (a == "--codes")
      o.codes = std::stol(v);
    else if (a == "--access")
      o.access = std::stol(v);
    else if (a == "--filler")
      o.filler = std::stol(v);
    else if (a == "--store-url")
      o.store_url = v;
    else if (a == "--master-key-file")
      o.master_key_file = v;
    else if (a == "--connections")
      o.connections = std::stoi(v);
    else
      usage("unknown argument " + a);
  }
  if (o.data_dir.empty()) usage("--data-dir is required");
  if (!o.store_url.empty() && o.master_key_file.empty()) usage("--store-url needs --master-key-file");
  if (o.connections < 1) usage("--connections must be at least 1");
  try {
    if (!o.store_url.empty()) {
      seed_postgres(o);
      return 0;
    }
    server::ensure_private_dir(o.data_dir);
    base::SystemRandom random;
    base::SystemClock clock;
    server::KeyFiles files(o.data_dir);
    crypto::TokenMinter minter(files.master_key(random));
    const auto started = std::chrono::steady_clock::now();
    std::string client_id;
    std::string publishable_key;
    std::string secret;
    std::string sub;
    {
      store::sqlite::SqliteDatabase db({o.data_dir / "boltauth.db", 1, 10000});
      store::sqlite::SqliteClientStore clients(db);
      store::sqlite::SqliteAccountStore accounts(db);
      core::ClientRegistry registry(clients, accounts, minter, random, clock);
      const Owner owner = create_owner(registry);
      client_id = owner.client_id;
      publishable_key = owner.publishable_key;
      secret = owner.secret;
      sub = owner.sub;
    }
    const long now = clock.now();
    const auto view = *protocol::parse_scope("bolt.account.view").scope;
    const auto code_scope = *protocol::parse_scope("openid bolt.account.view").scope;
    files.ensure_sealing_key(now);
    crypto::TokenSealer sealer(files.sealing_keys());
    std::mt19937_64 fast(std::random_device{}());
    auto seal = [&](crypto::SealedKind kind, std::int64_t grant, std::int64_t generation, protocol::ScopeSet scope,
                    long ttl) {
      crypto::SealedPayload p;
      p.kind = kind;
      p.grant_id = grant;
      p.generation = static_cast<std::uint32_t>(generation);
      p.issued_at = now;
      p.expires_at = now + ttl;
      p.scope_bits = scope.bits();
      p.jti = (static_cast<std::uint64_t>(kSalt) << 32) | (fast() & 0xffffffffULL);  // the grant's salt, then random
      return sealer.seal(p);
    };
    std::printf("client_id %s\nclient_secret %s\n", publishable_key.c_str(), secret.c_str());
    Bulk bulk(o.data_dir / "boltauth.db");
    const long refresh_ttl = 30L * 86400;
    for (long i = 0; i < o.refresh; ++i) {
      const auto grant = bulk.grant(client_id, sub, view.to_string(), now, 1, now + refresh_ttl);
      std::printf("refresh_token %s\n", seal(crypto::SealedKind::refresh_token, grant, 1, view, refresh_ttl).c_str());
    }
    for (long i = 0; i < o.codes; ++i) {
      // A day: seeded before the timed window, redeemed within it.
      const auto grant = bulk.grant(client_id, sub, code_scope.to_string(), now, 0, now + 86400);
      std::printf("code %s\n", seal(crypto::SealedKind::authorization_code, grant, 0, code_scope, 86400).c_str());
    }
    if (o.access > 0) {
      const auto grant = bulk.grant(client_id, sub, view.to_string(), now, 1, now + 86400);
      for (long i = 0; i < o.access; ++i)
        std::printf("access_token %s\n", seal(crypto::SealedKind::access_token, grant, 1, view, 86400).c_str());
    }
    // Filler: live grants shaped like real ones that no one presents.
    for (long i = 0; i < o.filler; ++i) bulk.grant(client_id, sub, view.to_string(), now, 1, now + refresh_ttl);
    bulk.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "seeded %ld refresh, %ld codes, %ld access tokens, %ld filler grants in %.1f s\n", o.refresh,
                 o.codes, o.access, o.filler, seconds);
  } catch (const std::exception& e) {
    std::cerr << "boltauth-seed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
