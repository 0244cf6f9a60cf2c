#include "http/trusted_proxies.hpp"

#include <gtest/gtest.h>

namespace boltauth::http {
namespace {

TEST(TrustedProxies, MatchesIpv4AndIpv6RangesAndMappedAddresses) {
  const auto t = TrustedProxies::parse({"10.0.0.0/8", "192.168.1.7", "fd00::/8", " ::1/128 "});
  EXPECT_TRUE(t.contains("10.1.2.3"));
  EXPECT_TRUE(t.contains("::ffff:10.1.2.3"));  // an IPv4 peer on a dual-stack socket
  EXPECT_TRUE(t.contains("192.168.1.7"));
  EXPECT_FALSE(t.contains("192.168.1.8"));
  EXPECT_FALSE(t.contains("11.0.0.1"));
  EXPECT_TRUE(t.contains("fd12:3456::1"));
  EXPECT_TRUE(t.contains("::1"));
  EXPECT_FALSE(t.contains("fe80::1"));
  EXPECT_FALSE(t.contains("not an address"));
  EXPECT_FALSE(TrustedProxies::parse({}).contains("127.0.0.1"));
}

TEST(TrustedProxies, PrefixLengthsAreExactAtTheirBoundaries) {
  const auto t = TrustedProxies::parse({"172.16.0.0/12", "0.0.0.0/0"});
  EXPECT_TRUE(t.contains("8.8.8.8"));  // /0: everything IPv4
  EXPECT_FALSE(t.contains("2001:db8::1"));
  const auto u = TrustedProxies::parse({"172.16.0.0/12"});
  EXPECT_TRUE(u.contains("172.31.255.255"));
  EXPECT_FALSE(u.contains("172.32.0.0"));
}

TEST(TrustedProxies, RefusesWhatIsNotACidr) {
  EXPECT_THROW(TrustedProxies::parse({"10.0.0.0/33"}), std::invalid_argument);
  EXPECT_THROW(TrustedProxies::parse({"::/129"}), std::invalid_argument);
  EXPECT_THROW(TrustedProxies::parse({"example.com"}), std::invalid_argument);
  EXPECT_THROW(TrustedProxies::parse({"10.0.0.0/8x"}), std::invalid_argument);
  EXPECT_THROW(TrustedProxies::parse({"10.0.0.0/"}), std::invalid_argument);
}

TEST(TrustedProxies, ClientAddressIsTheRightmostUntrustedHop) {
  const auto t = TrustedProxies::parse({"10.0.0.0/8"});
  // Not from a proxy: the header is not believed.
  EXPECT_EQ(t.client_address("203.0.113.5", {"198.51.100.1"}), "203.0.113.5");
  // From a proxy: the hop it saw.
  EXPECT_EQ(t.client_address("10.0.0.2", {"198.51.100.1"}), "198.51.100.1");
  // The client may prepend anything; only what our proxies appended counts.
  EXPECT_EQ(t.client_address("10.0.0.2", {"1.2.3.4, 198.51.100.1, 10.0.0.9"}), "198.51.100.1");
  // Several header lines are one list.
  EXPECT_EQ(t.client_address("10.0.0.2", {"1.2.3.4", "198.51.100.1"}), "198.51.100.1");
  EXPECT_EQ(t.client_address("10.0.0.2", {"[2001:db8::7]"}), "2001:db8::7");
  // A malformed hop: believe nothing beyond the peer.
  EXPECT_EQ(t.client_address("10.0.0.2", {"1.2.3.4, garbage"}), "10.0.0.2");
  // No header: the peer.
  EXPECT_EQ(t.client_address("10.0.0.2", {}), "10.0.0.2");
  // Every hop is a proxy of ours: the leftmost.
  EXPECT_EQ(t.client_address("10.0.0.2", {"10.0.0.7, 10.0.0.8"}), "10.0.0.7");
}

}  // namespace
}  // namespace boltauth::http
