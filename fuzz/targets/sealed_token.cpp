// Sealed tokens (crypto/token_sealer) and minted opaque values (crypto/token_minter): every access token, refresh
// token and code a client presents is opened here before any store lookup. Properties: whatever opens re-seals to
// the very same text (the token is canonical, so no second spelling names the same grant), and a value the
// minter accepts has Bolt's `<43>.<43>` shape.
#include "crypto/token_minter.hpp"
#include "crypto/token_sealer.hpp"
#include "fuzz_support.hpp"

namespace {

std::vector<boltauth::crypto::SealingKey> keys() {
  std::vector<boltauth::crypto::SealingKey> k(2);
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i].id = static_cast<std::uint8_t>(7 + i);
    k[i].secret.fill(static_cast<std::uint8_t>(0x40 + i));
    k[i].created_at = 1'700'000'000 + static_cast<std::int64_t>(i);
  }
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace boltauth;
  if (!fuzz::seed_dir()) return 0;
  const crypto::TokenSealer sealer(keys());
  int n = 0;
  for (auto kind :
       {crypto::SealedKind::authorization_code, crypto::SealedKind::access_token, crypto::SealedKind::refresh_token}) {
    crypto::SealedPayload p;
    p.kind = kind;
    p.grant_id = 42 + n;
    p.generation = kind == crypto::SealedKind::refresh_token ? 3 : 0;
    p.issued_at = 1'800'000'000;
    p.expires_at = p.issued_at + 3600;
    p.scope_bits = 15;
    p.jti = 0x1234567890abcdefULL;
    fuzz::write_seed("sealed-" + std::to_string(n++), sealer.seal(p));
  }
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace boltauth;
  static const crypto::TokenSealer sealer(keys());
  static const crypto::TokenMinter minter([] {
    std::array<std::uint8_t, 32> k{};
    k.fill(0x5a);
    return k;
  }());
  const auto token = fuzz::as_view(data, size);
  if (const auto payload = sealer.open(token)) {
    FUZZ_CHECK(payload->grant_id > 0);
    FUZZ_CHECK(payload->expires_at >= payload->issued_at);
    FUZZ_CHECK(sealer.seal(*payload) == token || crypto::TokenSealer::key_id_of(token) != sealer.sealing_key_id());
    FUZZ_CHECK(crypto::TokenSealer::key_id_of(token).has_value());
  }
  for (auto kind : {crypto::TokenKind::authorization_code, crypto::TokenKind::access_token,
                    crypto::TokenKind::refresh_token, crypto::TokenKind::client_secret})
    if (minter.verify(kind, token)) FUZZ_CHECK(token.size() == 87 && token[43] == '.');
  FUZZ_CHECK(minter.storage_hash(token).size() == 43);
  return 0;
}
