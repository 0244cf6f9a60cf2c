#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "server/app.hpp"

namespace boltauth::server {

/// Where each setting came from, by its config key ("login.otp_ttl"): "file PATH", "env BOLTAUTH_X" or
/// "flag --x". A key that is not there has its default.
using ConfigSources = std::map<std::string, std::string>;

/// Reads a TOML config file into `options` (keys documented in docs/configuration.md). Unknown keys and bad
/// values throw std::runtime_error naming the key: a typo must not silently fall back to a default.
void load_config_file(const std::filesystem::path& file, AppOptions& options, ConfigSources* sources = nullptr);

/// Every config key from the environment too: BOLTAUTH_ and the key upper-cased, a section's keys with the section
/// as prefix (BOLTAUTH_LISTEN, BOLTAUTH_LOGIN_OTP_TTL, BOLTAUTH_SMTP_PASSWORD). String keys take the value as is,
/// `trusted_proxies` a comma-separated list, the others a number or true/false. Bad values throw as for a file;
/// returns the BOLTAUTH_ variables that name no setting (BOLTAUTH_TEST_* are the test suite's and skipped).
std::vector<std::string> load_config_env(AppOptions& options, const char* const* env, ConfigSources* sources = nullptr);

/// Every setting's effective value, in the order of docs/configuration.md; secrets (the SMTP password, a store
/// URL's password) redacted.
std::vector<std::pair<std::string, std::string>> effective_settings(const AppOptions& options);

/// "HOST:PORT" -> options.server.host/port. Throws std::runtime_error when malformed.
void apply_listen(const std::string& listen, AppOptions& options);
void apply_mode(const std::string& mode, AppOptions& options);

}  // namespace boltauth::server
