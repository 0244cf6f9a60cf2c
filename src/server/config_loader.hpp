#pragma once
#include <filesystem>
#include <string>

#include "server/app.hpp"

namespace boltauth::server {

/// Reads a TOML config file into `options` (keys documented in docs/configuration.md). Unknown keys and bad
/// values throw std::runtime_error naming the key: a typo must not silently fall back to a default.
void load_config_file(const std::filesystem::path& file, AppOptions& options);

/// "HOST:PORT" -> options.server.host/port. Throws std::runtime_error when malformed.
void apply_listen(const std::string& listen, AppOptions& options);
void apply_mode(const std::string& mode, AppOptions& options);

}  // namespace boltauth::server
