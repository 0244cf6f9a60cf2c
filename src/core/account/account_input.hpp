#pragma once
#include <boost/json/value.hpp>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/api_error.hpp"
#include "core/exchange.hpp"

/// The input rules of account data (profiles and addresses), one definition for v1 and v3: JSON bodies only,
/// text measured in Unicode code points, no control or bidirectional-override characters, ISO country codes.
namespace boltauth::core::account {

/// Code points in `s`, or nothing when it is not well-formed UTF-8 (RFC 3629: no overlongs, no surrogates).
std::optional<std::size_t> utf8_length(std::string_view s) noexcept;

/// The first character a stored text must not carry, as U+XXXX, or empty: C0 and C1 controls, DEL, and the
/// bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069) that can make text shown
/// to a shopper or a merchant read other than it is stored (Unicode TR 9; CVE-2021-42574).
std::string forbidden_character(std::string_view utf8);

/// ISO 3166-1 alpha-2: the 249 officially assigned codes, upper case.
bool iso3166_alpha2(std::string_view code) noexcept;

/// E.164 (ITU-T E.164 section 6): "+", then 8 to 15 digits, the first not 0.
bool e164(std::string_view phone) noexcept;

/// A plausible email address for delivery: one "@", a non-empty local part and a dotted domain, at most 254
/// octets (RFC 5321 section 4.5.3.1.3), no spaces.
bool plausible_email(std::string_view email) noexcept;

/// RFC 9110 section 8.3.1: the body is `application/json` (parameters such as charset allowed), case-insensitive.
bool is_json_content_type(std::optional<std::string_view> value) noexcept;

/// The request body as a JSON object, or the error to answer: 415 for another media type, 400 for a body that
/// is not a JSON object.
std::variant<boost::json::object, ApiError> json_object_body(const Request& request);

/// One text field: a string of at most `max` code points without forbidden characters. `required`: present and
/// not empty. Returns the error, or nothing when the field is acceptable (or absent and optional).
std::optional<ApiError> check_text(const boost::json::object& body, std::string_view field, std::size_t max,
                                   bool required);

/// What an address request asked, checked: the fields to store (by their input names) and the default flag.
struct AddressInput {
  std::map<std::string, std::string> fields;
  std::optional<bool> make_default;
};

/// Checks an address body. v1 (`address_account`) requires first_name, last_name, street_address1, locality,
/// region, postal_code, country_code and email, and spells the default flag `default`; v3
/// (`AddressListingInput`) requires first_name, last_name, street_address1, locality, postal_code and
/// country_code, and spells it `is_default`. An unknown member is refused by name; v1's `metadata` is accepted
/// and not stored (boltauth keeps no merchant metadata).
std::variant<AddressInput, ApiError> parse_address(const boost::json::object& body, Dialect dialect);

}  // namespace boltauth::core::account
