// `scope` in the four encodings Bolt clients send (space separated, a literal `+`, one token, a JSON array).
// Property: a parsed scope prints canonically and that text parses back to the same set.
#include "protocol/scope.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace boltauth;
  const auto parsed = protocol::parse_scope(fuzz::as_view(data, size));
  if (parsed.scope) {
    FUZZ_CHECK(!parsed.scope->empty());
    const auto text = parsed.scope->to_string();
    const auto again = protocol::parse_scope(text);
    FUZZ_CHECK(again.scope && *again.scope == *parsed.scope);
  }
  return 0;
}
