#include "crypto/jws.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <set>
#include <vector>

#include "base/base64url.hpp"
#include "crypto/openssl_ptr.hpp"

namespace boltauth::crypto {
namespace {

namespace json = boost::json;

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;
constexpr std::size_t kP256FieldBytes = 32;

enum class Alg { rs256, es256, eddsa };

using namespace ossl;  // NOLINT: the RAII owners of openssl_ptr.hpp

// ---- JSON with duplicate-key detection -------------------------------------------------------------
// boost::json::parse keeps the last of duplicate keys; a verifier and another consumer could then read
// different claims from the same token, so objects with a repeated key (at any depth) are rejected.

class DuplicateKeyHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  bool duplicate = false;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    const bool inserted = keys_.back().insert(std::move(key_)).second;
    key_.clear();
    if (!inserted) {
      duplicate = true;
      ec = json::make_error_code(json::error::syntax);
      return false;
    }
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  std::vector<std::set<std::string, std::less<>>> keys_;
  std::string key_;
};

// Strict RFC 8259 (Boost's defaults: no comments, trailing commas or invalid UTF-8), an object at the
// top, and no duplicate member names anywhere.
std::optional<json::object> parse_object(const std::vector<std::uint8_t>& bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  {
    json::basic_parser<DuplicateKeyHandler> checker(json::parse_options{});
    json::error_code ec;
    const std::size_t used = checker.write_some(false, text.data(), text.size(), ec);
    if (ec || used != text.size() || !checker.done()) return std::nullopt;
  }
  json::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// ---- keys ------------------------------------------------------------------------------------------

const json::string* string_member(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(name);
  return v != nullptr ? v->if_string() : nullptr;
}

std::optional<std::vector<std::uint8_t>> b64_member(const json::object& obj, std::string_view name) {
  const json::string* s = string_member(obj, name);
  if (s == nullptr) return std::nullopt;
  return base::base64url_decode(std::string_view(s->data(), s->size()));
}

// Whether the JWK may verify `alg` (kty/crv family, and its own "alg", "use" and "key_ops" when present).
bool key_matches_alg(const json::object& jwk, Alg alg, std::string_view alg_name) {
  if (const json::value* use = jwk.if_contains("use")) {
    if (!use->is_string() || use->get_string() != "sig") return false;
  }
  if (const json::value* key_alg = jwk.if_contains("alg")) {
    if (!key_alg->is_string() || key_alg->get_string() != alg_name) return false;
  }
  if (const json::value* ops = jwk.if_contains("key_ops")) {
    if (!ops->is_array()) return false;
    bool verify = false;
    for (const json::value& op : ops->get_array()) verify = verify || (op.is_string() && op.get_string() == "verify");
    if (!verify) return false;
  }
  const json::string* kty = string_member(jwk, "kty");
  const json::string* crv = string_member(jwk, "crv");
  if (kty == nullptr) return false;
  switch (alg) {
    case Alg::rs256:
      return *kty == "RSA";
    case Alg::es256:
      return *kty == "EC" && crv != nullptr && *crv == "P-256";
    case Alg::eddsa:
      return *kty == "OKP" && crv != nullptr && *crv == "Ed25519";
  }
  return false;
}

PkeyPtr pkey_fromdata(const char* type, const OSSL_PARAM* params) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) != 1) {
    return nullptr;
  }
  return PkeyPtr(pkey);
}

PkeyPtr rsa_key(const json::object& jwk) {
  const auto n_bytes = b64_member(jwk, "n");
  const auto e_bytes = b64_member(jwk, "e");
  if (!n_bytes || !e_bytes || n_bytes->empty() || e_bytes->empty() || e_bytes->size() > 8) return nullptr;
  BnPtr n(BN_bin2bn(n_bytes->data(), static_cast<int>(n_bytes->size()), nullptr));
  BnPtr e(BN_bin2bn(e_bytes->data(), static_cast<int>(e_bytes->size()), nullptr));
  if (!n || !e) return nullptr;
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) return nullptr;
  // e must be odd and at least 3 (e = 1 would make every value its own valid signature).
  if (!BN_is_odd(e.get()) || BN_is_one(e.get())) return nullptr;

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return nullptr;
  PkeyPtr pkey = pkey_fromdata("RSA", params.get());
  if (!pkey || EVP_PKEY_get_bits(pkey.get()) < kMinRsaBits) return nullptr;
  return pkey;
}

