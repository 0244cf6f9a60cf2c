#include "crypto/signing_key.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <limits>
#include <stdexcept>
#include <utility>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_ptr.hpp"

namespace boltauth::crypto {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;  // beyond this signing is uselessly slow; also keeps JWKS sane
constexpr std::size_t kP256FieldBytes = 32;

enum class KeyType { rsa, ec_p256, ed25519 };

[[noreturn]] void fail(const char* what) {
  ERR_clear_error();  // keep this thread's OpenSSL error queue clean for the next caller
  throw std::runtime_error(std::string("SigningKey: ") + what);
}

using namespace ossl;  // NOLINT: the RAII owners of openssl_ptr.hpp

std::string b64(const std::vector<std::uint8_t>& bytes) { return base::base64url_encode(bytes); }

BnPtr get_bn(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1 || bn == nullptr) fail("cannot read a public key parameter");
  return BnPtr(bn);
}

// Big-endian, minimal length (no leading zero byte), as JWK "n" and "e" require (RFC 7518 section 6.3.1).
std::vector<std::uint8_t> bn_bytes(const BIGNUM* bn) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(BN_num_bytes(bn)));
  if (!out.empty()) BN_bn2bin(bn, out.data());
  return out;
}

// Fixed length, left-padded with zeros (EC coordinates and ECDSA r/s, RFC 7518 sections 3.4 and 6.2.1.2).
std::vector<std::uint8_t> bn_bytes_padded(const BIGNUM* bn, std::size_t len) {
  std::vector<std::uint8_t> out(len);
  if (BN_bn2binpad(bn, out.data(), static_cast<int>(len)) != static_cast<int>(len)) fail("number too large");
  return out;
}

bool is_p256(const EVP_PKEY* pkey) {
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
    return false;  // e.g. explicit curve parameters: not accepted
  }
  const std::string_view group(name, len);
  return group == "prime256v1" || group == "P-256" || group == "secp256r1";
}

}  // namespace

struct SigningKey::Impl {
  EVP_PKEY* pkey = nullptr;
  KeyType type = KeyType::rsa;
  std::string alg;
  std::string kid;
  boost::json::object jwk;  // public JWK, computed once

  explicit Impl(EVP_PKEY* key) : pkey(key) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

// Takes ownership of `raw`; checks the key type and size, and computes alg, JWK and RFC 7638 kid.
std::unique_ptr<SigningKey::Impl> make_impl(EVP_PKEY* raw) {
  auto impl = std::make_unique<SigningKey::Impl>(raw);
  EVP_PKEY* pkey = impl->pkey;
  boost::json::object members;  // the key-type specific public members
  std::string thumbprint_input;

  if (EVP_PKEY_is_a(pkey, "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits) fail("RSA keys must have at least 2048 bits");
    if (bits > kMaxRsaBits) fail("RSA key too large");
    impl->type = KeyType::rsa;
    impl->alg = "RS256";
    const std::string n = b64(bn_bytes(get_bn(pkey, OSSL_PKEY_PARAM_RSA_N).get()));
    const std::string e = b64(bn_bytes(get_bn(pkey, OSSL_PKEY_PARAM_RSA_E).get()));
    // RFC 7638 section 3.2: required members only, lexicographic order, no whitespace.
    thumbprint_input = R"({"e":")" + e + R"(","kty":"RSA","n":")" + n + R"("})";
    members = {{"kty", "RSA"}, {"n", n}, {"e", e}};
  } else if (EVP_PKEY_is_a(pkey, "EC")) {
    if (!is_p256(pkey)) fail("only P-256 EC keys are supported");
    impl->type = KeyType::ec_p256;
    impl->alg = "ES256";
    const std::string x = b64(bn_bytes_padded(get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_X).get(), kP256FieldBytes));
    const std::string y = b64(bn_bytes_padded(get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y).get(), kP256FieldBytes));
    thumbprint_input = R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + R"("})";
    members = {{"kty", "EC"}, {"crv", "P-256"}, {"x", x}, {"y", y}};
  } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
    impl->type = KeyType::ed25519;
    impl->alg = "EdDSA";
    std::vector<std::uint8_t> pub(32);
    std::size_t len = pub.size();
    if (EVP_PKEY_get_raw_public_key(pkey, pub.data(), &len) != 1 || len != pub.size()) fail("bad Ed25519 key");
    const std::string x = b64(pub);
    thumbprint_input = R"({"crv":"Ed25519","kty":"OKP","x":")" + x + R"("})";
    members = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", x}};
  } else {
    fail("unsupported key type (RSA, EC P-256 or Ed25519 expected)");
  }

  impl->kid = base::base64url_encode(sha256(thumbprint_input));

  boost::json::object& jwk = impl->jwk;
  jwk["kty"] = members["kty"];
  jwk["use"] = "sig";
  jwk["alg"] = impl->alg;
  jwk["kid"] = impl->kid;
  for (const auto& member : members) {
    if (member.key() != "kty") jwk[member.key()] = member.value();
  }
  return impl;
}

