#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

#include "base/base64url.hpp"
#include "base/random.hpp"

namespace boltauth::base {

void SystemRandom::fill(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Without entropy nothing secure can be issued; this never happens on Linux >= 3.17 after boot.
      throw std::runtime_error("getrandom failed");
    }
    done += static_cast<std::size_t>(n);
  }
}

void SeededRandom::fill(std::span<std::uint8_t> out) {
  std::lock_guard lock(mutex_);
  for (auto& byte : out) {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    byte = static_cast<std::uint8_t>((z ^ (z >> 31)) & 0xFF);
  }
}

namespace {
std::string pick(Random& random, std::size_t n, std::string_view alphabet) {
  // Rejection sampling keeps every symbol equally likely.
  const auto limit = static_cast<unsigned>(256 - (256 % alphabet.size()));
  std::string out;
  out.reserve(n);
  std::uint8_t buf[64];
  while (out.size() < n) {
    random.fill(buf);
    for (std::uint8_t b : buf) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}
}  // namespace

std::string Random::digits(std::size_t n) { return pick(*this, n, "0123456789"); }

std::string Random::alnum(std::size_t n) {
  return pick(*this, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}

std::string Random::token(std::size_t bytes) {
  std::vector<std::uint8_t> buf(bytes);
  fill(buf);
  return base64url_encode(buf);
}

}  // namespace boltauth::base
