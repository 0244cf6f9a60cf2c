#include "server/config_loader.hpp"

#include <toml++/toml.h>

#include <set>
#include <stdexcept>
#include <type_traits>
#include "server/logging.hpp"

#include "store/postgres/pg_database.hpp"

namespace boltauth::server {

void apply_listen(const std::string& listen, AppOptions& options) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::runtime_error("--listen must be HOST:PORT, got " + listen);
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) throw std::runtime_error("bad port in --listen " + listen);
  options.server.host = host;
  options.server.port = static_cast<std::uint16_t>(port);
}

void apply_mode(const std::string& mode, AppOptions& options) {
  if (mode == "sandbox")
    options.config.mode = core::Mode::sandbox;
  else if (mode == "production")
    options.config.mode = core::Mode::production;
  else
    throw std::runtime_error("mode must be sandbox or production, got " + mode);
}

namespace {

template <class T>
T need(const toml::node& node, const std::string& key) {
  // An integer key takes a TOML integer only: toml++ converts a float such as 1e94 to an integer without a range
  // check (undefined behaviour, found by fuzzing), and 2.5 seconds is not a setting anyone means.
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    if (!node.is_integer()) throw std::runtime_error("config key '" + key + "' must be an integer");
  auto v = node.value<T>();
  if (!v) throw std::runtime_error("config key '" + key + "' has the wrong type");
  return *v;
}

}  // namespace

