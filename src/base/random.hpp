#pragma once
#include <cstdint>
#include <mutex>
#include <span>
#include <string>

namespace boltauth::base {

/// Randomness is injected (tests use a seeded generator); production uses the kernel CSPRNG.
class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;

  /// `n` decimal digits, uniformly distributed (rejection sampling, no modulo bias).
  std::string digits(std::size_t n);
  /// `n` characters from [A-Za-z0-9], uniformly distributed.
  std::string alnum(std::size_t n);
  /// base64url of `bytes` random bytes.
  std::string token(std::size_t bytes);
};

/// getrandom(2): the kernel CSPRNG. Thread-safe.
class SystemRandom final : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

/// Deterministic generator for tests only (splitmix64). Not cryptographic. Thread-safe.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  void fill(std::span<std::uint8_t> out) override;

 private:
  std::mutex mutex_;
  std::uint64_t state_;
};

}  // namespace boltauth::base
