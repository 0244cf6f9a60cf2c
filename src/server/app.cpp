#include "server/app.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

#include "core/janitor.hpp"
#include "core/responses.hpp"
#include "server/key_files.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_stores.hpp"

namespace boltauth::server {

struct Services::Impl {
  base::SystemClock system_clock;
  base::SystemRandom system_random;
  base::Clock& clock;
  base::Random& random;
  bool fresh;
  crypto::TokenMinter minter;
  KeyDirectory keys;
  SealingKeyDirectory sealers;
  store::sqlite::SqliteDatabase db;
  store::sqlite::SqliteClientStore clients{db};
  store::sqlite::SqliteAccountStore accounts{db};
  store::sqlite::SqliteGrantStore grants{db};
  store::sqlite::SqliteLegacyTokenStore legacy{db};
  store::sqlite::SqlitePurgeStore purge{db};
  store::sqlite::SqliteLoginStore logins{db};
  std::unique_ptr<core::ports::OtpSender> otp_sender;
  std::filesystem::path data_dir;
  core::ClientRegistry registry{clients, accounts, minter, random, clock};
  core::TokenService tokens{sealers, minter, random, grants, legacy, accounts};

  Impl(const AppOptions& o, const KeyFiles& files)
      : clock(o.clock ? *o.clock : static_cast<base::Clock&>(system_clock)),
        random(o.random ? *o.random : static_cast<base::Random&>(system_random)),
        fresh(!std::filesystem::exists(o.data_dir / "boltauth.db")),
        minter(files.master_key(random)),
        keys((files.ensure_signing_keys(o.rsa_key_bits, clock.now()), files.signing_dir()), o.config.id_token_ttl),
        // A sealing key opens tokens until the longest-lived token it sealed expired.
        sealers((files.ensure_sealing_key(clock.now()), files.sealing_dir()), sealing_retention(o.config), clock.now()),
        db(store::sqlite::SqliteDatabase::Options{o.data_dir / "boltauth.db", o.read_connections, o.busy_timeout_ms}),
        data_dir(o.data_dir) {
    if (o.otp_delivery == "smtp")
      otp_sender = std::make_unique<mail::SmtpSender>(o.smtp);
    else if (o.otp_delivery == "file")
      otp_sender = std::make_unique<mail::FileOutbox>(o.data_dir);
    else
      throw std::runtime_error("otp_delivery must be file or smtp, got " + o.otp_delivery);
    if (o.commit_hook) db.set_commit_hook(o.commit_hook);
  }
};

Services::Services(const AppOptions& options) {
  ensure_private_dir(options.data_dir);
  KeyFiles files(options.data_dir);
  impl_ = std::make_unique<Impl>(options, files);
}

Services::~Services() = default;
core::ClientRegistry& Services::registry() { return impl_->registry; }
core::ports::PurgeStore& Services::purge_store() { return impl_->purge; }
core::ports::KeySource& Services::keys() { return impl_->keys; }
const base::Clock& Services::clock() const { return impl_->clock; }
bool Services::fresh() const { return impl_->fresh; }
core::ports::CommitGate& Services::commit_gate() { return impl_->db; }
core::TokenService& Services::tokens() { return impl_->tokens; }

namespace {

// Where each request runs (issue 6, docs/design.md "Request placement"). The token endpoint's only blocking
// step is its commit, so it runs on the I/O thread with deferred writes; its reads are short indexed lookups.
// Static answers and the read-only introspection and userinfo endpoints (short indexed lookups, no write) run
// inline. Everything else (revocation, account, authorization and login pages, sandbox) keeps synchronous
// writes on the worker pool until it is reviewed for the deferred mode: such a handler must not read back,
// through a read connection, what it wrote in the same request.
http::Placement place(const core::Request& r) {
  const std::string& p = r.path;
  if (p == "/v1/oauth/token" || p == "/v3/oauth/token") return http::Placement::inline_deferred;
  if (p == "/.well-known/openid-configuration" || p == "/v1/oauth/jwks.json" || p == "/health" ||
      p == "/v1/oauth/introspect" || p == "/v1/oauth/userinfo")
    return http::Placement::inline_read;
  return http::Placement::worker;
}

}  // namespace

std::optional<core::CreatedClient> Services::create_demo_client(const std::string& issuer) {
  auto created = impl_->registry.create_client(core::ClientSpec{"Demo merchant", {issuer + "/demo/callback"}, {}});
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
  return std::make_unique<core::Provider>(core::ProviderDeps{
      config, i.clock, i.random, i.minter, i.keys, i.clients, i.accounts, i.grants, i.legacy, i.sealers, i.logins,
      *i.otp_sender, [this] { return demo_client(); }, std::move(log_error), std::move(log_debug)});
}

App::App(AppOptions options) : options_(std::move(options)), config_(options_.config) {
  services_ = std::make_unique<Services>(options_);
}

App::~App() { stop(); }

std::uint16_t App::start() {
  http::Pipeline pipeline;
  pipeline.place = place;
  pipeline.gate = &services_->commit_gate();
  pipeline.commit_failed = [this](const core::Request& r) {
    // Nothing of the request was kept: the same answer as a transient storage failure (Provider::handle).
    if (r.path == "/v1/oauth/token" || r.path == "/v3/oauth/token") {
      return core::oauth_error_response(protocol::OAuthError::make(protocol::ErrorCode::temporarily_unavailable),
                                        config_.error_style, false)
          .with_header("Retry-After", "1");
    }
    return core::bolt_error_response(503, 1000, "The service is temporarily unavailable.")
        .with_header("Retry-After", "1");
  };
  http_ = std::make_unique<http::HttpServer>(
      options_.server, [this](const core::Request& r) { return provider_->handle(r); },
      [quiet = options_.quiet](std::string_view line) {
        if (!quiet) spdlog::error("{}", line);
      },
      std::move(pipeline));
  const auto port = http_->listen();
  if (options_.issuer_from_listen) config_.issuer = "http://" + options_.server.host + ":" + std::to_string(port);
  if (auto err = config_.validate(); !err.empty()) throw std::runtime_error("invalid configuration: " + err);
  std::function<void(std::string_view)> log_debug;
  if (!options_.quiet && spdlog::should_log(spdlog::level::debug))
    log_debug = [](std::string_view line) { spdlog::debug("{}", line); };
  provider_ = services_->make_provider(
      config_,
      [quiet = options_.quiet](std::string_view line) {
        if (!quiet) spdlog::error("{}", line);
      },
      std::move(log_debug));
  http_->start();
  if (options_.janitor_interval > 0) janitor_ = std::thread([this] { janitor_loop(); });
  return port;
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
            "grants, {} logins",
            counts.codes, counts.grants, counts.denied_tokens, counts.legacy_tokens, counts.legacy_grants,
            counts.logins);
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

void App::run_until_signal() {
  if (http_) http_->run_until_signal();
}

core::ClientRegistry& App::registry() { return services_->registry(); }
bool App::fresh() const { return services_->fresh(); }
std::optional<core::CreatedClient> App::create_demo_client() { return services_->create_demo_client(config_.issuer); }

}  // namespace boltauth::server
