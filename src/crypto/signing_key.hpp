#pragma once
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boltauth::crypto {

/// A private signing key (OpenSSL EVP_PKEY behind RAII): RS256, ES256 (P-256) or EdDSA (Ed25519).
class SigningKey {
 public:
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  /// A new RSA key of `bits` (>= 2048) for RS256. Throws std::runtime_error on failure or bits < 2048.
  static SigningKey generate_rsa(int bits);
  /// A new P-256 key for ES256. Throws std::runtime_error on failure.
  static SigningKey generate_ec_p256();
  /// A new Ed25519 key for EdDSA. Throws std::runtime_error on failure.
  static SigningKey generate_ed25519();
  /// A new key for `alg` ("RS256" with `rsa_bits`, "ES256", "EdDSA"). Throws std::invalid_argument otherwise.
  static SigningKey generate(std::string_view alg, int rsa_bits);
  /// The JWS algs a key can be generated for, in the order discovery lists them.
  static const std::vector<std::string>& supported_algs();
  /// Loads a PKCS#8 PEM private key. The alg is derived from the key type (RSA -> RS256). Throws on failure.
  static SigningKey from_pem(std::string_view pem);

  /// PKCS#8 PEM of the private key.
  std::string private_pem() const;

  /// "RS256", "ES256" or "EdDSA".
  const std::string& alg() const { return alg_; }
  /// RFC 7638 JWK thumbprint (SHA-256, base64url): stable across restarts and identical on every node.
  const std::string& kid() const { return kid_; }

  /// Public JWK: {"kty","use":"sig","alg","kid","n","e"}; never any private member (checklist H2).
  boost::json::object public_jwk() const;

  /// Signature over `signing_input` (PKCS#1 v1.5 with SHA-256 for RS256). Throws on OpenSSL failure.
  std::vector<std::uint8_t> sign(std::string_view signing_input) const;

  struct Impl;

 private:
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string alg_;
  std::string kid_;
};

}  // namespace boltauth::crypto
