#include "crypto/token_sealer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "base/base64url.hpp"
#include "base/constant_time.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_ptr.hpp"

namespace boltauth::crypto {
namespace {

constexpr std::size_t kHalfBytes = 32;
constexpr std::size_t kHalfChars = 43;                   // base64url of 32 bytes, unpadded
constexpr std::size_t kTokenChars = 2 * kHalfChars + 1;  // 87
constexpr std::uint8_t kVersion = 1;
constexpr std::uint64_t kMaxU40 = (std::uint64_t{1} << 40) - 1;

// Byte offsets in the 32-byte plaintext (byte 0, the key id, stays in clear).
constexpr std::size_t kOffVersionKind = 1;
constexpr std::size_t kOffGrant = 2;        // u64 BE
constexpr std::size_t kOffGeneration = 10;  // u32 BE
constexpr std::size_t kOffIssuedAt = 14;    // u40 BE
constexpr std::size_t kOffLifetime = 19;    // u32 BE
constexpr std::size_t kOffScope = 23;
constexpr std::size_t kOffJti = 24;  // u64 BE

using Block = std::array<std::uint8_t, kHalfBytes>;

// Fetched once (as in digest.cpp): an explicit fetch skips the per-call provider lookup. Never freed on purpose.
const EVP_CIPHER* aes_256_ctr() {
  static const EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
    if (fetched == nullptr) throw std::runtime_error("OpenSSL: AES-256-CTR is not available");
    return fetched;
  }();
  return cipher;
}

// One cipher context per thread, reinitialised per call: no allocation on the request path.
EVP_CIPHER_CTX* thread_cipher_ctx() {
  thread_local const ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

// AES-256-CTR over bytes 1..31 of `block` in place, IV = the first 16 bytes at `iv` (one AES block). CTR is its own
// inverse, so this both seals and opens.
bool ctr_xor(const Digest& enc_key, const std::uint8_t* iv, Block& block) noexcept {
  EVP_CIPHER_CTX* ctx = thread_cipher_ctx();
  if (ctx == nullptr) return false;
  const EVP_CIPHER* cipher = nullptr;
  try {
    cipher = aes_256_ctr();
  } catch (const std::exception&) {
    return false;
  }
  constexpr int len = static_cast<int>(kHalfBytes - 1);
  int out_len = 0;
  int final_len = 0;
  std::uint8_t out[kHalfBytes - 1];
  const bool ok = EVP_EncryptInit_ex2(ctx, cipher, enc_key.data(), iv, nullptr) == 1 &&
                  EVP_EncryptUpdate(ctx, out, &out_len, block.data() + 1, len) == 1 && out_len == len &&
                  EVP_EncryptFinal_ex(ctx, out + out_len, &final_len) == 1 && final_len == 0;
  if (ok) std::copy(out, out + len, block.begin() + 1);
  OPENSSL_cleanse(out, sizeof out);
  return ok;
}

void put_be(Block& b, std::size_t at, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * (bytes - 1 - i)));
}

std::uint64_t get_be(const Block& b, std::size_t at, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | b[at + i];
  return v;
}

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int, 256> make_table() {
  std::array<int, 256> t{};
  for (auto& v : t) v = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  return t;
}
constexpr auto kTable = make_table();

// 43 base64url characters to 32 bytes without allocating (this runs on every request). Canonical only: the
// bytes re-encoded must spell `text` exactly, which rejects a last character with non-zero unused bits
// (RFC 4648 section 3.5), so every token has exactly one spelling.
bool decode_half(std::string_view text, Block& out) {
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t n = 0;
  for (char c : text) {
    const int v = kTable[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = ((acc << 6) | static_cast<std::uint32_t>(v)) & 0xFFFFFU;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == out.size()) return false;
      out[n++] = static_cast<std::uint8_t>((acc >> bits) & 0xFFU);
    }
  }
  if (n != out.size()) return false;
  char again[kHalfChars];
  std::size_t k = 0;
  for (std::size_t i = 0; i + 3 <= out.size(); i += 3) {
    const std::uint32_t w = (std::uint32_t{out[i]} << 16) | (std::uint32_t{out[i + 1]} << 8) | out[i + 2];
    again[k++] = kAlphabet[(w >> 18) & 63];
    again[k++] = kAlphabet[(w >> 12) & 63];
    again[k++] = kAlphabet[(w >> 6) & 63];
    again[k++] = kAlphabet[w & 63];
  }
  const std::uint32_t w = (std::uint32_t{out[30]} << 16) | (std::uint32_t{out[31]} << 8);
  again[k++] = kAlphabet[(w >> 18) & 63];
  again[k++] = kAlphabet[(w >> 12) & 63];
  again[k++] = kAlphabet[(w >> 6) & 63];
  return k == kHalfChars && std::string_view(again, kHalfChars) == text;
}

bool known_kind(std::uint8_t k) {
  return k == static_cast<std::uint8_t>(SealedKind::authorization_code) ||
         k == static_cast<std::uint8_t>(SealedKind::access_token) ||
         k == static_cast<std::uint8_t>(SealedKind::refresh_token);
}

}  // namespace

// Derived once per key: separate keys for encryption and authentication, so neither primitive ever sees the
// other's key (the SIV requirement, RFC 5297 section 2.6). The secret itself is not kept.
struct TokenSealer::Keys {
  std::uint8_t id = 0;
  Digest enc{};
  Digest mac{};
  ~Keys() {
    OPENSSL_cleanse(enc.data(), enc.size());
    OPENSSL_cleanse(mac.data(), mac.size());
  }
};

