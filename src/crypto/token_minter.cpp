#include "crypto/token_minter.hpp"

#include <openssl/crypto.h>

#include <stdexcept>

#include "base/base64url.hpp"
#include "base/constant_time.hpp"

namespace boltauth::crypto {
namespace {

constexpr std::size_t kRandomBytes = 32;
constexpr std::size_t kHalfChars = 43;                   // base64url of 32 bytes, unpadded
constexpr std::size_t kTokenChars = 2 * kHalfChars + 1;  // 87

constexpr std::string_view kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::authorization_code:
      return "authorization_code";
    case TokenKind::access_token:
      return "access_token";
    case TokenKind::refresh_token:
      return "refresh_token";
    case TokenKind::client_secret:
      return "client_secret";
  }
  return {};
}

constexpr TokenKind kAllKinds[] = {TokenKind::authorization_code, TokenKind::access_token, TokenKind::refresh_token,
                                   TokenKind::client_secret};

// Index into mac_keys_, or -1 for a value outside the enum.
constexpr int kind_index(TokenKind kind) {
  const auto i = static_cast<int>(kind);
  return (i >= 0 && i < 4) ? i : -1;
}

}  // namespace

TokenMinter::TokenMinter(const std::array<std::uint8_t, 32>& master_key) {
  static_assert(std::size(kAllKinds) == std::tuple_size_v<decltype(mac_keys_)>);
  for (TokenKind kind : kAllKinds) {
    std::string label = "boltauth token mac v1:";
    label += kind_name(kind);
    mac_keys_[static_cast<std::size_t>(kind_index(kind))] = hmac_sha256(master_key, label);
  }
  storage_key_ = hmac_sha256(master_key, "boltauth storage hash v1");
}

std::string TokenMinter::mint(TokenKind kind, base::Random& random) const {
  const int index = kind_index(kind);
  if (index < 0) throw std::invalid_argument("TokenMinter::mint: unknown token kind");
  std::array<std::uint8_t, kRandomBytes> r{};
  random.fill(r);
  const Digest mac = hmac_sha256(mac_keys_[static_cast<std::size_t>(index)], as_view(r));
  std::string token = base::base64url_encode(r);
  token.push_back('.');
  token += base::base64url_encode(mac);
  OPENSSL_cleanse(r.data(), r.size());
  return token;
}

bool TokenMinter::verify(TokenKind kind, std::string_view token) const {
  const int index = kind_index(kind);
  if (index < 0) return false;
  if (token.size() != kTokenChars || token[kHalfChars] != '.') return false;
  // The strict decoder accepts only the canonical encoding, so each token has exactly one spelling.
  const auto r = base::base64url_decode(token.substr(0, kHalfChars));
  const auto mac = base::base64url_decode(token.substr(kHalfChars + 1));
  if (!r || !mac || r->size() != kRandomBytes || mac->size() != kRandomBytes) return false;
  const Digest expected = hmac_sha256(mac_keys_[static_cast<std::size_t>(index)], as_view(*r));
  return base::constant_time_equal(as_view(expected), as_view(*mac));
}

std::string TokenMinter::storage_hash(std::string_view value) const {
  return base::base64url_encode(hmac_sha256(storage_key_, value));
}

}  // namespace boltauth::crypto
