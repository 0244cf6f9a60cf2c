// boltauth-seed: writes valid clients, refresh tokens, codes and filler tokens straight into a data dir's
// SQLite file (not the HTTP path), and prints what the load generator needs as `key value` lines (issue 6).
// Run it while no server uses the data dir.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <variant>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/client_registry.hpp"
#include "crypto/token_minter.hpp"
#include "protocol/scope.hpp"
#include "server/key_files.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"

using namespace boltauth;

namespace {

struct Options {
  std::filesystem::path data_dir;
  long refresh = 0;  // chains: one grant + one refresh token each, printed
  long codes = 0;    // unused codes with scope `openid bolt.account.view`, printed
  long access = 0;   // access tokens of one grant, printed (introspection)
  long filler = 0;   // stored access tokens nobody presents: the store's size for scale runs
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "boltauth-seed: " << why << "\n"
            << "usage: boltauth-seed --data-dir DIR [--refresh N] [--codes N] [--access N] [--filler N]\n";
  std::exit(2);
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

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
    for (auto* st : {grant_, token_, code_})
      if (st) sqlite3_finalize(st);
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
  void grant(const std::string& id, const std::string& client, const std::string& sub, long now) {
    prepare(grant_, "INSERT INTO grants (id, client_id, sub, auth_time, created_at) VALUES (?1, ?2, ?3, ?4, ?4)");
    bind(grant_, 1, id);
    bind(grant_, 2, client);
    bind(grant_, 3, sub);
    sqlite3_bind_int64(grant_, 4, now);
    step(grant_);
  }
  void token(const std::string& hash, int type, const std::string& grant, const std::string& client,
             const std::string& sub, const std::string& scope, long now, long ttl) {
    prepare(token_,
            "INSERT INTO tokens (hash, type, grant_id, client_id, sub, scope, issued_at, expires_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    bind(token_, 1, hash);
    sqlite3_bind_int(token_, 2, type);
    bind(token_, 3, grant);
    bind(token_, 4, client);
    bind(token_, 5, sub);
    bind(token_, 6, scope);
    sqlite3_bind_int64(token_, 7, now);
    sqlite3_bind_int64(token_, 8, now + ttl);
    step(token_);
  }
  void code(const std::string& hash, const std::string& client, const std::string& sub, const std::string& scope,
            const std::string& grant, long now) {
    prepare(code_,
            "INSERT INTO codes (hash, client_id, sub, scope, redirect_uri, code_challenge, nonce, state, grant_id, "
            "auth_time, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, '', '', '', '', ?5, ?6, ?6, ?7)");
    bind(code_, 1, hash);
    bind(code_, 2, client);
    bind(code_, 3, sub);
    bind(code_, 4, scope);
    bind(code_, 5, grant);
    sqlite3_bind_int64(code_, 6, now);
    sqlite3_bind_int64(code_, 7, now + 86400);  // a day: seeded before the timed window, redeemed within it
    step(code_);
  }

 private:
  void prepare(sqlite3_stmt*& st, const char* sql) {
    if (st == nullptr) check(sqlite3_prepare_v2(db_, sql, -1, &st, nullptr), db_, sql);
  }
  static void bind(sqlite3_stmt* st, int i, const std::string& v) {
    sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void step(sqlite3_stmt* st) {
    check(sqlite3_step(st), db_, "insert");
    sqlite3_reset(st);
    tick();
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* grant_ = nullptr;
  sqlite3_stmt* token_ = nullptr;
  sqlite3_stmt* code_ = nullptr;
  long rows_ = 0;
};

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
    else
      usage("unknown argument " + a);
  }
  if (o.data_dir.empty()) usage("--data-dir is required");
  try {
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
      auto created = registry.create_client(core::ClientSpec{
          "bench", {"https://bench.example/cb"}, {"authorization_code", "refresh_token", "client_credentials"}});
      if (auto* err = std::get_if<std::string>(&created)) throw std::runtime_error(*err);
      const auto& c = std::get<core::CreatedClient>(created);
      client_id = c.client.id;
      publishable_key = c.client.publishable_key;
      secret = c.client_secret;
      const std::string email = "bench-" + client_id + "@example.com";
      core::AccountSpec spec;
      spec.email = email;
      spec.first_name = "Bench";
      spec.last_name = "User";
      spec.email_verified = true;
      auto account = registry.create_account(spec);
      if (auto* err = std::get_if<std::string>(&account)) throw std::runtime_error(*err);
      sub = std::get<core::model::Account>(account).sub;
    }
    const long now = clock.now();
    const std::string refresh_scope = protocol::parse_scope("bolt.account.view").scope->to_string();
    const std::string code_scope = protocol::parse_scope("openid bolt.account.view").scope->to_string();
    std::printf("client_id %s\nclient_secret %s\n", publishable_key.c_str(), secret.c_str());
    Bulk bulk(o.data_dir / "boltauth.db");
    std::mt19937_64 fast(std::random_device{}());
    auto fast_id = [&] {
      char buf[33];
      std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(fast()),
                    static_cast<unsigned long long>(fast()));
      return std::string(buf);
    };
    for (long i = 0; i < o.refresh; ++i) {
      const std::string grant = "bench-" + fast_id();
      bulk.grant(grant, client_id, sub, now);
      const auto token = minter.mint(crypto::TokenKind::refresh_token, random);
      bulk.token(minter.storage_hash(token), 1, grant, client_id, sub, refresh_scope, now, 30 * 86400);
      std::printf("refresh_token %s\n", token.c_str());
    }
    for (long i = 0; i < o.codes; ++i) {
      const auto code = minter.mint(crypto::TokenKind::authorization_code, random);
      bulk.code(minter.storage_hash(code), client_id, sub, code_scope, "bench-" + fast_id(), now);
      std::printf("code %s\n", code.c_str());
    }
    if (o.access > 0) {
      const std::string grant = "bench-" + fast_id();
      bulk.grant(grant, client_id, sub, now);
      for (long i = 0; i < o.access; ++i) {
        const auto token = minter.mint(crypto::TokenKind::access_token, random);
        bulk.token(minter.storage_hash(token), 0, grant, client_id, sub, refresh_scope, now, 86400);
        std::printf("access_token %s\n", token.c_str());
      }
    }
    // Filler: rows shaped like real ones (hash of the same length) that no one can present; 1,000 per grant.
    const std::size_t hash_len = minter.storage_hash("x").size();
    std::string grant;
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string hash(hash_len, 'A');
    for (long i = 0; i < o.filler; ++i) {
      if (i % 1000 == 0) {
        grant = "bench-" + fast_id();
        bulk.grant(grant, client_id, sub, now);
      }
      std::uint64_t bits = 0;
      for (std::size_t k = 0; k < hash_len; ++k) {
        if (k % 10 == 0) bits = fast();
        hash[k] = alphabet[bits & 63];
        bits >>= 6;
      }
      bulk.token(hash, 0, grant, client_id, sub, refresh_scope, now, 86400);
    }
    bulk.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "seeded %ld refresh, %ld codes, %ld access, %ld filler tokens in %.1f s\n", o.refresh, o.codes,
                 o.access, o.filler, seconds);
  } catch (const std::exception& e) {
    std::cerr << "boltauth-seed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
