#include "base/base64url.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boltauth::base {
namespace {

std::vector<std::uint8_t> to_bytes(std::string_view s) { return {s.begin(), s.end()}; }

struct Vector {
  std::string_view plain;
  std::string_view url;   // RFC 4648 section 5, unpadded
  std::string_view std_;  // RFC 4648 section 4, padded (section 10 test vectors)
};

// RFC 4648 section 10. None of these contain 62 or 63, so the url and standard alphabets agree.
constexpr Vector kRfc4648Vectors[] = {
    {"", "", ""},
    {"f", "Zg", "Zg=="},
    {"fo", "Zm8", "Zm8="},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg", "Zm9vYg=="},
    {"fooba", "Zm9vYmE", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

TEST(Base64Url, Rfc4648VectorsEncodeUnpadded) {
  for (const auto& v : kRfc4648Vectors) {
    EXPECT_EQ(base64url_encode(v.plain), v.url) << "plain=\"" << v.plain << "\"";
    const auto bytes = to_bytes(v.plain);
    EXPECT_EQ(base64url_encode(std::span<const std::uint8_t>(bytes)), v.url) << "plain=\"" << v.plain << "\"";
  }
}

TEST(Base64Url, Rfc4648VectorsDecode) {
  for (const auto& v : kRfc4648Vectors) {
    const auto decoded = base64url_decode(v.url);
    ASSERT_TRUE(decoded.has_value()) << "text=\"" << v.url << "\"";
    EXPECT_EQ(*decoded, to_bytes(v.plain)) << "text=\"" << v.url << "\"";
  }
}

TEST(Base64Url, UsesUrlAlphabetForValues62And63) {
  // 0xFB 0xFF 0xBF = 111110 111111 111110 111111 -> indexes 62 63 62 63.
  const std::vector<std::uint8_t> bytes{0xFB, 0xFF, 0xBF};
  EXPECT_EQ(base64url_encode(std::span<const std::uint8_t>(bytes)), "-_-_");
  const auto decoded = base64url_decode("-_-_");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, bytes);
}

TEST(Base64Url, RoundTripsEveryByteValue) {
  std::vector<std::uint8_t> all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  const std::string text = base64url_encode(std::span<const std::uint8_t>(all));
  // 256 bytes = 85 groups of 3 plus 1 byte -> 85*4 + 2 characters, no padding.
  EXPECT_EQ(text.size(), 342U);
  EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  const auto decoded = base64url_decode(text);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, all);

  // Every length 0..256 of the prefix too, so all three tail shapes are exercised with every byte.
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::span<const std::uint8_t> prefix(all.data(), n);
    const auto back = base64url_decode(base64url_encode(prefix));
    ASSERT_TRUE(back.has_value()) << "n=" << n;
    EXPECT_EQ(*back, std::vector<std::uint8_t>(prefix.begin(), prefix.end())) << "n=" << n;
  }
  // Each single byte alone (tail of one byte, 4 unused bits).
  for (int b = 0; b < 256; ++b) {
    const std::vector<std::uint8_t> one{static_cast<std::uint8_t>(b)};
    const auto back = base64url_decode(base64url_encode(std::span<const std::uint8_t>(one)));
    ASSERT_TRUE(back.has_value()) << "b=" << b;
    EXPECT_EQ(*back, one) << "b=" << b;
  }
}

TEST(Base64Url, DecodeRejectsPadding) {
  EXPECT_FALSE(base64url_decode("Zg==").has_value());
  EXPECT_FALSE(base64url_decode("Zm8=").has_value());
  EXPECT_FALSE(base64url_decode("Zg=").has_value());
  EXPECT_FALSE(base64url_decode("=").has_value());
  EXPECT_FALSE(base64url_decode("====").has_value());
}

TEST(Base64Url, DecodeRejectsStandardAlphabetCharacters) {
  EXPECT_FALSE(base64url_decode("+/+/").has_value());
  EXPECT_FALSE(base64url_decode("ab+d").has_value());
  EXPECT_FALSE(base64url_decode("ab/d").has_value());
  // Sanity: the url equivalent is accepted, so the rejection above is about the characters.
  EXPECT_TRUE(base64url_decode("ab-d").has_value());
  EXPECT_TRUE(base64url_decode("ab_d").has_value());
}

TEST(Base64Url, DecodeRejectsWhitespaceAndOtherBytes) {
  EXPECT_FALSE(base64url_decode(" Zm9v").has_value());
  EXPECT_FALSE(base64url_decode("Zm9v ").has_value());
  EXPECT_FALSE(base64url_decode("Zm 9v").has_value());
  EXPECT_FALSE(base64url_decode("Zm9v\n").has_value());
  EXPECT_FALSE(base64url_decode("Zm9v\r\nZm9v").has_value());
  EXPECT_FALSE(base64url_decode("Zm\t9v").has_value());
  EXPECT_FALSE(base64url_decode("Zm.v").has_value());
  EXPECT_FALSE(base64url_decode(std::string_view("Zm\0v", 4)).has_value());
  EXPECT_FALSE(base64url_decode("Zm\xC3\xA9").has_value());
}

