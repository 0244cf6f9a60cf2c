#include "protocol/basic_auth.hpp"

#include <strings.h>

#include "base/base64url.hpp"
#include "protocol/form.hpp"

namespace boltauth::protocol {

bool is_basic_scheme(std::string_view header_value) {
  return header_value.size() >= 5 && ::strncasecmp(header_value.data(), "basic", 5) == 0 &&
         (header_value.size() == 5 || header_value[5] == ' ');
}

std::optional<BasicCredentials> parse_basic_auth(std::string_view header_value) {
  if (!is_basic_scheme(header_value)) return std::nullopt;
  std::string_view rest = header_value.substr(5);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  const auto decoded = base::base64_decode(rest);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto id = form_decode(std::string_view(*decoded).substr(0, colon));
  auto secret = form_decode(std::string_view(*decoded).substr(colon + 1));
  if (!id || !secret || id->empty()) return std::nullopt;
  return BasicCredentials{std::move(*id), std::move(*secret)};
}

std::string make_basic_auth(std::string_view client_id, std::string_view client_secret) {
  return "Basic " + base::base64_encode(form_encode(client_id) + ":" + form_encode(client_secret));
}

}  // namespace boltauth::protocol
