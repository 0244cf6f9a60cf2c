#include "base/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/base64url.hpp"

namespace boltauth::base {
namespace {

std::vector<std::uint8_t> draw(Random& random, std::size_t n) {
  std::vector<std::uint8_t> out(n);
  random.fill(out);
  return out;
}

TEST(SeededRandom, SameSeedGivesSameBytes) {
  SeededRandom a(42);
  SeededRandom b(42);
  const auto first_a = draw(a, 64);
  const auto first_b = draw(b, 64);
  EXPECT_EQ(first_a, first_b);
  // And the streams stay in step afterwards.
  EXPECT_EQ(draw(a, 17), draw(b, 17));
  EXPECT_EQ(a.token(32), b.token(32));
  EXPECT_EQ(a.digits(6), b.digits(6));
  EXPECT_EQ(a.alnum(20), b.alnum(20));
}

TEST(SeededRandom, DifferentSeedsDiffer) {
  SeededRandom a(1);
  SeededRandom b(2);
  EXPECT_NE(draw(a, 32), draw(b, 32));
  SeededRandom c(0);
  SeededRandom d(0xFFFFFFFFFFFFFFFFULL);
  EXPECT_NE(draw(c, 32), draw(d, 32));
}

TEST(SeededRandom, StreamAdvances) {
  SeededRandom a(7);
  const auto first = draw(a, 32);
  const auto second = draw(a, 32);
  EXPECT_NE(first, second);
  // Not a constant byte stream.
  const std::set<std::uint8_t> distinct(first.begin(), first.end());
  EXPECT_GT(distinct.size(), 8U);
}

TEST(SystemRandom, FillsAndDiffers) {
  SystemRandom r;
  const auto a = draw(r, 32);
  const auto b = draw(r, 32);
  EXPECT_NE(a, b);  // 2^-256 chance of a false failure
}

TEST(Random, DigitsAreDecimal) {
  SeededRandom r(123);
  for (int i = 0; i < 200; ++i) {
    const std::string d = r.digits(6);
    ASSERT_EQ(d.size(), 6U);
    EXPECT_EQ(d.find_first_not_of("0123456789"), std::string::npos) << d;
  }
  EXPECT_EQ(r.digits(0), "");
  EXPECT_EQ(r.digits(100).size(), 100U);  // longer than one internal buffer
}

TEST(Random, AlnumCharset) {
  SeededRandom r(99);
  const std::string s = r.alnum(4000);
  ASSERT_EQ(s.size(), 4000U);
  EXPECT_EQ(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), std::string::npos);
  // 4000 draws over 62 symbols: every symbol appears (expected ~64 each).
  const std::set<char> distinct(s.begin(), s.end());
  EXPECT_EQ(distinct.size(), 62U);
  EXPECT_EQ(r.alnum(7).size(), 7U);
}

TEST(Random, TokenIs43CharBase64UrlOf32Bytes) {
  SeededRandom r(5);
  const std::string t = r.token(32);
  ASSERT_EQ(t.size(), 43U);
  EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
  const auto decoded = base64url_decode(t);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->size(), 32U);
  EXPECT_NE(r.token(32), t);

  SystemRandom sys;
  const std::string s = sys.token(32);
  EXPECT_EQ(s.size(), 43U);
  EXPECT_TRUE(base64url_decode(s).has_value());
}

TEST(Random, TokenMatchesFilledBytes) {
  SeededRandom a(77);
  SeededRandom b(77);
  const auto bytes = draw(a, 32);
  EXPECT_EQ(b.token(32), base64url_encode(std::span<const std::uint8_t>(bytes)));
}

TEST(Random, DigitsRoughlyUniform) {
  SeededRandom r(2024);
  std::array<int, 10> counts{};
  const std::string s = r.digits(10000);
  ASSERT_EQ(s.size(), 10000U);
  for (char c : s) {
    ASSERT_GE(c, '0');
    ASSERT_LE(c, '9');
    ++counts[static_cast<std::size_t>(c - '0')];
  }
  // Expected 1000 each, sd ~30; a generous band still catches modulo bias or a stuck digit.
  for (std::size_t d = 0; d < counts.size(); ++d) {
    EXPECT_GT(counts[d], 850) << "digit " << d;
    EXPECT_LT(counts[d], 1150) << "digit " << d;
  }
}

TEST(Random, DigitsUniformOverManySixDigitCodes) {
  // The same check through the call the server uses (one-time codes).
  SeededRandom r(31337);
  std::array<int, 10> counts{};
  for (int i = 0; i < 10000 / 6 + 1; ++i) {
    for (char c : r.digits(6)) {
      ASSERT_TRUE(c >= '0' && c <= '9') << static_cast<int>(c);
      ++counts[static_cast<std::size_t>(c - '0')];
    }
  }
  for (std::size_t d = 0; d < counts.size(); ++d) {
    EXPECT_GT(counts[d], 850) << "digit " << d;
    EXPECT_LT(counts[d], 1150) << "digit " << d;
  }
}

}  // namespace
}  // namespace boltauth::base
