#include "http/request_id.hpp"

#include <random>

namespace boltauth::http {

bool acceptable_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    static constexpr std::string_view kTcharSymbols = "!#$%&'*+-.^_`|~";
    if (!alnum && kTcharSymbols.find(ch) == std::string_view::npos) return false;
  }
  return true;
}

std::string new_request_id() {
  // Uniqueness, not secrecy: a per-thread generator seeded once from the kernel keeps this off the syscall path.
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = generator();
    for (int i = 0; i < 16; ++i, bits >>= 4) id[static_cast<std::size_t>(half * 16 + i)] = kHex[bits & 15];
  }
  return id;
}

}  // namespace boltauth::http
