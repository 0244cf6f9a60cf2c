#include "http/trusted_proxies.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <stdexcept>

namespace boltauth::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::array<std::uint8_t, 16>> TrustedProxies::to_bytes(std::string_view address) {
  if (address.size() > 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  if (address.empty() || address.size() > 63) return std::nullopt;
  const std::string text(address);
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    const auto* b = reinterpret_cast<const std::uint8_t*>(&v4.s_addr);
    for (int i = 0; i < 4; ++i) out[12 + i] = b[i];
    return out;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(i)] = v6.s6_addr[i];
    return out;
  }
  return std::nullopt;
}

TrustedProxies TrustedProxies::parse(const std::vector<std::string>& cidrs) {
  TrustedProxies t;
  for (const auto& entry : cidrs) {
    const std::string_view e = trim(entry);
    if (e.empty()) continue;
    const auto slash = e.find('/');
    const auto bytes = to_bytes(e.substr(0, slash));
    if (!bytes)
      throw std::invalid_argument("trusted_proxies: \"" + entry + "\" is not an IPv4 or IPv6 address or CIDR");
    const bool v4 =
        (*bytes)[10] == 0xff && (*bytes)[11] == 0xff && e.substr(0, slash).find(':') == std::string_view::npos;
    int prefix = 128;
    if (slash != std::string_view::npos) {
      const std::string_view p = e.substr(slash + 1);
      int n = -1;
      const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
      if (ec != std::errc() || end != p.data() + p.size() || n < 0 || n > (v4 ? 32 : 128))
        throw std::invalid_argument("trusted_proxies: \"" + entry + "\" has an invalid prefix length");
      prefix = v4 ? n + 96 : n;
    }
    t.nets_.push_back(Net{*bytes, prefix});
  }
  return t;
}

bool TrustedProxies::contains(std::string_view address) const {
  if (nets_.empty()) return false;
  const auto bytes = to_bytes(address);
  if (!bytes) return false;
  for (const auto& net : nets_) {
    int bits = net.prefix;
    bool match = true;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
      const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
      if (((*bytes)[i] & mask) != (net.bytes[i] & mask)) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::client_address(std::string_view peer,
                                           const std::vector<std::string_view>& forwarded_for) const {
  if (forwarded_for.empty() || !contains(peer)) return std::string(peer);
  // All the header lines, as one comma-separated list (RFC 9110 section 5.3), split from the right.
  std::vector<std::string_view> hops;
  for (const auto line : forwarded_for) {
    std::string_view rest = line;
    while (true) {
      const auto comma = rest.find(',');
      hops.push_back(trim(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    // A malformed entry means a proxy of ours did not write it correctly: believe nothing beyond the peer.
    if (!to_bytes(*it)) return std::string(peer);
    if (!contains(*it)) {
      std::string_view a = *it;
      if (a.size() > 2 && a.front() == '[') a = a.substr(1, a.size() - 2);
      return std::string(a);
    }
  }
  // Every hop is one of our proxies: the leftmost is as close to the client as we can know.
  std::string_view a = hops.front();
  if (a.size() > 2 && a.front() == '[') a = a.substr(1, a.size() - 2);
  return std::string(a);
}

}  // namespace boltauth::http