// PEM pass-phrase callback that refuses: an encrypted key fails to load instead of prompting on a terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

}  // namespace

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)), alg_(impl_->alg), kid_(impl_->kid) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

SigningKey SigningKey::generate_rsa(int bits) {
  if (bits < kMinRsaBits) throw std::runtime_error("SigningKey: RSA keys must have at least 2048 bits");
  if (bits > kMaxRsaBits) throw std::runtime_error("SigningKey: RSA key too large");

  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) fail("RSA keygen init failed");
  unsigned int ubits = static_cast<unsigned int>(bits);
  unsigned int e = 65537;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_BITS, &ubits),
                               OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, &e), OSSL_PARAM_construct_end()};
  if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1) fail("RSA keygen parameters rejected");
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &pkey) != 1 || pkey == nullptr) fail("RSA key generation failed");
  return SigningKey(make_impl(pkey));
}

SigningKey SigningKey::generate_ec_p256() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (pkey == nullptr) fail("P-256 key generation failed");
  return SigningKey(make_impl(pkey));
}

SigningKey SigningKey::generate_ed25519() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (pkey == nullptr) fail("Ed25519 key generation failed");
  return SigningKey(make_impl(pkey));
}

SigningKey SigningKey::generate(std::string_view alg, int rsa_bits) {
  if (alg == "RS256") return generate_rsa(rsa_bits);
  if (alg == "ES256") return generate_ec_p256();
  if (alg == "EdDSA") return generate_ed25519();
  throw std::invalid_argument("SigningKey: unsupported alg " + std::string(alg));
}

const std::vector<std::string>& SigningKey::supported_algs() {
  static const std::vector<std::string> algs{"RS256", "ES256", "EdDSA"};
  return algs;
}

SigningKey SigningKey::from_pem(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) fail("PEM too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) fail("BIO_new_mem_buf failed");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (pkey == nullptr) fail("cannot parse the PEM private key");
  return SigningKey(make_impl(pkey));
}

std::string SigningKey::private_pem() const {
  if (!impl_) throw std::logic_error("SigningKey: used after move");
  // A secure-memory BIO is wiped when freed, so no copy of the private key lingers on the heap.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) fail("BIO_new failed");
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), impl_->pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("PEM_write_bio_PKCS8PrivateKey failed");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) fail("empty PEM output");
  return std::string(data, static_cast<std::size_t>(len));
}

boost::json::object SigningKey::public_jwk() const {
  if (!impl_) throw std::logic_error("SigningKey: used after move");
  return impl_->jwk;
}

std::vector<std::uint8_t> SigningKey::sign(std::string_view signing_input) const {
  if (!impl_) throw std::logic_error("SigningKey: used after move");
  // A fresh context per call: the EVP_PKEY itself is only read, so concurrent sign() calls are safe.
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) fail("EVP_MD_CTX_new failed");
  EVP_PKEY_CTX* pctx = nullptr;                                           // owned by ctx
  const char* md = impl_->type == KeyType::ed25519 ? nullptr : "SHA256";  // Ed25519 hashes internally
  if (EVP_DigestSignInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, impl_->pkey, nullptr) != 1) {
    fail("EVP_DigestSignInit_ex failed");
  }
  if (impl_->type == KeyType::rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    fail("cannot select PKCS#1 v1.5 padding");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, signing_input.size()) != 1) fail("EVP_DigestSign failed");
  std::vector<std::uint8_t> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data, signing_input.size()) != 1) fail("EVP_DigestSign failed");
  sig.resize(len);
  if (impl_->type != KeyType::ec_p256) return sig;

  // JWS ES256 wants the raw 64-byte R || S (RFC 7518 section 3.4), not OpenSSL's DER.
  const unsigned char* p = sig.data();
  EcdsaSigPtr ecdsa(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!ecdsa) fail("cannot parse the ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(ecdsa.get(), &r, &s);
  std::vector<std::uint8_t> raw = bn_bytes_padded(r, kP256FieldBytes);
  const std::vector<std::uint8_t> s_bytes = bn_bytes_padded(s, kP256FieldBytes);
  raw.insert(raw.end(), s_bytes.begin(), s_bytes.end());
  return raw;
}

}  // namespace boltauth::crypto
