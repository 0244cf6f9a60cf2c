// The JSON and form models of Bolt's API (protocol/models and the SDK's parsers): token requests (JSON and form),
// token responses, OAuth error bodies, sandbox testing accounts. Property: what parses serializes to JSON that
// parses back to the same serialization (no field is lost or invented on the way). Also the account API's address
// input (v1 and v3): what it accepts is well-formed UTF-8 without control or bidi characters, within its lengths,
// with an ISO country code.
#include <boost/json.hpp>

#include "boltauth/models.hpp"
#include "core/account/account_input.hpp"
#include "fuzz_support.hpp"
#include "protocol/form.hpp"
#include "protocol/models.hpp"

namespace {

using namespace boltauth;

template <typename Parse>
void round_trip(const boost::json::value& v, Parse parse) {
  if (const auto model = parse(v)) {
    const auto once = models::serialize(models::to_json(*model));
    const auto again = parse(boost::json::value(models::to_json(*model)));
    FUZZ_CHECK(again);
    FUZZ_CHECK(models::serialize(models::to_json(*again)) == once);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const auto text = fuzz::as_view(data, size);
  boost::system::error_code ec;
  const auto v = boost::json::parse(text, ec);
  if (!ec) {
    round_trip(v, models::oauth_token_response_from_json);
    round_trip(v, models::errors_oauth_server_response_from_json);
    round_trip(v, models::testing_account_details_from_json);
    round_trip(v, models::oauth_token_input_from_json);
    round_trip(v, models::oauth_token_input_refresh_from_json);
    (void)models::testing_account_request_from_json(v);
    if (v.is_object()) {
      for (const auto dialect : {core::Dialect::v1, core::Dialect::v3}) {
        const auto parsed = core::account::parse_address(v.as_object(), dialect);
        if (const auto* in = std::get_if<core::account::AddressInput>(&parsed)) {
          for (const auto& [name, value] : in->fields) {
            const auto length = core::account::utf8_length(value);
            FUZZ_CHECK(length && *length <= 1024 && !value.empty());
            FUZZ_CHECK(core::account::forbidden_character(value).empty());
          }
          FUZZ_CHECK(core::account::iso3166_alpha2(in->fields.at("country_code")));
        }
      }
    }
  }
  // The SDK reads the server's answers from raw text.
  if (const auto r = models::parse_oauth_token_response(text)) {
    const auto back = models::parse_oauth_token_response(models::to_json_string(*r));
    FUZZ_CHECK(back && models::to_json_string(*back) == models::to_json_string(*r));
  }
  (void)models::parse_errors_oauth_server_response(text);
  // The same request as a form body.
  if (const auto form = protocol::parse_form(text, 32); form.params) {
    if (const auto body = models::token_request_from_form(*form.params)) {
      const auto again = protocol::parse_form(models::to_form(*body), 32);
      FUZZ_CHECK(again.params);
      const auto body2 = models::token_request_from_form(*again.params);
      FUZZ_CHECK(body2 && models::to_form(*body2) == models::to_form(*body));
    }
  }
  return 0;
}
