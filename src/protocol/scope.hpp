#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boltauth::protocol {

/// The scopes boltauth knows (contract section 3). Bits of a ScopeSet, in canonical output order.
enum class ScopeToken : std::uint8_t {
  bolt_account_manage = 1,
  bolt_account_view = 2,
  openid = 4,
  email = 8,
};

class ScopeSet {
 public:
  constexpr ScopeSet() = default;
  constexpr explicit ScopeSet(std::uint8_t bits) : bits_(bits) {}
  constexpr ScopeSet(std::initializer_list<ScopeToken> tokens) {
    for (auto t : tokens) bits_ |= static_cast<std::uint8_t>(t);
  }
  constexpr bool has(ScopeToken t) const { return (bits_ & static_cast<std::uint8_t>(t)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool subset_of(ScopeSet other) const { return (bits_ & ~other.bits_) == 0; }
  constexpr std::uint8_t bits() const { return bits_; }
  constexpr bool operator==(const ScopeSet&) const = default;
  void add(ScopeToken t) { bits_ = static_cast<std::uint8_t>(bits_ | static_cast<std::uint8_t>(t)); }

  /// Space-separated, canonical order: "bolt.account.manage bolt.account.view openid email".
  std::string to_string() const;

 private:
  std::uint8_t bits_ = 0;
};

enum class ScopeError { malformed, unknown };

struct ScopeParseResult {
  std::optional<ScopeSet> scope;
  ScopeError error = ScopeError::malformed;
};

/// Parses a decoded `scope` value in every encoding Bolt clients send (contract section 3):
/// space separated, a literal `+` between tokens, a single token, or a raw JSON array of strings.
ScopeParseResult parse_scope(std::string_view value);

}  // namespace boltauth::protocol
