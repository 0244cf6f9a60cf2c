#include "server/cli.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <csignal>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <variant>

#include "core/janitor.hpp"
#include "server/app.hpp"
#include "server/config_loader.hpp"
#include "server/key_files.hpp"
#include "server/key_material.hpp"
#include "server/logging.hpp"
#include "server/master_key.hpp"
#include "server/systemd_notify.hpp"
#include "store/postgres/pg_database.hpp"
#include "store/sqlite/sqlite_backup.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_schema.hpp"

extern char** environ;

namespace boltauth::server {
namespace {

boost::json::object client_json(const core::model::Client& c) {
  boost::json::object o;
  o["client_id"] = c.publishable_key;
  o["id"] = c.id;
  // The client_id to configure in a standard OpenID Connect client: its id_tokens then carry one audience, a
  // string (docs/design.md "Standard relying parties").
  o["oidc_client_id"] = c.id;
  o["name"] = c.name;
  boost::json::array uris;
  for (const auto& u : c.redirect_uris) uris.emplace_back(u);
  o["redirect_uris"] = std::move(uris);
  boost::json::array logout_uris;
  for (const auto& u : c.post_logout_redirect_uris) logout_uris.emplace_back(u);
  o["post_logout_redirect_uris"] = std::move(logout_uris);
  boost::json::array grants;
  for (const auto& g : c.grant_types) grants.emplace_back(g);
  o["grant_types"] = std::move(grants);
  o["pkce_required"] = c.pkce_required;
  o["created_at"] = c.created_at;
  o["id_token_signed_response_alg"] = c.id_token_signed_response_alg;
  return o;
}

void print_client(const core::model::Client& c, const std::string* secret, bool json) {
  if (json) {
    auto o = client_json(c);
    if (secret) o["client_secret"] = *secret;
    std::cout << boost::json::serialize(o) << "\n";
    return;
  }
  std::cout << "client_id:     " << c.publishable_key << "\n";
  if (secret) std::cout << "client_secret: " << *secret << "   (shown once)\n";
  std::cout << "oidc id:       " << c.id << "   (client_id for standard OpenID Connect clients)\n";
  std::cout << "name:          " << c.name << "\n";
  for (const auto& u : c.redirect_uris) std::cout << "redirect_uri:  " << u << "\n";
  for (const auto& u : c.post_logout_redirect_uris) std::cout << "post_logout:   " << u << "\n";
  std::cout << "grants:        ";
  for (std::size_t i = 0; i < c.grant_types.size(); ++i) std::cout << (i ? ", " : "") << c.grant_types[i];
  std::cout << "\n";
  std::cout << "id_token alg:  " << c.id_token_signed_response_alg << "\n";
  std::cout << "pkce_required: " << (c.pkce_required ? "yes" : "no") << "\n";
}

/// ISO 8601 in UTC ("2026-12-03T17:25:00Z"), the form people and tools read without converting.
std::string iso8601(base::UnixSeconds t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (::gmtime_r(&tt, &tm) == nullptr) return std::to_string(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string time_text(std::optional<base::UnixSeconds> t) { return t ? iso8601(*t) : "-"; }

std::string file_number(long n) {
  std::string s = std::to_string(n);
  if (s.size() < 4) s.insert(0, 4 - s.size(), '0');
  return s;
}

void print_signing_keys(const core::KeyRing& ring) {
  std::cout << "ALG    PHASE    KID                                          ACTIVATES_AT         RETIRES_AT           "
               "UNPUBLISH_AT\n";
  for (const auto& k : ring.schedule()) {
    std::printf("%-6s %-8s %-44s %-20s %-20s %s\n", k.alg.c_str(), std::string(core::to_string(k.phase)).c_str(),
                k.kid.c_str(), iso8601(k.activates_at).c_str(), time_text(k.retires_at).c_str(),
                time_text(k.unpublish_at).c_str());
  }
}

const char* state_name(SealingKeyStatus::State s) {
  switch (s) {
    case SealingKeyStatus::State::seals:
      return "seals";
    case SealingKeyStatus::State::opens:
      return "opens";
    case SealingKeyStatus::State::retired:
      return "retired";
  }
  return "";
}

// Never the secret: the number, the id carried in tokens, and the schedule.
boost::json::object sealing_json(const SealingKeyStatus& k) {
  boost::json::object o{{"use", "sealing"},
                        {"number", k.number},
                        {"id", k.id},
                        {"state", state_name(k.state)},
                        {"created_at", k.created_at}};
  o["opens_until"] = k.opens_until ? boost::json::value(*k.opens_until) : boost::json::value(nullptr);
  return o;
}

// Signing keys first (each with "use": "sig", as in a JWK), then sealing keys ("use": "sealing"), in one array:
// the signing entries keep their fields and positions.
void print_keys(const core::KeyRing& ring, const std::vector<SealingKeyStatus>& sealing, bool json) {
  if (json) {
    boost::json::array arr;
    for (const auto& k : ring.schedule()) {
      boost::json::object o{{"use", "sig"},
                            {"kid", k.kid},
                            {"alg", k.alg},
                            {"phase", core::to_string(k.phase)},
                            {"created_at", k.created_at},
                            {"activates_at", k.activates_at}};
      o["retires_at"] = k.retires_at ? boost::json::value(*k.retires_at) : boost::json::value(nullptr);
      o["unpublish_at"] = k.unpublish_at ? boost::json::value(*k.unpublish_at) : boost::json::value(nullptr);
      arr.push_back(std::move(o));
    }
    for (const auto& k : sealing) arr.push_back(sealing_json(k));
    std::cout << boost::json::serialize(arr) << "\n";
    return;
  }
  print_signing_keys(ring);
  std::cout << "\nKIND    NUMBER ID  CREATED_AT           STATE\n";
  for (const auto& k : sealing) {
    std::string state = state_name(k.state);
    if (k.state == SealingKeyStatus::State::opens) state = "opens until " + iso8601(*k.opens_until);
    std::printf("%-7s %-6s %-3d %-20s %s\n", "sealing", file_number(k.number).c_str(), int{k.id},
                iso8601(k.created_at).c_str(), state.c_str());
  }
}

void print_demo(const core::CreatedClient& demo, const std::string& base, const std::string& data_dir) {
  const auto& id = demo.client.publishable_key;
  const auto& secret = demo.client_secret;
  std::cout << "\nSandbox in " << data_dir << ": created the demo client \"" << demo.client.name << "\" for " << base
            << ".\n"
            << "  client_id:     " << id << "\n"
            << "  client_secret: " << secret << "   (shown once; new one: boltauth client rotate-secret)\n\n"
            << "Try it (sandbox):\n"
            << "  # 1. a test shopper and a one-time authorization code\n"
            << "  curl -s -X POST " << base << "/v1/testing/shopper/create -H 'X-API-Key: " << secret
            << "' -H 'Content-Type: application/json' -d '{}'\n"
            << "  # 2. exchange the oauth_code it returned\n"
            << "  curl -s " << base
            << "/v1/oauth/token -d grant_type=authorization_code -d code=CODE -d client_id=" << id
            << " -d client_secret=" << secret << " -d 'scope=bolt.account.manage openid'\n"
            << "  # 3. call the account API with the access_token\n"
            << "  curl -s " << base << "/v1/account -H 'Authorization: Bearer ACCESS_TOKEN'\n\n";
}

// `migrate`: PostgreSQL migrates only when asked (nodes of two versions may share a database during an upgrade);
// a SQLite data dir migrates when opened, so this opens it and reports its version.
int run_migrate(const AppOptions& options, bool json) {
  int from = 0, to = 0;
  std::string where;
  if (!options.store_url.empty()) {
    if (!is_postgres_url(options.store_url)) throw std::runtime_error("--store-url must be a postgresql:// URL");
    store::postgres::PgDatabase db(store::postgres::PgOptions{options.store_url, 1});
    std::tie(from, to) = db.migrate();
    where = db.redacted_url();
  } else {
    ensure_private_dir(options.data_dir);
    const auto file = options.data_dir / "boltauth.db";
    from = store::sqlite::SqliteSchema::version_of(file);
    store::sqlite::SqliteDatabase db(store::sqlite::SqliteDatabase::Options{file, 1, options.busy_timeout_ms});
    to = store::sqlite::SqliteDatabase::latest_schema_version();
    where = file.string();
  }
  if (json)
    std::cout << boost::json::serialize(boost::json::object{{"store", where}, {"from", from}, {"to", to}}) << "\n";
  else if (from == to)
    std::cout << where << ": schema is current (version " << to << ")\n";
  else
    std::cout << where << ": migrated schema from version " << from << " to " << to << "\n";
  return 0;
}

// Exit codes: 0 success, 1 failure, 2 usage (a wrong command, option or value).
constexpr int kFailure = 1;
constexpr int kUsage = 2;

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// "unknown command", the closest known one when it is close, and the list.
std::string unknown_command(const std::string& given, const std::vector<std::string>& commands) {
  std::string out = "error: unknown command '" + given + "'.";
  std::string best;
  std::size_t best_distance = 3;  // suggest only what is at most two edits away
  for (const auto& c : commands)
    if (const auto d = edit_distance(given, c); d < best_distance) {
      best_distance = d;
      best = c;
    }
  if (!best.empty()) out += " Did you mean '" + best + "'?";
  out += "\nCommands:";
  for (const auto& c : commands) out += " " + c;
  out += "\nRun 'boltauth help COMMAND' for a command's options.\n";
  return out;
}

/// A filesystem failure in words: the path, what is wrong, and for a permission problem what to check.
std::string describe(const std::filesystem::filesystem_error& e) {
  std::string out =
      "cannot use " + (e.path1().empty() ? std::string("a file") : e.path1().string()) + ": " + e.code().message();
  if (e.code() == std::errc::permission_denied || e.code() == std::errc::operation_not_permitted)
    out += " (boltauth needs to read and write its data dir: check the owner and mode of that path and its parents)";
  else if (e.code() == std::errc::read_only_file_system)
    out += " (the data dir must be on a writable file system)";
  else if (e.code() == std::errc::no_space_on_device)
    out += " (free some space on that file system)";
  return out;
}

// `backup`: the database (a consistent online snapshot) and the key material beside it, in one 0600 file.
int run_backup(const AppOptions& options, const std::filesystem::path& out, bool json) {
  std::vector<store::sqlite::BackupFile> files;
  const auto keys = options.data_dir / "keys";
  if (std::filesystem::exists(keys)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(keys)) {
      // Lock files (".lock") carry nothing; every key file is immutable once written, so copying them after the
      // snapshot can only add a key the snapshot does not use yet, never miss one it does.
      if (!entry.is_regular_file() || entry.path().filename().string().rfind('.', 0) == 0) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) throw std::runtime_error("cannot read " + entry.path().string());
      files.push_back({std::filesystem::relative(entry.path(), options.data_dir).generic_string(), std::move(content)});
    }
  }
  store::sqlite::write_backup(options.data_dir / "boltauth.db", out, files);
  if (json)
    std::cout << boost::json::serialize(boost::json::object{{"backup", out.string()}, {"key_files", files.size()}})
              << "\n";
  else
    std::cout << "wrote " << out.string() << " (mode 0600): the database and " << files.size()
              << " key files; restore with boltauth restore --from " << out.string() << " --data-dir NEW_DIR\n";
  return 0;
}

// `restore`: a new data dir from a backup file; never over existing data.
int run_restore(const std::filesystem::path& from, const std::filesystem::path& data_dir, bool json) {
  if (std::filesystem::exists(data_dir) && !std::filesystem::is_empty(data_dir)) {
    std::cerr << "error: " << data_dir.string() << " is not empty: restore into a new directory\n";
    return kFailure;
  }
  ensure_private_dir(data_dir);
  const auto files = store::sqlite::read_backup(from, data_dir / "boltauth.db");
  for (const auto& f : files) {
    const std::filesystem::path relative(f.path);
    if (relative.is_absolute() || relative.lexically_normal().string().rfind("..", 0) == 0 ||
        relative.lexically_normal().string().rfind("keys/", 0) != 0)
      throw std::runtime_error(from.string() + " names a file outside the data dir's keys/: " + f.path);
    const auto target = data_dir / relative;
    for (auto dir = target.parent_path(); dir != data_dir; dir = dir.parent_path()) ensure_private_dir(dir);
    const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      throw std::filesystem::filesystem_error("cannot create", target, std::error_code(errno, std::generic_category()));
    const bool written =
        ::write(fd, f.content.data(), f.content.size()) == static_cast<ssize_t>(f.content.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + target.string());
  }
  if (json)
    std::cout << boost::json::serialize(
                     boost::json::object{{"data_dir", data_dir.string()}, {"key_files", files.size()}})
              << "\n";
  else
    std::cout << "restored " << data_dir.string() << " from " << from.string() << " (" << files.size()
              << " key files): serve it with --data-dir " << data_dir.string() << "\n";
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"boltauth: Bolt-compatible OAuth 2.0 and OpenID Connect server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "boltauth " BOLTAUTH_VERSION);
  AppOptions options;
  std::string data_dir = "data";
  bool json = false;

  // serve
  auto* serve = app.add_subcommand("serve", "Run the server");
  std::string config_file, listen, issuer, mode;
  int threads = 0;
  serve->add_option("--config", config_file, "TOML config file");
  serve->add_option("--listen", listen, "HOST:PORT (default 127.0.0.1:8080)");
  serve->add_option("--data-dir", data_dir, "data directory (default ./data)");
  serve->add_option("--issuer", issuer, "issuer URL (default http://HOST:PORT)");
  serve->add_option("--mode", mode, "sandbox (default) or production");
  serve->add_option("--threads", threads, "I/O threads, 1..1024 (default: one per core)")->check(CLI::Range(1, 1024));
  std::string log_level, log_format;
  serve
      ->add_option("--log-level", log_level,
                   "error, warn, info (default: one access line per request) or debug (also why requests were refused)")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}));  // BOLTAUTH_LOG_LEVEL: load_config_env
  serve->add_option("--log-format", log_format, "text (default) or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));  // BOLTAUTH_LOG_FORMAT: load_config_env

  // config show: the settings serve would run with, and where each came from.
  auto* config_cmd = app.add_subcommand("config", "Show the effective settings");
  config_cmd->require_subcommand(1);
  auto* config_show = config_cmd->add_subcommand(
      "show",
      "Print every setting serve would use (secrets redacted) and where it came from: flag, environment "
      "(BOLTAUTH_<KEY>), config file or default");
  config_show->add_option("--config", config_file, "TOML config file");
  config_show->add_option("--listen", listen, "HOST:PORT");
  config_show->add_option("--data-dir", data_dir, "data directory (default ./data)");
  config_show->add_option("--issuer", issuer, "issuer URL");
  config_show->add_option("--mode", mode, "sandbox or production");
  config_show->add_option("--threads", threads, "I/O threads")->check(CLI::Range(1, 1024));
  config_show->add_flag("--json", json, "print JSON");

  // client ...
  auto* client = app.add_subcommand("client", "Manage clients (merchants)");
  client->require_subcommand(1);
  std::string name, client_id;
  std::vector<std::string> redirect_uris, grants, post_logout_uris;
  std::string id_token_alg = "RS256";
  auto* c_create = client->add_subcommand("create", "Register a client; prints its API key once");
  c_create->add_option("--name", name, "display name")->required();
  c_create->add_option("--redirect-uri", redirect_uris, "registered redirect URI (repeatable)");
  c_create->add_option("--post-logout-redirect-uri", post_logout_uris,
                       "where /v1/oauth/logout may send the browser back (repeatable)");
  c_create
      ->add_option("--grant,--grant-types", grants,
                   "allowed grant types (repeatable or comma separated: authorization_code, refresh_token, "
                   "client_credentials; default authorization_code, refresh_token)")
      ->delimiter(',');
  c_create->add_option("--id-token-alg", id_token_alg, "id_token_signed_response_alg: RS256 (default), ES256 or EdDSA")
      ->check(CLI::IsMember({"RS256", "ES256", "EdDSA"}));
  bool no_pkce = false;
  c_create->add_flag("--no-pkce", no_pkce, "do not require PKCE at the authorization endpoint (default: required)");
  auto* c_list = client->add_subcommand("list", "List clients");
  auto* c_show = client->add_subcommand("show", "Show a client");
  c_show->add_option("ID", client_id, "client id or publishable key")->required();
  auto* c_delete = client->add_subcommand("delete", "Delete a client and everything issued to it");
  c_delete->add_option("ID", client_id, "client id or publishable key")->required();
  auto* c_rotate = client->add_subcommand("rotate-secret", "Issue a new API key; the old one stops working");
  c_rotate->add_option("ID", client_id, "client id or publishable key")->required();
  for (auto* sub : {c_create, c_list, c_show, c_delete, c_rotate}) {
    sub->add_option("--data-dir", data_dir, "data directory (default ./data)");
    sub->add_flag("--json", json, "print JSON");
  }

  // account create
  auto* account = app.add_subcommand("account", "Manage shopper accounts");
  account->require_subcommand(1);
  std::string email, first_name, last_name, phone;
  auto* a_create = account->add_subcommand("create", "Create a shopper account");
  a_create->add_option("--email", email, "email")->required();
  a_create->add_option("--first-name", first_name, "first name");
  a_create->add_option("--last-name", last_name, "last name");
  a_create->add_option("--phone", phone, "E.164 phone number");
  a_create->add_option("--data-dir", data_dir, "data directory (default ./data)");
  a_create->add_flag("--json", json, "print JSON");

  // keys ...
  auto* keys = app.add_subcommand("keys", "Manage id_token signing keys and token sealing keys");
  keys->require_subcommand(1);
  std::string key_alg = "RS256";
  std::string keys_config;
  std::int64_t activation_delay = -1;
  auto* k_rotate = keys->add_subcommand(
      "rotate", "Add a key: published at once, signing after key_activation_delay; the old one retires then");
  auto* alg_opt = k_rotate->add_option("--alg", key_alg, "RS256 (default), ES256 or EdDSA")
                      ->check(CLI::IsMember({"RS256", "ES256", "EdDSA"}));
  auto* delay_opt =
      k_rotate
          ->add_option("--activation-delay", activation_delay,
                       "seconds before the new key signs, 0..31536000 (default: key_activation_delay, 3600)")
          ->check(CLI::Range(std::int64_t{0}, std::int64_t{31'536'000}));
  bool rotate_sealing = false;
  // A sealing key is never published, so it seals at once: neither an alg nor a delay applies.
  k_rotate
      ->add_flag("--sealing", rotate_sealing,
                 "rotate the token sealing key instead: the new key seals at once, the old one still opens the "
                 "tokens it sealed until they have expired")
      ->excludes(alg_opt)
      ->excludes(delay_opt);
  auto* k_list = keys->add_subcommand("list", "List signing and sealing keys and their phases");
  for (auto* sub : {k_rotate, k_list}) {
    sub->add_option("--data-dir", data_dir, "data directory (default ./data)");
    sub->add_option("--config", keys_config,
                    "TOML config file (key_activation_delay, id_token_ttl, rsa_key_bits, token lifetimes)");
    sub->add_flag("--json", json, "print JSON");
  }

  // master-key generate
  auto* master_key =
      app.add_subcommand("master-key", "Manage the master key file that encrypts secrets kept in a database");
  master_key->require_subcommand(1);
  std::string master_key_out;
  auto* mk_generate =
      master_key->add_subcommand("generate", "Write a new master key file (mode 0600); never overwrites a file");
  mk_generate->add_option("--out", master_key_out, "the file to create")->required();

  // janitor
  auto* janitor = app.add_subcommand("janitor", "Delete expired and revoked codes, tokens and grants once");
  janitor->add_option("--data-dir", data_dir, "data directory (default ./data)");
  janitor->add_option("--config", keys_config, "TOML config file (janitor_batch)");
  janitor->add_flag("--json", json, "print JSON");

  // migrate
  auto* migrate = app.add_subcommand("migrate", "Apply the store's schema migrations (idempotent) and exit");
  migrate->add_option("--data-dir", data_dir, "data directory (default ./data)");
  migrate->add_flag("--json", json, "print JSON");

  // backup, restore
  std::string backup_out, restore_from;
  auto* backup = app.add_subcommand(
      "backup", "Write a consistent copy of the SQLite store and its keys to one file (mode 0600), while serving");
  backup->add_option("--out", backup_out, "the backup file to create (must not exist)")->required();
  backup->add_option("--data-dir", data_dir, "data directory (default ./data)");
  backup->add_flag("--json", json, "print JSON");
  auto* restore = app.add_subcommand("restore", "Set up a new data dir from a backup file");
  restore->add_option("--from", restore_from, "the backup file")->required();
  restore->add_option("--data-dir", data_dir, "the new data directory (must not exist or be empty)")->required();
  restore->add_flag("--json", json, "print JSON");

  // Where the data lives: every command takes the same store options (flags > environment > config file).
  std::string store_url, master_key_file;
  std::vector<std::string> trusted_proxies;
  int store_connections = 0;
  for (auto* sub : {serve, config_show, c_create, c_list, c_show, c_delete, c_rotate, a_create, k_rotate, k_list,
                    janitor, migrate, backup}) {
    sub->add_option("--store-url", store_url,
                    "postgresql://USER[:PASS]@HOST[:PORT]/DB: keep everything in PostgreSQL (several nodes); default: "
                    "SQLite in the data dir")
        ->envname("BOLTAUTH_STORE_URL");
    sub->add_option("--master-key-file", master_key_file,
                    "with PostgreSQL: the key that encrypts the server secrets in the database (boltauth master-key "
                    "generate); the same file on every node")
        ->envname("BOLTAUTH_MASTER_KEY_FILE");
  }
  serve->add_option("--store-connections", store_connections, "PostgreSQL connections of this node (default 16)")
      ->check(CLI::Range(1, 1000))
      ->envname("BOLTAUTH_STORE_CONNECTIONS");
  serve
      ->add_option("--trusted-proxy", trusted_proxies,
                   "CIDR of a load balancer whose X-Forwarded-For/-Proto are believed (repeatable or comma separated)")
      ->delimiter(',');  // BOLTAUTH_TRUSTED_PROXIES: with every other setting (load_config_env)
  const auto apply_store = [&] {
    if (!store_url.empty()) options.store_url = store_url;
    if (!master_key_file.empty()) options.master_key_file = master_key_file;
    if (store_connections > 0) options.store_connections = store_connections;
    if (!trusted_proxies.empty()) options.server.trusted_proxies = trusted_proxies;
  };

  // `help [COMMAND]`, `version`, and a mistyped command named with a suggestion; exit 2 for every usage error.
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) commands.push_back(sub->get_name());
  if (argc < 2) {
    std::cerr << app.help() << "\nerror: a command is required\n";
    return kUsage;
  }
  const std::string first = argv[1];
  if (first == "help") {
    if (argc < 3) {
      std::cout << app.help();
      return 0;
    }
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == argv[2]) {
        std::cout << sub->help();
        return 0;
      }
    std::cerr << unknown_command(argv[2], commands);
    return kUsage;
  }
  if (first == "version") {
    std::cout << "boltauth " BOLTAUTH_VERSION "\n";
    return 0;
  }
  if (!first.empty() && first[0] != '-' && std::find(commands.begin(), commands.end(), first) == commands.end()) {
    std::cerr << unknown_command(first, commands);
    return kUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and the hint to --help
    return kUsage;
  }

  try {
    if (*mk_generate) {
      base::SystemRandom random;
      generate_master_key_file(master_key_out, random);
      std::cout << "wrote a new master key to " << master_key_out
                << " (mode 0600): give every node and every CLI call of the database this same file, and keep a "
                   "copy somewhere safe: the database's secrets open with no other\n";
      return 0;
    }
    // serve's settings, and config show's report of them: defaults < config file < environment < flags.
    ConfigSources sources;
    std::vector<std::string> unknown_env;
    const auto on_command_line = [&](const std::string& flag) {
      for (int i = 1; i < argc; ++i)
        if (argv[i] == flag || std::string_view(argv[i]).rfind(flag + "=", 0) == 0) return true;
      return false;
    };
    const auto serve_settings = [&] {
      if (!config_file.empty()) load_config_file(config_file, options, &sources);
      unknown_env = load_config_env(options, environ, &sources);
      const auto flag = [&](const std::string& option, const std::string& key) {
        if (on_command_line(option)) sources[key] = "flag " + option;
      };
      if (on_command_line("--data-dir") || !sources.count("data_dir")) options.data_dir = data_dir;
      flag("--data-dir", "data_dir");
      if (!listen.empty()) apply_listen(listen, options);
      flag("--listen", "listen");
      if (!issuer.empty()) {
        options.config.issuer = issuer;
        options.issuer_from_listen = false;
      }
      flag("--issuer", "issuer");
      if (!mode.empty()) apply_mode(mode, options);
      flag("--mode", "mode");
      if (threads > 0) options.server.io_threads = threads;
      flag("--threads", "threads");
      apply_store();
      flag("--store-url", "store_url");
      flag("--master-key-file", "master_key_file");
      flag("--store-connections", "store_connections");
      flag("--trusted-proxy", "trusted_proxies");
      // Flags win over the environment and the config file.
      if (!log_level.empty()) options.log_level = log_level;
      flag("--log-level", "log_level");
      if (!log_format.empty()) options.log_format = log_format;
      flag("--log-format", "log_format");
    };
    if (*config_show) {
      serve_settings();
      const auto settings = effective_settings(options);
      if (json) {
        boost::json::array out;
        for (const auto& [key, value] : settings) {
          const auto it = sources.find(key);
          out.push_back(boost::json::object{
              {"key", key}, {"value", value}, {"source", it == sources.end() ? "default" : it->second}});
        }
        std::cout << boost::json::serialize(out) << "\n";
      } else {
        for (const auto& [key, value] : settings) {
          const auto it = sources.find(key);
          std::printf("%-36s %-34s %s\n", key.c_str(), value.empty() ? "\"\"" : value.c_str(),
                      it == sources.end() ? "default" : it->second.c_str());
        }
      }
      for (const auto& v : unknown_env) std::cerr << "warning: " << v << " names no setting; ignored\n";
      return 0;
    }
    if (*serve) {
      serve_settings();
      configure_logging(*parse_log_format(options.log_format), options.log_level);
      for (const auto& v : unknown_env) spdlog::warn("{} names no setting; ignored", v);
      // SIGTERM/SIGINT wait, blocked in this thread and every thread started from here on, until
      // run_until_signal() has its handler in place: a stop asked for while starting drains like any other
      // instead of killing the process by the default action.
      sigset_t stop_signals;
      ::sigemptyset(&stop_signals);
      ::sigaddset(&stop_signals, SIGTERM);
      ::sigaddset(&stop_signals, SIGINT);
      ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
      App server(options);
      const auto port = server.start();
      const std::string base = issuer_for(options.server.host, port, true);
      if (server.config().mode == core::Mode::sandbox) {
        if (auto created = server.ensure_demo_client()) print_demo(*created, base, options.data_dir.string());
      }
      if (server.config().mode == core::Mode::sandbox)
        std::cout << "demo page: " << server.config().issuer << "/demo" << std::endl;
      if (server.config().mode == core::Mode::production && server.registry().list_clients().empty()) {
        const std::string where = options.store_url.empty()
                                      ? "--data-dir " + options.data_dir.string()
                                      : "--store-url '" + store::postgres::redact_url(options.store_url) +
                                            "' --master-key-file " + options.master_key_file.string();
        std::cout << "No clients yet: nothing can get a token. Register each merchant with\n  boltauth client create "
                  << where << " --name NAME --redirect-uri https://merchant.example/callback\n"
                  << "(the README's \"Production\" section lists the other settings: issuer, TLS, SMTP, backups)"
                  << std::endl;
      }
      spdlog::info("boltauth {} mode, {}, issuer {}",
                   server.config().mode == core::Mode::sandbox ? "sandbox" : "production",
                   options.store_url.empty() ? "data dir " + options.data_dir.string()
                                             : "store " + store::postgres::redact_url(options.store_url),
                   server.config().issuer);
      std::cout << "listening on " << base << std::endl;
      // Type=notify units (packaging/boltauth.service): started once listening, stopping while draining.
      notify_systemd("READY=1\nSTATUS=listening on " + base);
      server.run_until_signal([] { notify_systemd("STOPPING=1"); });
      spdlog::info("stopped");
      return 0;
    }

    if (!keys_config.empty()) load_config_file(keys_config, options);
    options.data_dir = data_dir;
    options.quiet = true;
    apply_store();
    if (*migrate) return run_migrate(options, json);
    if (*restore) return run_restore(restore_from, options.data_dir, json);
    if (*backup && !options.store_url.empty()) {
      std::cerr << "error: backup copies a SQLite data dir; on PostgreSQL back up with pg_dump and keep the master key "
                   "file apart (docs/deployment.md)\n";
      return kUsage;
    }
    if (options.store_url.empty() && !std::filesystem::exists(options.data_dir / "boltauth.db")) {
      // Only `serve` and `migrate` set up a data dir from nothing, and commands that add something (a client, an
      // account, a key) when told where: a mistyped or forgotten --data-dir never yields a second, empty store
      // with keys of its own.
      bool given = false;
      for (auto* sub : {c_create, c_list, c_show, c_delete, c_rotate, a_create, k_rotate, k_list, janitor, backup})
        if (*sub && sub->count("--data-dir") > 0) given = true;
      if (!((*c_create || *a_create || *k_rotate) && given)) {
        std::cerr << "error: no boltauth data in " << options.data_dir.string()
                  << " (no boltauth.db there): pass --data-dir with the directory `boltauth serve` uses"
                  << (given ? "" : " (default ./data)") << ", or --store-url for PostgreSQL\n";
        return kFailure;
      }
    }
    if (*backup) return run_backup(options, backup_out, json);
    Services services(options);
    if (*k_rotate || *k_list) {
      const base::UnixSeconds now = services.clock().now();
      auto& material = services.key_material();
      if (*k_rotate && rotate_sealing) {
        const auto added = material.rotate_sealing(now);
        if (!json)
          std::cout << "added sealing key " << file_number(added.number) << " (id " << int{added.key.id}
                    << "): seals from now on\n";
      } else if (*k_rotate) {
        const std::int64_t delay = activation_delay >= 0 ? activation_delay : options.key_activation_delay;
        auto added = material.rotate(key_alg, options.rsa_key_bits, services.clock().now(), delay);
        if (!json)
          std::cout << "added " << added.key->alg() << " key " << added.key->kid() << ": published now, signs from "
                    << iso8601(added.activates_at) << " (in " << delay << " s)\n";
      }
      const auto ring = services.keys().ring(now);
      const auto sealing = sealing_schedule(material.sealing_key_files(), now, sealing_retention(options.config));
      if (*k_list || json) print_keys(*ring, sealing, json);
      return 0;
    }
    if (*janitor) {
      const auto c = core::run_janitor(services.purge_store(), services.clock().now(), options.janitor_batch);
      if (json)
        std::cout << boost::json::serialize(boost::json::object{{"codes", c.codes},
                                                                {"grants", c.grants},
                                                                {"denied_tokens", c.denied_tokens},
                                                                {"legacy_tokens", c.legacy_tokens},
                                                                {"legacy_grants", c.legacy_grants},
                                                                {"logins", c.logins},
                                                                {"idempotency_keys", c.idempotency_keys}})
                  << "\n";
      else
        std::cout << "removed " << c.codes << " expired codes, " << c.grants << " grants, " << c.denied_tokens
                  << " deny-list entries, " << c.legacy_tokens << " legacy tokens, " << c.legacy_grants
                  << " legacy grants, " << c.logins << " login requests/sessions, " << c.idempotency_keys
                  << " idempotency keys\n";
      return 0;
    }
    auto& registry = services.registry();
    if (*c_create) {
      core::ClientSpec spec{name, redirect_uris, grants, id_token_alg};
      spec.pkce_required = !no_pkce;
      spec.post_logout_redirect_uris = post_logout_uris;
      auto created = registry.create_client(spec);
      if (auto* err = std::get_if<std::string>(&created)) {
        std::cerr << "error: " << *err << "\n";
        return kUsage;
      }
      const auto& c = std::get<core::CreatedClient>(created);
      print_client(c.client, &c.client_secret, json);
      return 0;
    }
    if (*c_list) {
      auto clients = registry.list_clients();
      if (json) {
        boost::json::array arr;
        for (const auto& c : clients) arr.push_back(client_json(c));
        std::cout << boost::json::serialize(arr) << "\n";
      } else {
        for (const auto& c : clients) std::cout << c.publishable_key << "  " << c.name << "\n";
      }
      return 0;
    }
    if (*c_show || *c_delete || *c_rotate) {
      auto c = registry.resolve(client_id);
      if (!c) {
        std::cerr << "error: no client " << client_id << "\n";
        return kFailure;
      }
      if (*c_show) print_client(*c, nullptr, json);
      if (*c_delete) {
        registry.delete_client(c->id);
        if (json)
          std::cout << "{\"deleted\":\"" << c->publishable_key << "\"}\n";
        else
          std::cout << "deleted " << c->publishable_key << "\n";
      }
      if (*c_rotate) {
        auto secret = registry.rotate_secret(c->id);
        if (!secret) {
          std::cerr << "error: no client " << client_id << "\n";
          return kFailure;
        }
        print_client(*c, &*secret, json);
      }
      return 0;
    }
    if (*a_create) {
      core::AccountSpec spec;
      spec.email = email;
      spec.first_name = first_name;
      spec.last_name = last_name;
      if (!phone.empty()) spec.phone = phone;
      auto created = registry.create_account(spec);
      if (auto* err = std::get_if<std::string>(&created)) {
        std::cerr << "error: " << *err << "\n";
        return kUsage;
      }
      const auto& a = std::get<core::model::Account>(created);
      if (json) {
        boost::json::object o{{"sub", a.sub},
                              {"email", a.email},
                              {"email_verified", a.email_verified},
                              {"first_name", a.first_name},
                              {"last_name", a.last_name}};
        if (a.phone) o["phone"] = *a.phone;
        std::cout << boost::json::serialize(o) << "\n";
      } else {
        std::cout << "sub:   " << a.sub << "\nemail: " << a.email << "\n";
      }
      return 0;
    }
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "error: " << describe(e) << "\n";
    return kFailure;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kFailure;
  }
  return 0;
}

}  // namespace boltauth::server
