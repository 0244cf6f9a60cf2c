#include "crypto/token_minter.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "base/base64url.hpp"
#include "base/random.hpp"

namespace boltauth::crypto {
namespace {

constexpr std::array<std::uint8_t, 32> kMaster = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

bool token_charset(std::string_view s) {
  for (char c : s) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The next character of the base64url alphabet (wrapping), so a replaced character always differs.
char next_char(char c) { return kAlphabet[(kAlphabet.find(c) + 1) % kAlphabet.size()]; }

class TokenMinterTest : public ::testing::Test {
 protected:
  TokenMinter minter{kMaster};
  base::SeededRandom random{42};
};

TEST_F(TokenMinterTest, MintShape) {
  const std::string token = minter.mint(TokenKind::access_token, random);
  ASSERT_EQ(token.size(), 87u);
  EXPECT_EQ(token[43], '.');
  EXPECT_EQ(token.find('.'), 43u);
  EXPECT_EQ(token.rfind('.'), 43u);
  EXPECT_TRUE(token_charset(token)) << token;
  const auto r = base::base64url_decode(token.substr(0, 43));
  const auto mac = base::base64url_decode(token.substr(44));
  ASSERT_TRUE(r && mac);
  EXPECT_EQ(r->size(), 32u);
  EXPECT_EQ(mac->size(), 32u);
}

TEST_F(TokenMinterTest, MacIsHmacOfRandomUnderDerivedKind) {
  // Pins the documented derivation so tokens stay valid across versions and nodes.
  const Digest mac_key = hmac_sha256(kMaster, "boltauth token mac v1:refresh_token");
  const std::string token = minter.mint(TokenKind::refresh_token, random);
  const auto r = base::base64url_decode(token.substr(0, 43));
  ASSERT_TRUE(r);
  EXPECT_EQ(token.substr(44), base::base64url_encode(hmac_sha256(mac_key, as_view(*r))));
}

TEST_F(TokenMinterTest, VerifyAcceptsEveryKind) {
  for (TokenKind kind :
       {TokenKind::authorization_code, TokenKind::access_token, TokenKind::refresh_token, TokenKind::client_secret}) {
    EXPECT_TRUE(minter.verify(kind, minter.mint(kind, random)));
  }
}

TEST_F(TokenMinterTest, VerifyRejectsOtherKinds) {
  const std::array<TokenKind, 4> kinds{TokenKind::authorization_code, TokenKind::access_token, TokenKind::refresh_token,
                                       TokenKind::client_secret};
  for (TokenKind minted : kinds) {
    const std::string token = minter.mint(minted, random);
    for (TokenKind checked : kinds) {
      EXPECT_EQ(minter.verify(checked, token), minted == checked);
    }
  }
}

TEST_F(TokenMinterTest, VerifyRejectsOtherMasterKey) {
  auto other_master = kMaster;
  other_master[0] ^= 1;
  const TokenMinter other(other_master);
  EXPECT_FALSE(other.verify(TokenKind::access_token, minter.mint(TokenKind::access_token, random)));
}

TEST_F(TokenMinterTest, VerifyRejectsFlippedCharacterAnywhere) {
  const std::string token = minter.mint(TokenKind::access_token, random);
  ASSERT_TRUE(minter.verify(TokenKind::access_token, token));
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (i == 43) continue;
    std::string bad = token;
    bad[i] = next_char(bad[i]);
    EXPECT_FALSE(minter.verify(TokenKind::access_token, bad)) << "position " << i;
  }
}

TEST_F(TokenMinterTest, VerifyRejectsSwappedHalvesAndSeparator) {
  const std::string token = minter.mint(TokenKind::access_token, random);
  EXPECT_FALSE(minter.verify(TokenKind::access_token, token.substr(44) + "." + token.substr(0, 43)));
  std::string bad = token;
  bad[43] = '_';
  EXPECT_FALSE(minter.verify(TokenKind::access_token, bad));
}

TEST_F(TokenMinterTest, VerifyRejectsWrongLength) {
  const std::string token = minter.mint(TokenKind::access_token, random);
  EXPECT_FALSE(minter.verify(TokenKind::access_token, token.substr(0, 86)));
  EXPECT_FALSE(minter.verify(TokenKind::access_token, token + "A"));
  EXPECT_FALSE(minter.verify(TokenKind::access_token, token + "="));
  EXPECT_FALSE(minter.verify(TokenKind::access_token, " " + token));
  EXPECT_FALSE(minter.verify(TokenKind::access_token, token.substr(0, 43)));
  EXPECT_FALSE(minter.verify(TokenKind::access_token, token + "." + token));
}

TEST_F(TokenMinterTest, VerifyRejectsEmpty) {
  EXPECT_FALSE(minter.verify(TokenKind::access_token, ""));
  EXPECT_FALSE(minter.verify(TokenKind::access_token, "."));
}

TEST_F(TokenMinterTest, VerifyRejectsNonCanonicalBase64url) {
  // 43 characters carry 258 bits for 256: the last character's low 2 bits must be zero. A lenient
  // decoder would map c and c+1 (for canonical c) to the same bytes; the minter must not accept it.
  const std::string token = minter.mint(TokenKind::access_token, random);
  for (std::size_t pos : {std::size_t{42}, std::size_t{86}}) {
    std::string bad = token;
    const std::size_t index = kAlphabet.find(bad[pos]);
    ASSERT_EQ(index % 4, 0u) << "minted token is not canonical at " << pos;
    bad[pos] = kAlphabet[index + 1];
    EXPECT_FALSE(minter.verify(TokenKind::access_token, bad)) << "position " << pos;
  }
  // Standard-alphabet spelling of the same bytes.
  std::string std_alphabet = token;
  bool changed = false;
  for (char& c : std_alphabet) {
    if (c == '-' || c == '_') {
      c = c == '-' ? '+' : '/';
      changed = true;
    }
  }
  if (changed) {
    EXPECT_FALSE(minter.verify(TokenKind::access_token, std_alphabet));
  }
}

TEST_F(TokenMinterTest, VerifyRejectsForgedMac) {
  // A well-formed token whose MAC half is just other bytes.
  const std::string token = minter.mint(TokenKind::access_token, random);
  const std::string forged = token.substr(0, 44) + std::string(42, 'A') + "A";
  EXPECT_FALSE(minter.verify(TokenKind::access_token, forged));
}

TEST_F(TokenMinterTest, MintsDiffer) {
  base::SystemRandom system;
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) seen.insert(minter.mint(TokenKind::access_token, system));
  EXPECT_EQ(seen.size(), 64u);
  EXPECT_NE(minter.mint(TokenKind::access_token, random), minter.mint(TokenKind::access_token, random));
}

TEST_F(TokenMinterTest, SameRandomSameKindIsDeterministic) {
  base::SeededRandom a(7), b(7);
  EXPECT_EQ(minter.mint(TokenKind::authorization_code, a), minter.mint(TokenKind::authorization_code, b));
}

TEST_F(TokenMinterTest, StorageHash) {
  const std::string h = minter.storage_hash("some token");
  EXPECT_EQ(h.size(), 43u);
  EXPECT_TRUE(token_charset(h));
  EXPECT_EQ(h.find('.'), std::string::npos);
  EXPECT_EQ(h, minter.storage_hash("some token"));
  EXPECT_EQ(h, TokenMinter(kMaster).storage_hash("some token"));
  EXPECT_NE(h, minter.storage_hash("some token "));
  EXPECT_NE(h, minter.storage_hash(""));
  auto other_master = kMaster;
  other_master[31] ^= 0x80;
  EXPECT_NE(h, TokenMinter(other_master).storage_hash("some token"));
  // Documented derivation.
  const Digest storage_key = hmac_sha256(kMaster, "boltauth storage hash v1");
  EXPECT_EQ(h, base::base64url_encode(hmac_sha256(storage_key, "some token")));
}

TEST_F(TokenMinterTest, StorageHashIsNotTheToken) {
  const std::string token = minter.mint(TokenKind::refresh_token, random);
  const std::string h = minter.storage_hash(token);
  EXPECT_EQ(token.find(h), std::string::npos);
  EXPECT_FALSE(minter.verify(TokenKind::refresh_token, h));
}

}  // namespace
}  // namespace boltauth::crypto
