#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boltauth::http {

/// The load balancers and reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed. From any
/// other peer those headers are dropped before a handler sees them: anyone can send them, and a throttle keyed
/// by a forged address would be no throttle at all.
class TrustedProxies {
 public:
  /// Parses a list of CIDRs ("10.0.0.0/8", "::1/128"; a bare address means that one host). Throws
  /// std::invalid_argument naming the entry that is not an IPv4 or IPv6 CIDR.
  static TrustedProxies parse(const std::vector<std::string>& cidrs);

  bool empty() const noexcept { return nets_.empty(); }
  /// True when `address` (as the socket reports it; IPv4-mapped IPv6 counts as IPv4) is in one of the ranges.
  bool contains(std::string_view address) const;

  /// The client's address for a request that arrived from `peer` with these `X-Forwarded-For` header values (in
  /// order): walking the list from the right (RFC 7239 section 5.2's order for X-Forwarded-For too), the first
  /// address that is not a trusted proxy; the peer itself when the peer is not trusted or the header is absent or
  /// malformed. Each proxy appends the address it saw, so only the entries our own proxies added can be believed.
  std::string client_address(std::string_view peer, const std::vector<std::string_view>& forwarded_for) const;

 private:
  struct Net {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix = 128;
  };
  static std::optional<std::array<std::uint8_t, 16>> to_bytes(std::string_view address);
  std::vector<Net> nets_;
};

}  // namespace boltauth::http
