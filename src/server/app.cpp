#include "server/app.hpp"

#include <spdlog/spdlog.h>

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
  core::KeyRing keys;
  store::sqlite::SqliteDatabase db;
  store::sqlite::SqliteClientStore clients{db};
  store::sqlite::SqliteAccountStore accounts{db};
  store::sqlite::SqliteGrantStore grants{db};
  core::ClientRegistry registry{clients, accounts, minter, random, clock};

  Impl(const AppOptions& o, const KeyFiles& files)
      : clock(o.clock ? *o.clock : static_cast<base::Clock&>(system_clock)),
        random(o.random ? *o.random : static_cast<base::Random&>(system_random)),
        fresh(!std::filesystem::exists(o.data_dir / "boltauth.db")),
        minter(files.master_key(random)),
        keys(files.signing_keys(o.rsa_key_bits)),
        db(store::sqlite::SqliteDatabase::Options{o.data_dir / "boltauth.db", o.read_connections, o.busy_timeout_ms}) {
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
bool Services::fresh() const { return impl_->fresh; }
core::ports::CommitGate& Services::commit_gate() { return impl_->db; }

namespace {

// Where each request runs (issue 6, docs/design.md "Request placement"). The token endpoint's only blocking
// step is its commit, so it runs on the I/O thread with deferred writes; its reads are short indexed lookups.
// Static answers run inline. Everything else (account, sandbox, endpoints other branches add) keeps
// synchronous writes on the worker pool until it is reviewed for the deferred mode: such a handler must not
// read back, through a read connection, what it wrote in the same request.
http::Placement place(const core::Request& r) {
  const std::string& p = r.path;
  if (p == "/v1/oauth/token" || p == "/v3/oauth/token") return http::Placement::inline_deferred;
  if (p == "/.well-known/openid-configuration" || p == "/v1/oauth/jwks.json" || p == "/health")
    return http::Placement::inline_read;
  return http::Placement::worker;
}

}  // namespace

std::unique_ptr<core::Provider> Services::make_provider(const core::Config& config,
                                                        std::function<void(std::string_view)> log_error,
                                                        std::function<void(std::string_view)> log_debug) {
  auto& i = *impl_;
  return std::make_unique<core::Provider>(core::ProviderDeps{config, i.clock, i.random, i.minter, i.keys, i.clients,
                                                             i.accounts, i.grants, std::move(log_error),
                                                             std::move(log_debug)});
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
  return port;
}

void App::stop() {
  if (http_) http_->stop();
}

void App::run_until_signal() {
  if (http_) http_->run_until_signal();
}

core::ClientRegistry& App::registry() { return services_->registry(); }
bool App::fresh() const { return services_->fresh(); }

}  // namespace boltauth::server
