// application/x-www-form-urlencoded decoding (protocol/form): every body the token, introspection, revocation
// and login endpoints read. Property: a parsed form re-encodes and parses back to the same pairs.
#include "protocol/form.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace boltauth;
  const auto body = fuzz::as_view(data, size);
  const auto parsed = protocol::parse_form(body, 32);
  if (parsed.params) {
    FUZZ_CHECK(parsed.params->items().size() <= 32);
    std::string again;
    for (const auto& [k, v] : parsed.params->items()) {
      if (!again.empty()) again += '&';
      again += protocol::form_encode(k) + "=" + protocol::form_encode(v);
    }
    const auto round = protocol::parse_form(again, 32);
    FUZZ_CHECK(round.params);
    FUZZ_CHECK(round.params->items() == parsed.params->items());
  }
  if (const auto decoded = protocol::form_decode(body)) {
    const auto back = protocol::form_decode(protocol::form_encode(*decoded));
    FUZZ_CHECK(back && *back == *decoded);
  }
  return 0;
}