namespace {

const std::set<std::string>& top_keys() {
  static const std::set<std::string> kTop = {"listen",
                                             "data_dir",
                                             "issuer",
                                             "mode",
                                             "threads",
                                             "workers",
                                             "error_style",
                                             "code_ttl",
                                             "access_token_ttl",
                                             "refresh_token_ttl",
                                             "id_token_ttl",
                                             "refresh_grace_seconds",
                                             "token_scope_required",
                                             "token_rate_limit_per_client",
                                             "rsa_key_bits",
                                             "key_activation_delay",
                                             "client_auth_max_failures",
                                             "client_auth_failure_window",
                                             "janitor_interval",
                                             "janitor_batch",
                                             "busy_timeout_ms",
                                             "store_url",
                                             "store_connections",
                                             "master_key_file",
                                             "trusted_proxies",
                                             "log_format",
                                             "log_level",
                                             "limits",
                                             "login",
                                             "smtp",
                                             "branding"};
  return kTop;
}

/// Applies `table` (a config file's, or one environment variable's) to `o`; records where each key came from.
void apply_table(const toml::table& table, AppOptions& o, const std::string& origin, ConfigSources* sources) {
  const auto& kTop = top_keys();
  static const std::set<std::string> kLimits = {"body_bytes",
                                                "header_bytes",
                                                "request_timeout_seconds",
                                                "idle_timeout_seconds",
                                                "max_connections",
                                                "max_form_params",
                                                "account_exists_per_key_per_minute",
                                                "account_exists_per_address_per_minute"};
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    if (!kTop.count(key)) throw std::runtime_error("unknown config key '" + key + "' in " + origin);
    if (sources) {
      if (const auto* section = node.as_table())
        for (const auto& [sk, _] : *section) (*sources)[key + "." + std::string(sk.str())] = origin;
      else
        (*sources)[key] = origin;
    }
    if (key == "listen")
      apply_listen(need<std::string>(node, key), o);
    else if (key == "data_dir")
      o.data_dir = need<std::string>(node, key);
    else if (key == "issuer") {
      o.config.issuer = need<std::string>(node, key);
      o.issuer_from_listen = false;
    } else if (key == "mode")
      apply_mode(need<std::string>(node, key), o);
    else if (key == "threads")
      o.server.io_threads = static_cast<int>(need<std::int64_t>(node, key));
    else if (key == "workers")
      o.server.worker_threads = static_cast<int>(need<std::int64_t>(node, key));
    else if (key == "error_style") {
      const auto v = need<std::string>(node, key);
      if (v == "bolt")
        o.config.error_style = protocol::ErrorStyle::bolt;
      else if (v == "rfc6749")
        o.config.error_style = protocol::ErrorStyle::rfc6749;
      else
        throw std::runtime_error("error_style must be bolt or rfc6749");
    } else if (key == "code_ttl")
      o.config.code_ttl = need<std::int64_t>(node, key);
    else if (key == "access_token_ttl")
      o.config.access_token_ttl = need<std::int64_t>(node, key);
    else if (key == "refresh_token_ttl")
      o.config.refresh_token_ttl = need<std::int64_t>(node, key);
    else if (key == "id_token_ttl")
      o.config.id_token_ttl = need<std::int64_t>(node, key);
    else if (key == "refresh_grace_seconds")
      o.config.refresh_grace_seconds = need<std::int64_t>(node, key);
    else if (key == "token_scope_required")
      o.config.token_scope_required = need<bool>(node, key);
    else if (key == "token_rate_limit_per_client")
      o.config.token_rate_limit_per_client = static_cast<std::uint32_t>(need<std::int64_t>(node, key));
    else if (key == "rsa_key_bits")
      o.rsa_key_bits = static_cast<int>(need<std::int64_t>(node, key));
    else if (key == "key_activation_delay") {
      o.key_activation_delay = need<std::int64_t>(node, key);
      if (o.key_activation_delay < 0) throw std::runtime_error("key_activation_delay must not be negative");
    } else if (key == "client_auth_max_failures")
      o.config.client_auth_max_failures = static_cast<std::uint32_t>(need<std::int64_t>(node, key));
    else if (key == "client_auth_failure_window")
      o.config.client_auth_failure_window = need<std::int64_t>(node, key);
    else if (key == "janitor_interval") {
      o.janitor_interval = need<std::int64_t>(node, key);
      if (o.janitor_interval < 0) throw std::runtime_error("janitor_interval must not be negative");
    } else if (key == "janitor_batch") {
      o.janitor_batch = static_cast<int>(need<std::int64_t>(node, key));
      if (o.janitor_batch < 1 || o.janitor_batch > 10000) throw std::runtime_error("janitor_batch must be in 1..10000");
    } else if (key == "busy_timeout_ms")
      o.busy_timeout_ms = static_cast<int>(need<std::int64_t>(node, key));
    else if (key == "store_url")
      o.store_url = need<std::string>(node, key);
    else if (key == "store_connections") {
      o.store_connections = static_cast<int>(need<std::int64_t>(node, key));
      if (o.store_connections < 1 || o.store_connections > 1000)
        throw std::runtime_error("store_connections must be in 1..1000");
    } else if (key == "master_key_file")
      o.master_key_file = need<std::string>(node, key);
    else if (key == "log_format") {
      auto v = need<std::string>(node, key);
      if (!parse_log_format(v)) throw std::runtime_error("log_format must be text or json");
      o.log_format = std::move(v);
    } else if (key == "log_level") {
      auto v = need<std::string>(node, key);
      if (v != "error" && v != "warn" && v != "info" && v != "debug")
        throw std::runtime_error("log_level must be error, warn, info or debug");
      o.log_level = std::move(v);
    } else if (key == "trusted_proxies") {
      const auto* list = node.as_array();
      if (!list) throw std::runtime_error("config key 'trusted_proxies' must be an array of CIDR strings");
      o.server.trusted_proxies.clear();
      for (const auto& item : *list) o.server.trusted_proxies.push_back(need<std::string>(item, key));
    } else if (key == "login") {
      const auto* login = node.as_table();
      if (!login) throw std::runtime_error("'login' must be a table");
      for (const auto& [lk, lnode] : *login) {
        const std::string lkey(lk.str());
        const std::string full = "login." + lkey;
        if (lkey == "otp_delivery") {
          o.otp_delivery = need<std::string>(lnode, full);
          if (o.otp_delivery != "file" && o.otp_delivery != "smtp")
            throw std::runtime_error("login.otp_delivery must be file or smtp");
          continue;
        }
        const auto v = need<std::int64_t>(lnode, full);
        if (v < 0) throw std::runtime_error(full + " must not be negative");
        if (lkey == "otp_ttl")
          o.config.otp_ttl = v;
        else if (lkey == "otp_max_attempts")
          o.config.otp_max_attempts = v;
        else if (lkey == "otp_resend_cooldown")
          o.config.otp_resend_cooldown = v;
        else if (lkey == "login_request_ttl")
          o.config.login_request_ttl = v;
        else if (lkey == "session_ttl")
          o.config.session_ttl = v;
        else if (lkey == "otp_sends_per_email_per_hour")
          o.config.otp_sends_per_email_per_hour = static_cast<std::uint32_t>(v);
        else if (lkey == "otp_sends_per_ip_per_hour")
          o.config.otp_sends_per_ip_per_hour = static_cast<std::uint32_t>(v);
        else if (lkey == "otp_attempts_per_ip_per_hour")
          o.config.otp_attempts_per_ip_per_hour = static_cast<std::uint32_t>(v);
        else
          throw std::runtime_error("unknown config key '" + full + "'");
      }
    } else if (key == "branding") {
      const auto* branding = node.as_table();
      if (!branding) throw std::runtime_error("'branding' must be a table");
      for (const auto& [bk, bnode] : *branding) {
        const std::string bkey(bk.str());
        const std::string full = "branding." + bkey;
        if (bkey == "name")
          o.config.brand_name = need<std::string>(bnode, full);
        else if (bkey == "logo_url")
          o.config.brand_logo_url = need<std::string>(bnode, full);
        else if (bkey == "accent_color")
          o.config.brand_accent_color = need<std::string>(bnode, full);
        else
          throw std::runtime_error("unknown config key '" + full + "'");
      }
      if (auto bad = o.config.validate_branding(); !bad.empty()) throw std::runtime_error(bad);
    } else if (key == "smtp") {
      const auto* smtp = node.as_table();
      if (!smtp) throw std::runtime_error("'smtp' must be a table");
      for (const auto& [sk, snode] : *smtp) {
        const std::string skey(sk.str());
        const std::string full = "smtp." + skey;
        if (skey == "url")
          o.smtp.url = need<std::string>(snode, full);
        else if (skey == "from")
          o.smtp.from = need<std::string>(snode, full);
        else if (skey == "username")
          o.smtp.username = need<std::string>(snode, full);
        else if (skey == "password")
          o.smtp.password = need<std::string>(snode, full);
        else if (skey == "starttls")
          o.smtp.starttls = need<bool>(snode, full);
        else if (skey == "timeout_seconds")
          o.smtp.timeout_seconds = static_cast<long>(need<std::int64_t>(snode, full));
        else
          throw std::runtime_error("unknown config key '" + full + "'");
      }
    } else if (key == "limits") {
      const auto* limits = node.as_table();
      if (!limits) throw std::runtime_error("'limits' must be a table");
      for (const auto& [lk, lnode] : *limits) {
        const std::string lkey(lk.str());
        if (!kLimits.count(lkey)) throw std::runtime_error("unknown config key 'limits." + lkey + "'");
        const auto v = need<std::int64_t>(lnode, "limits." + lkey);
        // The account lookup throttles take 0 for "unlimited"; every other limit must be positive.
        const bool zero_allowed = lkey.rfind("account_exists_", 0) == 0;
        if (v < 0 || (v == 0 && !zero_allowed))
          throw std::runtime_error("limits." + lkey + (zero_allowed ? " must not be negative" : " must be positive"));
        if (lkey == "body_bytes")
          o.server.limits.body_limit = static_cast<std::size_t>(v);
        else if (lkey == "header_bytes")
          o.server.limits.header_limit = static_cast<std::size_t>(v);
        else if (lkey == "request_timeout_seconds")
          o.server.limits.request_timeout_seconds = static_cast<int>(v);
        else if (lkey == "idle_timeout_seconds")
          o.server.limits.idle_timeout_seconds = static_cast<int>(v);
        else if (lkey == "max_connections")
          o.server.limits.max_connections = static_cast<std::size_t>(v);
        else if (lkey == "max_form_params")
          o.config.max_form_params = static_cast<std::size_t>(v);
        else if (lkey == "account_exists_per_key_per_minute")
          o.config.account_exists_per_key_per_minute = static_cast<std::uint32_t>(v);
        else if (lkey == "account_exists_per_address_per_minute")
          o.config.account_exists_per_address_per_minute = static_cast<std::uint32_t>(v);
      }
    }
  }
}