TokenSealer::TokenSealer(std::vector<SealingKey> keys) {
  if (keys.empty()) throw std::invalid_argument("TokenSealer: no sealing key");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (keys[j].id == keys[i].id)
        throw std::invalid_argument("TokenSealer: two keys share the id " + std::to_string(keys[i].id));
    }
    auto k = std::make_unique<Keys>();
    k->id = keys[i].id;
    k->enc = hmac_sha256(keys[i].secret, "boltauth sealing v1 enc");
    k->mac = hmac_sha256(keys[i].secret, "boltauth sealing v1 mac");
    keys_.push_back(std::move(k));
    OPENSSL_cleanse(keys[i].secret.data(), keys[i].secret.size());
  }
  aes_256_ctr();  // fail at construction, not on the first request, if the provider lacks AES-CTR
}

TokenSealer::~TokenSealer() = default;

std::uint8_t TokenSealer::sealing_key_id() const { return keys_.back()->id; }

std::optional<std::uint8_t> TokenSealer::key_id_of(std::string_view token) {
  if (token.size() != kTokenChars || token[kHalfChars] != '.') return std::nullopt;
  Block block{};
  Block tag{};
  if (!decode_half(token.substr(0, kHalfChars), block) || !decode_half(token.substr(kHalfChars + 1), tag))
    return std::nullopt;
  return static_cast<std::uint8_t>(block[0] ^ tag[kHalfBytes - 1]);
}

const TokenSealer::Keys* TokenSealer::find(std::uint8_t id) const {
  for (const auto& k : keys_) {
    if (k->id == id) return k.get();
  }
  return nullptr;
}

std::string TokenSealer::seal(const SealedPayload& payload) const {
  const auto kind = static_cast<std::uint8_t>(payload.kind);
  if (!known_kind(kind)) throw std::invalid_argument("TokenSealer::seal: unknown kind");
  if (payload.grant_id <= 0) throw std::invalid_argument("TokenSealer::seal: grant_id must be positive");
  if (payload.issued_at < 0 || static_cast<std::uint64_t>(payload.issued_at) > kMaxU40)
    throw std::invalid_argument("TokenSealer::seal: issued_at outside 0 .. 2^40 - 1");
  if (payload.expires_at < payload.issued_at ||
      static_cast<std::uint64_t>(payload.expires_at - payload.issued_at) > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("TokenSealer::seal: lifetime outside 0 .. 2^32 - 1");

  const Keys& key = *keys_.back();
  Block block{};
  block[0] = key.id;
  block[kOffVersionKind] = static_cast<std::uint8_t>((kVersion << 4) | kind);
  put_be(block, kOffGrant, static_cast<std::uint64_t>(payload.grant_id), 8);
  put_be(block, kOffGeneration, payload.generation, 4);
  put_be(block, kOffIssuedAt, static_cast<std::uint64_t>(payload.issued_at), 5);
  put_be(block, kOffLifetime, static_cast<std::uint64_t>(payload.expires_at - payload.issued_at), 4);
  block[kOffScope] = payload.scope_bits;
  put_be(block, kOffJti, payload.jti, 8);

  // The tag covers the whole plaintext, key id included; its first 16 bytes are the IV (synthetic IV).
  const Digest tag = hmac_sha256(key.mac, as_view(block));
  if (!ctr_xor(key.enc, tag.data(), block)) throw std::runtime_error("OpenSSL: AES-256-CTR failed");
  // The key id travels masked with the tag's last byte, so tokens do not all begin with the same characters.
  block[0] = static_cast<std::uint8_t>(block[0] ^ tag[kHalfBytes - 1]);
  std::string token = base::base64url_encode(block);
  token.push_back('.');
  token += base::base64url_encode(tag);
  return token;
}

std::optional<SealedPayload> TokenSealer::open(std::string_view token) const {
  if (token.size() != kTokenChars || token[kHalfChars] != '.') return std::nullopt;
  Block block{};
  Block tag{};
  if (!decode_half(token.substr(0, kHalfChars), block) || !decode_half(token.substr(kHalfChars + 1), tag))
    return std::nullopt;
  block[0] = static_cast<std::uint8_t>(block[0] ^ tag[kHalfBytes - 1]);  // the key id, unmasked
  const Keys* key = find(block[0]);
  if (key == nullptr) return std::nullopt;
  if (!ctr_xor(key->enc, tag.data(), block)) return std::nullopt;

  Digest expected{};
  try {
    expected = hmac_sha256(key->mac, as_view(block));
  } catch (const std::exception&) {
    return std::nullopt;  // OpenSSL failed: nothing verified, nothing accepted
  }
  const bool tag_ok = base::constant_time_equal(as_view(expected), as_view(tag));
  if (!tag_ok) {
    OPENSSL_cleanse(block.data(), block.size());
    return std::nullopt;
  }

  // Authentic, so these checks only guard against a key used with a future layout or a buggy sealer.
  const std::uint8_t version_kind = block[kOffVersionKind];
  const auto kind = static_cast<std::uint8_t>(version_kind & 0x0FU);
  if ((version_kind >> 4) != kVersion || !known_kind(kind)) return std::nullopt;
  const std::uint64_t grant = get_be(block, kOffGrant, 8);
  if (grant == 0 || grant > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;

  SealedPayload p;
  p.kind = static_cast<SealedKind>(kind);
  p.grant_id = static_cast<std::int64_t>(grant);
  p.generation = static_cast<std::uint32_t>(get_be(block, kOffGeneration, 4));
  p.issued_at = static_cast<base::UnixSeconds>(get_be(block, kOffIssuedAt, 5));
  p.expires_at = p.issued_at + static_cast<base::UnixSeconds>(get_be(block, kOffLifetime, 4));
  p.scope_bits = block[kOffScope];
  p.jti = get_be(block, kOffJti, 8);
  return p;
}

}  // namespace boltauth::crypto
