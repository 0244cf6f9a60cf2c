#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "core/model/client.hpp"

namespace boltauth::core::ports {

/// Registered clients. Every method may throw StorageError. Reads see other processes' commits at once
/// (the CLI changes clients while a server runs).
class ClientStore {
 public:
  virtual ~ClientStore() = default;
  /// False when a client with that id already exists.
  virtual bool insert(const model::Client& client) = 0;
  virtual std::optional<model::Client> find(std::string_view client_id) = 0;
  /// The client whose API key has this keyed hash (the sandbox endpoint names merchants by API key alone).
  virtual std::optional<model::Client> find_by_secret_hash(std::string_view secret_hash) = 0;
  virtual std::vector<model::Client> list() = 0;
  /// False when no such client. Also deletes its codes, grants and tokens.
  virtual bool remove(std::string_view client_id) = 0;
  virtual bool update_secret_hash(std::string_view client_id, std::string_view secret_hash) = 0;
  /// Replaces the client's registered redirect URIs; false when no such client.
  virtual bool update_redirect_uris(std::string_view client_id, const std::vector<std::string>& redirect_uris) = 0;
};

}  // namespace boltauth::core::ports