// Keys whose value is a string (an environment value is taken as is) and the one list (comma separated there).
const std::set<std::string> kStringKeys = {"listen",
                                           "data_dir",
                                           "issuer",
                                           "mode",
                                           "error_style",
                                           "store_url",
                                           "master_key_file",
                                           "login.otp_delivery",
                                           "smtp.url",
                                           "smtp.from",
                                           "smtp.username",
                                           "smtp.password",
                                           "log_format",
                                           "log_level",
                                           "branding.name",
                                           "branding.logo_url",
                                           "branding.accent_color"};

}  // namespace

void load_config_file(const std::filesystem::path& file, AppOptions& o, ConfigSources* sources) {
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("cannot parse " + file.string() + ": " + std::string(e.description()));
  }
  apply_table(table, o, "file " + file.string(), sources);
}

std::vector<std::string> load_config_env(AppOptions& o, const char* const* env, ConfigSources* sources) {
  std::vector<std::string> unknown;
  static const std::string kPrefix = "BOLTAUTH_";
  for (; env != nullptr && *env != nullptr; ++env) {
    const std::string_view entry(*env);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || entry.rfind(kPrefix, 0) != 0) continue;
    const std::string variable(entry.substr(0, eq));
    const std::string value(entry.substr(eq + 1));
    std::string name = variable.substr(kPrefix.size());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // BOLTAUTH_TEST_* belong to the test suite; BOLTAUTH_LOGIN_OTP_TTL is [login] otp_ttl.
    if (name.rfind("test_", 0) == 0) continue;
    std::string section, key = name;
    for (const char* s : {"login", "smtp", "limits", "branding"})
      if (name.rfind(std::string(s) + "_", 0) == 0) {
        section = s;
        key = name.substr(section.size() + 1);
      }
    const std::string full = section.empty() ? key : section + "." + key;
    if ((section.empty() &&
         (!top_keys().count(key) || key == "login" || key == "smtp" || key == "limits" || key == "branding"))) {
      unknown.push_back(variable);
      continue;
    }
    toml::table entry_table;
    toml::table* target = &entry_table;
    if (!section.empty()) {
      entry_table.insert(section, toml::table{});
      target = entry_table[section].as_table();
    }
    if (kStringKeys.count(full)) {
      target->insert(key, value);
    } else if (full == "trusted_proxies") {
      toml::array list;
      std::size_t start = 0;
      while (start <= value.size()) {
        const auto comma = value.find(',', start);
        std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(0, 1);
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) list.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      target->insert(key, std::move(list));
    } else {
      // Numbers and booleans, written as in the config file.
      toml::table parsed;
      try {
        parsed = toml::parse("v = " + value);
      } catch (const toml::parse_error&) {
        throw std::runtime_error(variable + ": not a number or boolean: " + value);
      }
      target->insert(key, *parsed.get("v"));
    }
    apply_table(entry_table, o, "env " + variable, sources);
  }
  return unknown;
}

