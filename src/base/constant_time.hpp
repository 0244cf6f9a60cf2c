#pragma once
#include <cstddef>
#include <string_view>

namespace boltauth::base {

/// Compares without an early exit so timing does not reveal the length of a matching prefix.
/// Length is not secret here: every compared value (hashes, MACs) has a fixed public length.
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace boltauth::base
