#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/model/account.hpp"
#include "core/model/client.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/client_store.hpp"
#include "crypto/token_minter.hpp"

namespace boltauth::core {

struct ClientSpec {
  std::string name;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> grant_types;                // empty: authorization_code + refresh_token
  std::string id_token_signed_response_alg = "RS256";  // RS256, ES256 or EdDSA
  bool pkce_required = true;
  std::vector<std::string> post_logout_redirect_uris{};  // where /v1/oauth/logout may send the browser back
};

struct CreatedClient {
  model::Client client;
  std::string client_secret;  // shown once; only its keyed hash is stored
};

struct AccountSpec {
  std::string email;
  std::string first_name;
  std::string last_name;
  std::optional<std::string> phone;
  bool email_verified = false;
  bool phone_verified = false;
  std::optional<std::string> otp_code;
  std::optional<base::UnixSeconds> deactivate_at;
};

/// Registration and lookup of clients and accounts: what the admin CLI, the sandbox endpoint and the
/// token endpoint share. Errors are returned as sentences for the operator.
class ClientRegistry {
 public:
  ClientRegistry(ports::ClientStore& clients, ports::AccountStore& accounts, const crypto::TokenMinter& minter,
                 base::Random& random, const base::Clock& clock)
      : clients_(clients), accounts_(accounts), minter_(minter), random_(random), clock_(clock) {}

  std::variant<CreatedClient, std::string> create_client(const ClientSpec& spec);
  /// A new API key for the client; the old one stops working at once. nullopt: no such client.
  std::optional<std::string> rotate_secret(std::string_view client_id);

  /// The client named by `client_id_input`: the full publishable key (all three sections must match) or
  /// its last section (what Bolt's plugins send). Contract section 1.
  std::optional<model::Client> resolve(std::string_view client_id_input);
  /// The client id `resolve` looks up for this input (a publishable key's last section); empty when it looks up none.
  static std::string_view id_of(std::string_view client_id_input) noexcept;
  /// Constant-time comparison of keyed hashes (checklist B4).
  bool secret_matches(const model::Client& client, std::string_view secret) const;

  std::vector<model::Client> list_clients() { return clients_.list(); }
  bool delete_client(std::string_view client_id) { return clients_.remove(client_id); }
  /// Adds `uri` to the client's redirect URIs (kept in order; the oldest dropped beyond `keep`). False when no such
  /// client or the URI is not a valid redirect URI.
  bool add_redirect_uri(const model::Client& client, const std::string& uri, std::size_t keep = 10);

  std::variant<model::Account, std::string> create_account(const AccountSpec& spec);
  /// Whether `otp` is the sandbox account's fixed one-time code (compared as keyed hashes, checklist B4).
  bool fixed_otp_matches(const model::Account& account, std::string_view otp) const;
  /// Replaces fixed one-time codes stored in clear (before schema migration 6 of SQLite, 2 of PostgreSQL) by
  /// their keyed hashes; the migration cannot, as the key is not in the database. Returns how many it replaced.
  std::size_t hash_clear_otp_codes();

  /// Lower-cased, trimmed email, or nullopt when it is not a plausible address.
  static std::optional<std::string> normalize_email(std::string_view email);
  static bool valid_phone(std::string_view phone);
  static bool valid_redirect_uri(std::string_view uri);

 private:
  std::string fixed_otp_hash(std::string_view sub, std::string_view otp) const;

  ports::ClientStore& clients_;
  ports::AccountStore& accounts_;
  const crypto::TokenMinter& minter_;
  base::Random& random_;
  const base::Clock& clock_;
};

}  // namespace boltauth::core