std::vector<std::pair<std::string, std::string>> effective_settings(const AppOptions& o) {
  auto num = [](auto v) { return std::to_string(v); };
  auto yes = [](bool v) { return std::string(v ? "true" : "false"); };
  auto secret = [](const std::string& v) { return v.empty() ? std::string() : std::string("(redacted)"); };
  std::string proxies;
  for (const auto& p : o.server.trusted_proxies) proxies += (proxies.empty() ? "" : ",") + p;
  const auto& c = o.config;
  const auto& l = o.server.limits;
  return {
      {"listen", o.server.host + ":" + num(o.server.port)},
      {"data_dir", o.data_dir.string()},
      {"issuer", o.issuer_from_listen ? "(from listen)" : c.issuer},
      {"mode", c.mode == core::Mode::sandbox ? "sandbox" : "production"},
      {"threads", num(o.server.io_threads)},
      {"workers", num(o.server.worker_threads)},
      {"error_style", c.error_style == protocol::ErrorStyle::bolt ? "bolt" : "rfc6749"},
      {"code_ttl", num(c.code_ttl)},
      {"access_token_ttl", num(c.access_token_ttl)},
      {"refresh_token_ttl", num(c.refresh_token_ttl)},
      {"id_token_ttl", num(c.id_token_ttl)},
      {"refresh_grace_seconds", num(c.refresh_grace_seconds)},
      {"token_scope_required", yes(c.token_scope_required)},
      {"token_rate_limit_per_client", num(c.token_rate_limit_per_client)},
      {"rsa_key_bits", num(o.rsa_key_bits)},
      {"key_activation_delay", num(o.key_activation_delay)},
      {"client_auth_max_failures", num(c.client_auth_max_failures)},
      {"client_auth_failure_window", num(c.client_auth_failure_window)},
      {"janitor_interval", num(o.janitor_interval)},
      {"janitor_batch", num(o.janitor_batch)},
      {"busy_timeout_ms", num(o.busy_timeout_ms)},
      {"log_level", o.log_level},
      {"log_format", o.log_format},
      {"store_url", o.store_url.empty() ? std::string() : store::postgres::redact_url(o.store_url)},
      {"store_connections", num(o.store_connections)},
      {"master_key_file", o.master_key_file.string()},
      {"trusted_proxies", proxies},
      {"limits.body_bytes", num(l.body_limit)},
      {"limits.header_bytes", num(l.header_limit)},
      {"limits.request_timeout_seconds", num(l.request_timeout_seconds)},
      {"limits.idle_timeout_seconds", num(l.idle_timeout_seconds)},
      {"limits.max_connections", num(l.max_connections)},
      {"limits.max_form_params", num(c.max_form_params)},
      {"limits.account_exists_per_key_per_minute", num(c.account_exists_per_key_per_minute)},
      {"limits.account_exists_per_address_per_minute", num(c.account_exists_per_address_per_minute)},
      {"login.otp_delivery", o.otp_delivery},
      {"login.otp_ttl", num(c.otp_ttl)},
      {"login.otp_max_attempts", num(c.otp_max_attempts)},
      {"login.otp_resend_cooldown", num(c.otp_resend_cooldown)},
      {"login.login_request_ttl", num(c.login_request_ttl)},
      {"login.session_ttl", num(c.session_ttl)},
      {"login.otp_sends_per_email_per_hour", num(c.otp_sends_per_email_per_hour)},
      {"login.otp_sends_per_ip_per_hour", num(c.otp_sends_per_ip_per_hour)},
      {"login.otp_attempts_per_ip_per_hour", num(c.otp_attempts_per_ip_per_hour)},
      {"branding.name", c.brand_name},
      {"branding.logo_url", c.brand_logo_url},
      {"branding.accent_color", c.brand_accent_color},
      {"smtp.url", o.smtp.url},
      {"smtp.from", o.smtp.from},
      {"smtp.username", o.smtp.username},
      {"smtp.password", secret(o.smtp.password)},
      {"smtp.starttls", yes(o.smtp.starttls)},
      {"smtp.timeout_seconds", num(o.smtp.timeout_seconds)},
  };
}

}  // namespace boltauth::server
