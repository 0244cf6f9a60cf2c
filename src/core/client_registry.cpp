#include "core/client_registry.hpp"

#include <algorithm>

#include "base/constant_time.hpp"
#include "crypto/signing_key.hpp"

namespace boltauth::core {

std::optional<std::string> ClientRegistry::normalize_email(std::string_view email) {
  while (!email.empty() && email.front() == ' ') email.remove_prefix(1);
  while (!email.empty() && email.back() == ' ') email.remove_suffix(1);
  if (email.size() < 3 || email.size() > 254) return std::nullopt;
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size() ||
      email.find('@', at + 1) != std::string_view::npos)
    return std::nullopt;
  std::string out;
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == '"' || c == '\\' || c == '<' || c == '>')
      return std::nullopt;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.find('.', at) == std::string::npos) return std::nullopt;
  return out;
}

bool ClientRegistry::valid_phone(std::string_view phone) {
  // E.164: '+', a non-zero country digit, at most 15 digits in all.
  if (phone.size() < 8 || phone.size() > 16 || phone[0] != '+' || phone[1] == '0') return false;
  return std::all_of(phone.begin() + 1, phone.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ClientRegistry::valid_redirect_uri(std::string_view uri) {
  // RFC 6749 section 3.1.2: absolute, no fragment. Exact-string matching later makes normalization moot.
  if (uri.size() > 2000) return false;
  if (uri.rfind("https://", 0) != 0 && uri.rfind("http://", 0) != 0) return false;
  const auto host_start = uri.find("://") + 3;
  if (host_start >= uri.size() || uri[host_start] == '/') return false;
  for (char c : uri)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == '#') return false;
  return true;
}

std::variant<CreatedClient, std::string> ClientRegistry::create_client(const ClientSpec& spec) {
  if (spec.name.empty() || spec.name.size() > 200) return std::string("name must be 1..200 characters");
  for (const auto& uri : spec.redirect_uris)
    if (!valid_redirect_uri(uri)) return "invalid redirect URI (absolute http(s), no fragment): " + uri;
  for (const auto& uri : spec.post_logout_redirect_uris)
    if (!valid_redirect_uri(uri)) return "invalid post-logout redirect URI (absolute http(s), no fragment): " + uri;
  std::vector<std::string> grants = spec.grant_types;
  if (grants.empty()) grants = {"authorization_code", "refresh_token"};
  for (const auto& g : grants) {
    if (g != "authorization_code" && g != "refresh_token" && g != "client_credentials")
      return "unsupported grant type: " + g + " (supported: authorization_code, refresh_token, client_credentials)";
  }
  // Every supported alg has a key from start-up on (KeyFiles::ensure_signing_keys), so any of them is valid.
  const auto& algs = crypto::SigningKey::supported_algs();
  if (std::find(algs.begin(), algs.end(), spec.id_token_signed_response_alg) == algs.end())
    return "unsupported id_token_signed_response_alg: " + spec.id_token_signed_response_alg +
           " (supported: RS256, ES256, EdDSA)";
  std::sort(grants.begin(), grants.end());
  grants.erase(std::unique(grants.begin(), grants.end()), grants.end());

  CreatedClient created;
  auto& c = created.client;
  // Publishable key in Bolt's three-section shape; the last section (256 bits, hex) is the client id.
  std::vector<std::uint8_t> raw(32);
  random_.fill(raw);
  static constexpr char kHex[] = "0123456789abcdef";
  for (auto b : raw) {
    c.id.push_back(kHex[b >> 4]);
    c.id.push_back(kHex[b & 15]);
  }
  c.publishable_key = random_.alnum(12) + "." + random_.alnum(12) + "." + c.id;
  c.name = spec.name;
  created.client_secret = minter_.mint(crypto::TokenKind::client_secret, random_);
  c.secret_hash = minter_.storage_hash(created.client_secret);
  c.redirect_uris = spec.redirect_uris;
  c.post_logout_redirect_uris = spec.post_logout_redirect_uris;
  c.grant_types = std::move(grants);
  c.pkce_required = spec.pkce_required;
  c.created_at = clock_.now();
  c.id_token_signed_response_alg = spec.id_token_signed_response_alg;
  if (!clients_.insert(c)) return std::string("client id collision; try again");
  return created;
}

std::optional<std::string> ClientRegistry::rotate_secret(std::string_view client_id) {
  auto client = resolve(client_id);
  if (!client) return std::nullopt;
  std::string secret = minter_.mint(crypto::TokenKind::client_secret, random_);
  if (!clients_.update_secret_hash(client->id, minter_.storage_hash(secret))) return std::nullopt;
  return secret;
}

std::string_view ClientRegistry::id_of(std::string_view input) noexcept {
  if (input.empty() || input.size() > 200) return {};
  const auto dot = input.rfind('.');
  return dot == std::string_view::npos ? input : input.substr(dot + 1);
}

bool ClientRegistry::add_redirect_uri(const model::Client& client, const std::string& uri, std::size_t keep) {
  if (!valid_redirect_uri(uri)) return false;
  std::vector<std::string> uris = client.redirect_uris;
  if (std::find(uris.begin(), uris.end(), uri) != uris.end()) return true;
  uris.push_back(uri);
  if (uris.size() > keep) uris.erase(uris.begin(), uris.end() - static_cast<std::ptrdiff_t>(keep));
  return clients_.update_redirect_uris(client.id, uris);
}

std::optional<model::Client> ClientRegistry::resolve(std::string_view input) {
  const std::string_view id = id_of(input);
  if (id.empty()) return std::nullopt;
  const auto dot = input.rfind('.');
  auto client = clients_.find(id);
  if (!client) return std::nullopt;
  if (dot != std::string_view::npos && client->publishable_key != input) return std::nullopt;
  return client;
}

bool ClientRegistry::secret_matches(const model::Client& client, std::string_view secret) const {
  // The API key is a minted value: a MAC check rejects garbage cheaply, then keyed hashes compare in constant time.
  if (!minter_.verify(crypto::TokenKind::client_secret, secret)) return false;
  return base::constant_time_equal(minter_.storage_hash(secret), client.secret_hash);
}

std::variant<model::Account, std::string> ClientRegistry::create_account(const AccountSpec& spec) {
  auto email = normalize_email(spec.email);
  if (!email) return std::string("invalid email address");
  if (spec.phone && !valid_phone(*spec.phone)) return std::string("phone must be E.164, e.g. +14155550100");
  if (spec.first_name.size() > 200 || spec.last_name.size() > 200)
    return std::string("names are at most 200 characters");
  model::Account a;
  a.sub = random_.token(16);
  a.email = *email;
  a.email_verified = spec.email_verified;
  a.first_name = spec.first_name;
  a.last_name = spec.last_name;
  a.phone = spec.phone;
  a.phone_verified = spec.phone && spec.phone_verified;
  if (spec.otp_code) a.otp_hash = fixed_otp_hash(a.sub, *spec.otp_code);
  a.deactivate_at = spec.deactivate_at;
  a.created_at = a.updated_at = clock_.now();
  if (!accounts_.insert(a)) return std::string("an account with this email already exists");
  return a;
}

// Keyed with the storage key and salted with the account, so equal codes of two accounts differ in storage.
std::string ClientRegistry::fixed_otp_hash(std::string_view sub, std::string_view otp) const {
  return minter_.storage_hash("fixed-otp:" + std::string(sub) + ":" + std::string(otp));
}

bool ClientRegistry::fixed_otp_matches(const model::Account& account, std::string_view otp) const {
  return account.otp_hash && base::constant_time_equal(fixed_otp_hash(account.sub, otp), *account.otp_hash);
}

std::size_t ClientRegistry::hash_clear_otp_codes() {
  return accounts_.hash_clear_otp_codes(
      [this](std::string_view sub, std::string_view otp) { return fixed_otp_hash(sub, otp); });
}

}  // namespace boltauth::core
