#include "server/app.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

#include "core/janitor.hpp"
#include "core/responses.hpp"
#include "server/access_log.hpp"
#include "server/db_key_material.hpp"
#include "server/key_files.hpp"
#include "server/logging.hpp"
#include "server/master_key.hpp"
#include "server/metrics.hpp"
#include "store/postgres/pg_stores.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"

namespace boltauth::server {

namespace {

/// The ports of one store backend, whichever it is.
struct StorePorts {
  core::ports::ClientStore* clients = nullptr;
  core::ports::AccountStore* accounts = nullptr;
  core::ports::GrantStore* grants = nullptr;
  core::ports::LegacyTokenStore* legacy = nullptr;
  core::ports::PurgeStore* purge = nullptr;
  core::ports::LoginStore* logins = nullptr;
  core::ports::CommitGate* gate = nullptr;
  core::ports::ThrottleStore* throttle = nullptr;  // null: failure counts kept per process
  core::ports::ReadAhead* read_ahead = nullptr;    // null: every read on its own
  core::ports::AddressStore* addresses = nullptr;
  core::ports::IdempotencyStore* idempotency = nullptr;
};

struct StoreBackend {
  virtual ~StoreBackend() = default;
  StorePorts ports;
  virtual bool ready() noexcept = 0;
  /// Readiness of the store: empty when it answers and accepts writes, else the name of the failing check
  /// ("store_reachable" or "store_writable").
  virtual std::string check() noexcept = 0;
  virtual void set_metrics(core::ports::StoreMetrics* metrics) noexcept = 0;
};

// The embedded default: one SQLite file in the data dir, secrets in files beside it.
struct SqliteBackend final : StoreBackend {
  store::sqlite::SqliteDatabase db;
  store::sqlite::SqliteClientStore clients{db};
  store::sqlite::SqliteAccountStore accounts{db};
  store::sqlite::SqliteGrantStore grants{db};
  store::sqlite::SqliteLegacyTokenStore legacy{db};
  store::sqlite::SqlitePurgeStore purge{db};
  store::sqlite::SqliteLoginStore logins{db};
  store::sqlite::SqliteAddressStore addresses{db};
  store::sqlite::SqliteIdempotencyStore idempotency{db};
  explicit SqliteBackend(const AppOptions& o)
      : db(store::sqlite::SqliteDatabase::Options{o.data_dir / "boltauth.db", o.read_connections, o.busy_timeout_ms}) {
    ports = {&clients, &accounts, &grants, &legacy, &purge, &logins, &db, nullptr, nullptr, &addresses, &idempotency};
  }
  bool ready() noexcept override { return true; }
  void set_metrics(core::ports::StoreMetrics* metrics) noexcept override { db.set_metrics(metrics); }
  std::string check() noexcept override {
    try {
      const bool answered = db.read([](store::sqlite::Connection& c) {
        auto st = c.prepare("SELECT count(*) FROM sqlite_master");
        return st.step() && st.column_int(0) > 0;
      });
      if (!answered) return "store_reachable";
    } catch (...) {
      return "store_reachable";
    }
    // Writable: the file and its directory (the WAL and its index live beside it) accept writes, the disk has
    // room, and a write transaction gets the writer (rolled back: a probe must not cost a commit).
    const auto& path = db.options().path;
    struct statvfs fs {};
    if (::access(path.c_str(), W_OK) != 0 || ::access(path.parent_path().c_str(), W_OK) != 0 ||
        ::statvfs(path.parent_path().c_str(), &fs) != 0 || fs.f_bavail == 0)
      return "store_writable";
    try {
      db.write([](store::sqlite::Connection&) { return store::sqlite::rollback(true); });
    } catch (...) {
      return "store_writable";
    }
    return {};
  }
};

// Several nodes on one PostgreSQL database; secrets in the database under the master key.
struct PostgresBackend final : StoreBackend {
  store::postgres::PgDatabase db;
  store::postgres::PgClientStore clients{db};
  store::postgres::PgAccountStore accounts{db};
  store::postgres::PgGrantStore grants{db};
  store::postgres::PgLegacyTokenStore legacy{db};
  store::postgres::PgPurgeStore purge{db};
  store::postgres::PgLoginStore logins{db};
  store::postgres::PgThrottleStore throttle{db};
  store::postgres::PgSecretStore secrets{db};
  store::postgres::PgReadAhead read_ahead{db};
  store::postgres::PgAddressStore addresses{db};
  store::postgres::PgIdempotencyStore idempotency{db};
  explicit PostgresBackend(const AppOptions& o) : db(store::postgres::PgOptions{o.store_url, o.store_connections}) {
    // Several nodes of different versions may share the database: migrating is an explicit step.
    db.require_current_schema();
    ports = {&clients, &accounts, &grants,     &legacy,    &purge,      &logins,
             &db,      &throttle, &read_ahead, &addresses, &idempotency};
  }
  bool ready() noexcept override { return db.ping(); }
  void set_metrics(core::ports::StoreMetrics* metrics) noexcept override { db.set_metrics(metrics); }
  std::string check() noexcept override {
    if (!db.ping()) return "store_reachable";
    // A standby or a read-only default refuses every write the server would make.
    return db.writable() ? std::string{} : std::string("store_writable");
  }
};

}  // namespace

std::string issuer_for(const std::string& host, std::uint16_t port, bool quiet) {
  std::string shown = host;
  if (host == "0.0.0.0" || host == "::" || host == "[::]") {
    // Every interface: no single address is the one clients use. Loopback is right on this machine only.
    shown = host == "0.0.0.0" ? "127.0.0.1" : "::1";
    if (!quiet)
      spdlog::warn(
          "listening on every interface ({}); the issuer defaults to http://{}:{}, which only this machine "
          "reaches: set --issuer to the URL clients use",
          host, shown.find(':') == std::string::npos ? shown : "[" + shown + "]", port);
  }
  // RFC 3986 section 3.2.2: an IPv6 literal in a URL is bracketed.
  if (shown.find(':') != std::string::npos) shown = "[" + shown + "]";
  return "http://" + shown + ":" + std::to_string(port);
}

bool is_postgres_url(std::string_view url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

struct Services::Impl {
  base::SystemClock system_clock;
  base::SystemRandom system_random;
  base::Clock& clock;
  base::Random& random;
  bool fresh = false;
  std::unique_ptr<StoreBackend> backend;
  std::unique_ptr<KeyMaterial> material;
  std::optional<crypto::TokenMinter> minter;
  std::unique_ptr<core::ports::KeySource> keys;
  std::unique_ptr<core::ports::SealerSource> sealers;
  std::unique_ptr<core::ports::OtpSender> otp_sender;
  std::filesystem::path data_dir;
  std::optional<core::ClientRegistry> registry;
  std::optional<core::TokenService> tokens;

  explicit Impl(const AppOptions& o)
      : clock(o.clock ? *o.clock : static_cast<base::Clock&>(system_clock)),
        random(o.random ? *o.random : static_cast<base::Random&>(system_random)),
        data_dir(o.data_dir) {
    const auto now = clock.now();
    if (o.store_url.empty()) {
      ensure_private_dir(o.data_dir);
      fresh = !std::filesystem::exists(o.data_dir / "boltauth.db");
      material = std::make_unique<KeyFiles>(o.data_dir);
      backend = std::make_unique<SqliteBackend>(o);
      if (o.commit_hook) static_cast<SqliteBackend&>(*backend).db.set_commit_hook(o.commit_hook);
    } else {
      if (!is_postgres_url(o.store_url))
        throw std::runtime_error("--store-url must be a postgresql:// URL (without it: SQLite in the data dir)");
      if (o.master_key_file.empty())
        throw std::runtime_error(
            "a PostgreSQL store needs --master-key-file (the key that encrypts the server secrets in the database); "
            "create one with `boltauth master-key generate --out FILE` and give every node the same file");
      auto master = load_master_key(o.master_key_file);
      auto pg = std::make_unique<PostgresBackend>(o);
      material = std::make_unique<DbKeyMaterial>(pg->secrets, std::move(master), random);
      backend = std::move(pg);
    }
    minter.emplace(material->master_key(random));
    material->ensure_signing_keys(o.rsa_key_bits, now);
    material->ensure_sealing_key(now);
    keys = material->key_source(o.config.id_token_ttl);
    // A sealing key opens tokens until the longest-lived token it sealed expired.
    sealers = material->sealer_source(sealing_retention(o.config), now);
    auto& p = backend->ports;
    registry.emplace(*p.clients, *p.accounts, *minter, random, clock);
    // Fixed sandbox codes written before they were hashed: only now is the storage key at hand.
    registry->hash_clear_otp_codes();
    p.accounts->fill_email_sha256();
    tokens.emplace(*sealers, *minter, random, *p.grants, *p.legacy, *p.accounts);
    if (!o.store_url.empty()) fresh = registry->list_clients().empty();
    if (o.otp_delivery == "smtp")
      otp_sender = std::make_unique<mail::SmtpSender>(o.smtp);
    else if (o.otp_delivery == "file")
      otp_sender = std::make_unique<mail::FileOutbox>(o.data_dir);
    else
      throw std::runtime_error("otp_delivery must be file or smtp, got " + o.otp_delivery);
  }
};

Services::Services(const AppOptions& options) : impl_(std::make_unique<Impl>(options)) {}

Services::~Services() = default;
core::ClientRegistry& Services::registry() { return *impl_->registry; }
core::ports::PurgeStore& Services::purge_store() { return *impl_->backend->ports.purge; }
core::ports::KeySource& Services::keys() { return *impl_->keys; }
KeyMaterial& Services::key_material() { return *impl_->material; }
bool Services::shared_store() const { return impl_->backend->ports.throttle != nullptr; }
bool Services::ready() noexcept { return impl_->backend->ready(); }
void Services::set_store_metrics(core::ports::StoreMetrics* metrics) noexcept { impl_->backend->set_metrics(metrics); }

std::string Services::readiness() noexcept {
  if (auto failed = impl_->backend->check(); !failed.empty()) return failed;
  try {
    // Keys loaded: a ring with a signer for id_tokens and a sealer for opaque tokens, as of now.
    const auto now = impl_->clock.now();
    auto ring = impl_->keys->ring(now);
    if (!ring || ring->algs().empty() || !impl_->sealers->sealer(now)) return "keys_loaded";
  } catch (...) {
    return "keys_loaded";
  }
  return {};
}
const base::Clock& Services::clock() const { return impl_->clock; }
bool Services::fresh() const { return impl_->fresh; }
core::ports::CommitGate& Services::commit_gate() { return *impl_->backend->ports.gate; }
core::TokenService& Services::tokens() { return *impl_->tokens; }

namespace {

// Where each request runs (docs/design.md "Request placement"): the route table says it for every endpoint
// (core::Route::runs_on), on SQLite and PostgreSQL alike; the server's own paths (probes, metrics) answer inline.
//
// On PostgreSQL a read is a round trip the I/O thread waits for (one statement per request, see "Reading ahead"),
// which measured faster than handing the request to a worker and back. The token endpoint's consuming write is
// predicted and sent later in the committer's batch (PgDatabase, CommitGate), so no I/O thread waits for the
// commit a 200 rests on (a failed client authentication or a reuse, written synchronously, does wait there).
http::Placement place(const core::Request& r, const core::RouteTable& routes) {
  const std::string& p = r.path;
  if (p == "/healthz" || p == "/metrics") return http::Placement::inline_read;
  if (p == "/readyz") return http::Placement::worker;  // it reads and writes the store
  const core::Route* route = routes.find(p);
  if (!route) return http::Placement::inline_read;  // 404: nothing to do
  if (route->static_answer) return http::Placement::inline_read;
  switch (route->runs_on) {
    case core::RunsOn::inline_read:
      return http::Placement::inline_read;
    case core::RunsOn::inline_deferred:
      return http::Placement::inline_deferred;
    case core::RunsOn::worker:
      break;
  }
  return http::Placement::worker;
}

bool is_token_path(std::string_view p) {
  return p == "/v1/oauth/token" || p == "/v3/oauth/token" || p == core::kStandardTokenPath;
}

// The grant_type of a token request's form body (its values need no percent-decoding), for the metrics.
std::string_view grant_type_of(std::string_view body) {
  std::size_t at = 0;
  while (at < body.size()) {
    const auto end = std::min(body.find('&', at), body.size());
    const auto pair = body.substr(at, end - at);
    if (pair.rfind("grant_type=", 0) == 0) return pair.substr(11);
    at = end + 1;
  }
  return {};
}

// Probes for orchestrators and load balancers: `/healthz` (the process serves HTTP) and `/readyz` (it can do its
// work: store reachable and writable, keys loaded; 503 naming the failing check otherwise). Answered here, in
// the server layer, because readiness is about I/O the core must not do.
std::optional<core::Response> probe(const core::Request& r, Services& services) {
  if (r.path != "/healthz" && r.path != "/readyz") return std::nullopt;
  core::Response out;
  out.with_header("Cache-Control", "no-store");
  if (r.method != "GET" && r.method != "HEAD") {
    out.status = 405;
    out.body = R"({"error":"method_not_allowed"})";
    out.with_header("Allow", "GET, HEAD");
    return out;
  }
  if (r.path == "/healthz") {
    out.body = R"({"status":"ok"})";
    return out;
  }
  const std::string failed = services.readiness();
  if (failed.empty()) {
    out.body = R"({"status":"ready"})";
  } else {
    out.status = 503;
    out.body = boost::json::serialize(boost::json::object{{"status", "not_ready"}, {"failed_check", failed}});
  }
  return out;
}

}  // namespace

std::optional<core::CreatedClient> Services::create_demo_client(const std::string& issuer) {
  auto created = impl_->registry->create_client(core::ClientSpec{"Demo merchant", {issuer + "/demo/callback"}, {}});
  auto* c = std::get_if<core::CreatedClient>(&created);
  if (!c) return std::nullopt;
  const auto file = impl_->data_dir / "demo-client.json";
  const std::string text = boost::json::serialize(boost::json::object{{"client_id", c->client.publishable_key},
                                                                      {"client_secret", c->client_secret}}) +
                           "\n";
  // The API key in clear: private to the service user, like the master key.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const auto written = ::write(fd, text.data(), text.size());
    ::close(fd);
    if (written != static_cast<ssize_t>(text.size())) std::filesystem::remove(file);
  }
  return *c;
}

std::optional<core::authorize::DemoClient> Services::demo_client() const {
  std::ifstream in(impl_->data_dir / "demo-client.json");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  const auto v = boost::json::parse(text.str(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* id = o.if_contains("client_id");
  const auto* secret = o.if_contains("client_secret");
  if (!id || !secret || !id->is_string() || !secret->is_string()) return std::nullopt;
  return core::authorize::DemoClient{std::string(id->get_string()), std::string(secret->get_string())};
}

std::unique_ptr<core::Provider> Services::make_provider(const core::Config& config,
                                                        std::function<void(std::string_view)> log_error,
                                                        std::function<void(std::string_view)> log_debug) {
  auto& i = *impl_;
  auto& p = i.backend->ports;
  return std::make_unique<core::Provider>(core::ProviderDeps{
      config, i.clock, i.random, *i.minter, *i.keys, *p.clients, *p.accounts, *p.grants, *p.legacy, *i.sealers,
      *p.logins, *i.otp_sender, *p.addresses, *p.idempotency, [this] { return demo_client(); }, std::move(log_error),
      std::move(log_debug), p.throttle, p.read_ahead});
}

App::App(AppOptions options) : options_(std::move(options)), config_(options_.config) {
  services_ = std::make_unique<Services>(options_);
}

App::~App() { stop(); }

std::uint16_t App::start() {
  http::Pipeline pipeline;
  pipeline.place = [this](const core::Request& r) { return place(r, provider_->routes()); };
  pipeline.gate = &services_->commit_gate();
  pipeline.observe = [this, quiet = options_.quiet](const http::Exchange& e) {
    // A route with an `{id}` segment is one label, whatever the id.
    const core::Route* route = provider_ ? provider_->routes().find(e.path) : nullptr;
    metrics_->record_request(route ? std::string_view(route->path) : std::string_view(e.path), e.status, e.body,
                             e.body_bytes, e.micros);
    if (!quiet) log_exchange(e);
  };
  if (!options_.quiet) pipeline.client_of = client_named;
  if (services_->shared_store()) {
    // PostgreSQL: a token or introspection request's one read goes out without the I/O thread waiting for it
    // (pipelined on that thread's own connection); the request runs when its rows are in. SQLite reads in-process.
    pipeline.prepare = [this](const core::Request& r, core::ports::EventLoop& loop, std::function<void()> resume) {
      core::ports::ReadAhead* read_ahead = provider_->read_ahead();
      if (!read_ahead) return false;
      const auto keys = provider_->read_ahead_keys(r);
      return keys && read_ahead->prefetch_async(*keys, loop, std::move(resume));
    };
  }
  pipeline.commit_failed = [this](const core::Request& r) {
    metrics_->store_error();
    // Nothing of the request was kept: the same answer as a transient storage failure (Provider::handle).
    return provider_->failure(r, true);
  };
  http_ = std::make_unique<http::HttpServer>(
      options_.server,
      [this](const core::Request& r) {
        // Every line logged while this request is handled names it (the HTTP layer always sets the header).
        const RequestLogScope log_scope(r.header("x-request-id").value_or(std::string_view()));
        if (auto answer = probe(r, *services_)) return std::move(*answer);
        if (r.path == "/metrics") return metrics_response(r);
        core::Response out = provider_->handle(r);
        if (out.status == 200 && is_token_path(r.path)) metrics_->token_issued(grant_type_of(r.body));
        return out;
      },
      [quiet = options_.quiet](std::string_view line) {
        if (!quiet) spdlog::error("{}", line);
      },
      std::move(pipeline));
  const auto port = http_->listen();
  if (options_.issuer_from_listen) config_.issuer = issuer_for(options_.server.host, port, options_.quiet);
  if (!options_.quiet && config_.mode == core::Mode::production && config_.issuer.rfind("https://", 0) != 0)
    spdlog::warn(
        "production mode with the issuer {}: relying parties need an https issuer; serve behind a "
        "TLS-terminating proxy and set --issuer (or issuer in the config file) to its https URL",
        config_.issuer);
  if (auto err = config_.validate(); !err.empty()) throw std::runtime_error("invalid configuration: " + err);
  std::function<void(std::string_view)> log_debug;
  if (!options_.quiet && spdlog::should_log(spdlog::level::debug))
    log_debug = [](std::string_view line) { spdlog::debug("{}", line); };
  provider_ = services_->make_provider(
      config_,
      [this, quiet = options_.quiet](std::string_view line) {
        // The provider reports each request that failed on the store with this prefix (Provider::handle).
        if (line.rfind("storage: ", 0) == 0) metrics_->store_error();
        if (!quiet) spdlog::error("{}", line);
      },
      std::move(log_debug));
  std::vector<std::string> paths{"/healthz", "/readyz", "/metrics"};
  for (const auto* route : provider_->routes().routes()) paths.push_back(route->path);
  metrics_ = std::make_unique<Metrics>(std::move(paths), BOLTAUTH_VERSION,
                                       services_->shared_store() ? "postgresql" : "sqlite");
  services_->set_store_metrics(metrics_.get());
  http_->start();
  if (options_.janitor_interval > 0) janitor_ = std::thread([this] { janitor_loop(); });
  return port;
}

core::Response App::metrics_response(const core::Request& r) const {
  core::Response out;
  out.with_header("Cache-Control", "no-store");
  if (r.method != "GET" && r.method != "HEAD") {
    out.status = 405;
    out.body = R"({"error":"method_not_allowed"})";
    out.with_header("Allow", "GET, HEAD");
    return out;
  }
  out.content_type = "text/plain; version=0.0.4; charset=utf-8";  // Prometheus text exposition format
  out.body = metrics_->render(http_->active_connections());
  return out;
}

void App::janitor_loop() {
  std::unique_lock lock(janitor_mutex_);
  while (
      !janitor_cv_.wait_for(lock, std::chrono::seconds(options_.janitor_interval), [this] { return janitor_stop_; })) {
    lock.unlock();
    try {
      const auto counts = core::run_janitor(services_->purge_store(), services_->clock().now(), options_.janitor_batch,
                                            &janitor_abort_);
      if (!options_.quiet && counts.total() > 0)
        spdlog::info(
            "janitor: removed {} expired codes, {} grants, {} deny-list entries, {} legacy tokens, {} legacy "
            "grants, {} logins, {} idempotency keys",
            counts.codes, counts.grants, counts.denied_tokens, counts.legacy_tokens, counts.legacy_grants,
            counts.logins, counts.idempotency_keys);
    } catch (const std::exception& e) {
      // A busy or failing store: try again next interval; requests are unaffected.
      if (!options_.quiet) spdlog::warn("janitor: {}", e.what());
    }
    lock.lock();
  }
}

void App::stop() {
  {
    std::lock_guard lock(janitor_mutex_);
    janitor_stop_ = true;
    janitor_abort_ = true;
  }
  janitor_cv_.notify_all();
  if (janitor_.joinable()) janitor_.join();
  if (http_) http_->stop();
}

void App::run_until_signal(const std::function<void()>& on_stopping) {
  if (http_) http_->run_until_signal(on_stopping);
}

core::ClientRegistry& App::registry() { return services_->registry(); }
bool App::fresh() const { return services_->fresh(); }
std::optional<core::CreatedClient> App::create_demo_client() { return services_->create_demo_client(config_.issuer); }

std::optional<core::CreatedClient> App::ensure_demo_client() {
  if (!options_.store_url.empty()) return fresh() ? create_demo_client() : std::nullopt;
  const std::string callback = config_.issuer + "/demo/callback";
  auto& registry = services_->registry();
  if (const auto demo = services_->demo_client()) {
    const auto client = registry.resolve(demo->client_id);
    if (client && registry.secret_matches(*client, demo->client_secret)) {
      // Started before with another issuer (port, host): this one's callback joins the registered ones, so /demo
      // works here and the client, its API key and its tokens stay.
      if (!registry.add_redirect_uri(*client, callback))
        throw std::runtime_error("cannot register " + callback + " for the demo client");
      return std::nullopt;
    }
    // A stale file (its client deleted, or its key rotated): a new demo client.
  }
  return create_demo_client();
}

}  // namespace boltauth::server