PkeyPtr ec_p256_key(const json::object& jwk) {
  const auto x = b64_member(jwk, "x");
  const auto y = b64_member(jwk, "y");
  if (!x || !y || x->size() != kP256FieldBytes || y->size() != kP256FieldBytes) return nullptr;
  std::vector<std::uint8_t> point{0x04};  // uncompressed SEC1 point
  point.insert(point.end(), x->begin(), x->end());
  point.insert(point.end(), y->begin(), y->end());
  char group[] = "P-256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                               OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
                               OSSL_PARAM_construct_end()};
  PkeyPtr pkey = pkey_fromdata("EC", params);
  if (!pkey) return nullptr;
  // Point on the curve and not infinity (invalid-curve attacks).
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return pkey;
}

PkeyPtr ed25519_key(const json::object& jwk) {
  const auto x = b64_member(jwk, "x");
  if (!x || x->size() != 32) return nullptr;
  return PkeyPtr(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, x->data(), x->size()));
}

PkeyPtr public_key(const json::object& jwk, Alg alg) {
  switch (alg) {
    case Alg::rs256:
      return rsa_key(jwk);
    case Alg::es256:
      return ec_p256_key(jwk);
    case Alg::eddsa:
      return ed25519_key(jwk);
  }
  return nullptr;
}

// ---- signatures ------------------------------------------------------------------------------------

// JWS ES256 raw R || S -> DER for OpenSSL. Rejects r == 0 or s == 0 outright (CVE-2022-21449 "psychic
// signatures"); OpenSSL also rejects them and values >= n, this is belt and braces.
std::optional<std::vector<std::uint8_t>> ecdsa_raw_to_der(const std::vector<std::uint8_t>& raw) {
  if (raw.size() != 2 * kP256FieldBytes) return std::nullopt;
  BnPtr r(BN_bin2bn(raw.data(), static_cast<int>(kP256FieldBytes), nullptr));
  BnPtr s(BN_bin2bn(raw.data() + kP256FieldBytes, static_cast<int>(kP256FieldBytes), nullptr));
  if (!r || !s || BN_is_zero(r.get()) || BN_is_zero(s.get())) return std::nullopt;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // now owned by sig
  s.release();
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return std::nullopt;
  return der;
}