TEST(Base64Url, DecodeRejectsLengthOneModFour) {
  EXPECT_FALSE(base64url_decode("A").has_value());
  EXPECT_FALSE(base64url_decode("Z").has_value());
  EXPECT_FALSE(base64url_decode("Zm9vY").has_value());
  EXPECT_FALSE(base64url_decode("Zm9vYmFyZ").has_value());
}

TEST(Base64Url, DecodeRejectsNonCanonicalTrailingBits) {
  // "f" = 0x66 = 011001 10(0000): "Zg" is canonical; "Zh".."Zv" set unused bits.
  ASSERT_TRUE(base64url_decode("Zg").has_value());
  EXPECT_FALSE(base64url_decode("Zh").has_value());
  EXPECT_FALSE(base64url_decode("Zi").has_value());
  EXPECT_FALSE(base64url_decode("Zj").has_value());
  EXPECT_FALSE(base64url_decode("Zv").has_value());
  // "fo" = "Zm8" canonical (2 unused bits); "Zm9", "Zm-", "Zm_" set them.
  ASSERT_TRUE(base64url_decode("Zm8").has_value());
  EXPECT_FALSE(base64url_decode("Zm9").has_value());
  EXPECT_FALSE(base64url_decode("Zm-").has_value());
  EXPECT_FALSE(base64url_decode("Zm_").has_value());
  EXPECT_FALSE(base64url_decode("AB").has_value());
  EXPECT_FALSE(base64url_decode("AAB").has_value());
  // Canonical-only means every accepted text re-encodes to itself.
  for (std::string_view text : {"AA", "AAA", "Zg", "Zm8", "_w", "__8"}) {
    const auto decoded = base64url_decode(text);
    ASSERT_TRUE(decoded.has_value()) << text;
    EXPECT_EQ(base64url_encode(std::span<const std::uint8_t>(*decoded)), text);
  }
}

TEST(Base64Std, Rfc4648VectorsEncodePadded) {
  for (const auto& v : kRfc4648Vectors) EXPECT_EQ(base64_encode(v.plain), v.std_) << "plain=\"" << v.plain << "\"";
}

TEST(Base64Std, Rfc4648VectorsDecode) {
  for (const auto& v : kRfc4648Vectors) {
    const auto decoded = base64_decode(v.std_);
    ASSERT_TRUE(decoded.has_value()) << "text=\"" << v.std_ << "\"";
    EXPECT_EQ(*decoded, v.plain);
  }
}

TEST(Base64Std, UsesStandardAlphabet) {
  EXPECT_EQ(base64_encode("\xFB\xFF\xBF"), "+/+/");
  const auto decoded = base64_decode("+/+/");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, "\xFB\xFF\xBF");
  EXPECT_FALSE(base64_decode("-_-_").has_value());
}

TEST(Base64Std, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string prefix = all.substr(0, n);
    const std::string text = base64_encode(prefix);
    EXPECT_EQ(text.size() % 4, 0U);
    const auto back = base64_decode(text);
    ASSERT_TRUE(back.has_value()) << "n=" << n;
    EXPECT_EQ(*back, prefix) << "n=" << n;
  }
}

TEST(Base64Std, RejectsMissingPadding) {
  EXPECT_FALSE(base64_decode("Zg").has_value());
  EXPECT_FALSE(base64_decode("Zg=").has_value());
  EXPECT_FALSE(base64_decode("Zm8").has_value());
  EXPECT_FALSE(base64_decode("Zm9vYg").has_value());
  EXPECT_FALSE(base64_decode("Zm9vYmE").has_value());
}

TEST(Base64Std, RejectsMalformedPadding) {
  EXPECT_FALSE(base64_decode("Z===").has_value());
  EXPECT_FALSE(base64_decode("====").has_value());
  EXPECT_FALSE(base64_decode("Zg==Zg==").has_value());  // padding in the middle
  EXPECT_FALSE(base64_decode("Z=g=").has_value());
  EXPECT_FALSE(base64_decode("Zm8==").has_value());  // too much padding for the length
}

TEST(Base64Std, RejectsNonCanonicalBitsAndWhitespace) {
  EXPECT_FALSE(base64_decode("Zh==").has_value());
  EXPECT_FALSE(base64_decode("Zm9=").has_value());
  EXPECT_FALSE(base64_decode("Zm9v ").has_value());
  EXPECT_FALSE(base64_decode("Zm 9").has_value());
}

}  // namespace
}  // namespace boltauth::base
