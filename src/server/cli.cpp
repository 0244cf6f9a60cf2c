#include "server/cli.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <variant>

#include "core/janitor.hpp"
#include "server/app.hpp"
#include "server/config_loader.hpp"
#include "server/key_files.hpp"
#include "server/key_material.hpp"
#include "server/logging.hpp"
#include "server/master_key.hpp"
#include "store/postgres/pg_database.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_schema.hpp"

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
  std::cout << "grants:        ";
  for (std::size_t i = 0; i < c.grant_types.size(); ++i) std::cout << (i ? ", " : "") << c.grant_types[i];
  std::cout << "\n";
  std::cout << "id_token alg:  " << c.id_token_signed_response_alg << "\n";
  std::cout << "pkce_required: " << (c.pkce_required ? "yes" : "no") << "\n";
}

std::string time_text(std::optional<base::UnixSeconds> t) { return t ? std::to_string(*t) : "-"; }

std::string file_number(long n) {
  std::string s = std::to_string(n);
  if (s.size() < 4) s.insert(0, 4 - s.size(), '0');
  return s;
}

void print_signing_keys(const core::KeyRing& ring) {
  std::cout << "ALG    PHASE    KID                                          ACTIVATES_AT RETIRES_AT UNPUBLISH_AT\n";
  for (const auto& k : ring.schedule()) {
    std::printf("%-6s %-8s %-44s %-12s %-10s %s\n", k.alg.c_str(), std::string(core::to_string(k.phase)).c_str(),
                k.kid.c_str(), std::to_string(k.activates_at).c_str(), time_text(k.retires_at).c_str(),
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
  std::cout << "\nKIND    NUMBER ID  CREATED_AT   STATE\n";
  for (const auto& k : sealing) {
    std::string state = state_name(k.state);
    if (k.state == SealingKeyStatus::State::opens) state = "opens until " + std::to_string(*k.opens_until);
    std::printf("%-7s %-6s %-3d %-12s %s\n", "sealing", file_number(k.number).c_str(), int{k.id},
                std::to_string(k.created_at).c_str(), state.c_str());
  }
}

void print_demo(const core::CreatedClient& demo, const std::string& base, const std::string& data_dir) {
  const auto& id = demo.client.publishable_key;
  const auto& secret = demo.client_secret;
  std::cout << "\nFirst start in " << data_dir << ": created the demo client \"" << demo.client.name << "\".\n"
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
  serve->add_option("--threads", threads, "I/O threads (default: one per core)");
  std::string log_level, log_format;
  serve
      ->add_option("--log-level", log_level,
                   "error, warn, info (default: one access line per request) or debug (also why requests were refused)")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}))
      ->envname("BOLTAUTH_LOG_LEVEL");
  serve->add_option("--log-format", log_format, "text (default) or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->envname("BOLTAUTH_LOG_FORMAT");

  // client ...
  auto* client = app.add_subcommand("client", "Manage clients (merchants)");
  client->require_subcommand(1);
  std::string name, client_id;
  std::vector<std::string> redirect_uris, grants;
  std::string id_token_alg = "RS256";
  auto* c_create = client->add_subcommand("create", "Register a client; prints its API key once");
  c_create->add_option("--name", name, "display name")->required();
  c_create->add_option("--redirect-uri", redirect_uris, "registered redirect URI (repeatable)");
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
  auto* delay_opt = k_rotate->add_option("--activation-delay", activation_delay,
                                         "seconds before the new key signs (default: key_activation_delay, 3600)");
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

  // Where the data lives: every command takes the same store options (flags > environment > config file).
  std::string store_url, master_key_file;
  std::vector<std::string> trusted_proxies;
  int store_connections = 0;
  for (auto* sub :
       {serve, c_create, c_list, c_show, c_delete, c_rotate, a_create, k_rotate, k_list, janitor, migrate}) {
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
      ->delimiter(',')
      ->envname("BOLTAUTH_TRUSTED_PROXIES");
  const auto apply_store = [&] {
    if (!store_url.empty()) options.store_url = store_url;
    if (!master_key_file.empty()) options.master_key_file = master_key_file;
    if (store_connections > 0) options.store_connections = store_connections;
    if (!trusted_proxies.empty()) options.server.trusted_proxies = trusted_proxies;
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
    if (*serve) {
      if (!config_file.empty()) load_config_file(config_file, options);
      if (serve->count("--data-dir"))
        options.data_dir = data_dir;
      else if (config_file.empty())
        options.data_dir = data_dir;
      if (!listen.empty()) apply_listen(listen, options);
      if (!issuer.empty()) {
        options.config.issuer = issuer;
        options.issuer_from_listen = false;
      }
      if (!mode.empty()) apply_mode(mode, options);
      if (threads > 0) options.server.io_threads = threads;
      apply_store();
      // Flags and environment win over the config file.
      if (!log_level.empty()) options.log_level = log_level;
      if (!log_format.empty()) options.log_format = log_format;
      configure_logging(*parse_log_format(options.log_format), options.log_level);
      App server(options);
      const auto port = server.start();
      const std::string base = "http://" + options.server.host + ":" + std::to_string(port);
      if (server.fresh() && server.config().mode == core::Mode::sandbox) {
        if (auto created = server.create_demo_client()) print_demo(*created, base, options.data_dir.string());
      }
      if (server.config().mode == core::Mode::sandbox)
        std::cout << "demo page: " << server.config().issuer << "/demo" << std::endl;
      spdlog::info("boltauth {} mode, {}, issuer {}",
                   server.config().mode == core::Mode::sandbox ? "sandbox" : "production",
                   options.store_url.empty() ? "data dir " + options.data_dir.string()
                                             : "store " + store::postgres::redact_url(options.store_url),
                   server.config().issuer);
      std::cout << "listening on " << base << std::endl;
      server.run_until_signal();
      spdlog::info("stopped");
      return 0;
    }

    if (!keys_config.empty()) load_config_file(keys_config, options);
    options.data_dir = data_dir;
    options.quiet = true;
    apply_store();
    if (*migrate) return run_migrate(options, json);
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
                    << added.activates_at << " (in " << delay << " s)\n";
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
                                                                {"logins", c.logins}})
                  << "\n";
      else
        std::cout << "removed " << c.codes << " expired codes, " << c.grants << " grants, " << c.denied_tokens
                  << " deny-list entries, " << c.legacy_tokens << " legacy tokens, " << c.legacy_grants
                  << " legacy grants, " << c.logins << " login requests/sessions\n";
      return 0;
    }
    auto& registry = services.registry();
    if (*c_create) {
      core::ClientSpec spec{name, redirect_uris, grants, id_token_alg};
      spec.pkce_required = !no_pkce;
      auto created = registry.create_client(spec);
      if (auto* err = std::get_if<std::string>(&created)) {
        std::cerr << "error: " << *err << "\n";
        return 2;
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
        return 3;
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
          return 3;
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
        return 2;
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
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace boltauth::server