bool verify_signature(EVP_PKEY* pkey, Alg alg, std::string_view signing_input, const std::vector<std::uint8_t>& sig) {
  std::vector<std::uint8_t> der;
  const std::vector<std::uint8_t>* to_check = &sig;
  switch (alg) {
    case Alg::rs256:
      // RFC 7518 section 3.3 / RFC 8017: the signature is exactly as long as the modulus.
      if (sig.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey))) return false;
      break;
    case Alg::es256: {
      auto converted = ecdsa_raw_to_der(sig);
      if (!converted) return false;
      der = std::move(*converted);
      to_check = &der;
      break;
    }
    case Alg::eddsa:
      if (sig.size() != 64) return false;
      break;
  }

  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const char* md = alg == Alg::eddsa ? nullptr : "SHA256";
  if (EVP_DigestVerifyInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, pkey, nullptr) != 1) return false;
  if (alg == Alg::rs256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  // Only exactly 1 is success: other values are "bad signature" (0) or an error (negative).
  return EVP_DigestVerify(ctx.get(), to_check->data(), to_check->size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

std::optional<Alg> parse_alg(std::string_view alg) {
  // Exact, case-sensitive names (RFC 7518); "none", "NONE", "nOnE", HS256, RS384, PS256, ... all land here.
  if (alg == "RS256") return Alg::rs256;
  if (alg == "ES256") return Alg::es256;
  if (alg == "EdDSA") return Alg::eddsa;
  return std::nullopt;
}

JwsVerifyResult fail(JwsVerifyResult& result, JwsError error) {
  ERR_clear_error();  // OpenSSL failures must not leave entries on this thread's error queue
  result.claims.reset();
  result.error = error;
  return std::move(result);
}

}  // namespace

std::string sign_jwt(const SigningKey& key, const boost::json::object& claims) {
  const json::object header{{"alg", key.alg()}, {"kid", key.kid()}, {"typ", "JWT"}};
  std::string compact = base::base64url_encode(json::serialize(header));
  compact.push_back('.');
  compact += base::base64url_encode(json::serialize(claims));
  const std::vector<std::uint8_t> signature = key.sign(compact);
  compact.push_back('.');
  compact += base::base64url_encode(signature);
  return compact;
}

JwsVerifyResult verify_jws(std::string_view compact, const boost::json::object& jwks) {
  JwsVerifyResult result;

  // Exactly three parts (a JWE has five; JSON serialization is not accepted).
  const std::size_t dot1 = compact.find('.');
  if (dot1 == std::string_view::npos) return fail(result, JwsError::malformed);
  const std::size_t dot2 = compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
    return fail(result, JwsError::malformed);
  }
  const auto header_bytes = base::base64url_decode(compact.substr(0, dot1));
  const auto payload_bytes = base::base64url_decode(compact.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = base::base64url_decode(compact.substr(dot2 + 1));
  if (!header_bytes || !payload_bytes || !signature) return fail(result, JwsError::malformed);

  auto header = parse_object(*header_bytes);
  if (!header) return fail(result, JwsError::malformed);
  result.header = std::move(*header);
  const json::object& h = result.header;

  const json::string* alg_name = string_member(h, "alg");
  if (alg_name == nullptr) return fail(result, JwsError::unsupported_alg);
  const std::optional<Alg> alg = parse_alg(std::string_view(alg_name->data(), alg_name->size()));
  if (!alg) return fail(result, JwsError::unsupported_alg);

  // Key-carrying headers would let the token pick its own key; crit names extensions we do not implement.
  for (std::string_view name : {"jwk", "jku", "x5u", "x5c", "crit"}) {
    if (h.contains(name)) return fail(result, JwsError::forbidden_header);
  }

  const json::string* kid = string_member(h, "kid");
  if (kid == nullptr) return fail(result, JwsError::unknown_kid);
  const json::value* keys = jwks.if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return fail(result, JwsError::unknown_kid);

  bool kid_known = false;
  PkeyPtr pkey;
  for (const json::value& entry : keys->get_array()) {
    const json::object* jwk = entry.if_object();
    if (jwk == nullptr) continue;
    const json::string* key_kid = string_member(*jwk, "kid");
    if (key_kid == nullptr || *key_kid != *kid) continue;
    kid_known = true;
    if (!key_matches_alg(*jwk, *alg, std::string_view(alg_name->data(), alg_name->size()))) continue;
    pkey = public_key(*jwk, *alg);
    if (pkey) break;
  }
  if (!kid_known) return fail(result, JwsError::unknown_kid);
  if (!pkey) return fail(result, JwsError::unsupported_alg);  // no usable key of that kid for this alg

  if (!verify_signature(pkey.get(), *alg, compact.substr(0, dot2), *signature)) {
    return fail(result, JwsError::bad_signature);
  }

  // Parsed only once authentic; a signed payload must still be a duplicate-free JSON object.
  auto claims = parse_object(*payload_bytes);
  if (!claims) return fail(result, JwsError::malformed);
  result.claims = std::move(*claims);
  return result;
}

}  // namespace boltauth::crypto
