// `Authorization: Basic` (RFC 6749 section 2.3.1: form-encoded id and secret, then base64). Property: what
// parses re-encodes to credentials that parse to the same pair.
#include "protocol/basic_auth.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace boltauth;
  const auto header = fuzz::as_view(data, size);
  const auto parsed = protocol::parse_basic_auth(header);
  if (parsed) {
    FUZZ_CHECK(protocol::is_basic_scheme(header));
    const auto again = protocol::parse_basic_auth(protocol::make_basic_auth(parsed->client_id, parsed->client_secret));
    FUZZ_CHECK(again && again->client_id == parsed->client_id && again->client_secret == parsed->client_secret);
  }
  return 0;
}
