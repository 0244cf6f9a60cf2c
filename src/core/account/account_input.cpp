#include "core/account/account_input.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include <boost/json/parse.hpp>

namespace boltauth::core::account {
namespace {

// Decodes one code point at `i` (advancing it), or -1 on malformed UTF-8.
long next_code_point(std::string_view s, std::size_t& i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int n = 0;
  long cp = 0;
  long min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 1, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 2, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 3, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + static_cast<std::size_t>(n) >= s.size()) return -1;  // truncated sequence
  for (int k = 1; k <= n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += n + 1;
  return cp;
}

// Officially assigned ISO 3166-1 alpha-2 codes, sorted.
constexpr std::array<std::string_view, 249> kCountries{
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB",
    "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY",
    "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX",
    "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK",
    "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR",
    "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA",
    "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE",
    "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG",
    "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF",
    "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY",
    "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"};

struct FieldRule {
  std::string_view name;
  std::size_t max;  // code points
};

// The address members both versions know, with Bolt's v1 maxLength.
constexpr std::array<FieldRule, 17> kAddressFields{{{"first_name", 1024},
                                                    {"last_name", 1024},
                                                    {"name", 1024},
                                                    {"company", 1024},
                                                    {"street_address1", 1024},
                                                    {"street_address2", 1024},
                                                    {"street_address3", 1024},
                                                    {"street_address4", 1024},
                                                    {"locality", 1024},
                                                    {"region", 1024},
                                                    {"region_code", 1024},
                                                    {"postal_code", 32},
                                                    {"country_code", 2},
                                                    {"country", 1024},
                                                    {"door_code", 1024},
                                                    {"email", 254},
                                                    {"phone", 16}}};

}  // namespace

std::optional<std::size_t> utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n)
    if (next_code_point(s, i) < 0) return std::nullopt;
  return n;
}

std::string forbidden_character(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const long cp = next_code_point(s, i);
    if (cp < 0) return "invalid UTF-8";
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
    const bool bidi = (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    if (control || bidi) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "U+%04lX", static_cast<unsigned long>(cp));
      return buf;
    }
  }
  return {};
}

bool iso3166_alpha2(std::string_view code) noexcept {
  return code.size() == 2 && std::binary_search(kCountries.begin(), kCountries.end(), code);
}

bool e164(std::string_view p) noexcept {
  if (p.size() < 9 || p.size() > 16 || p[0] != '+' || p[1] == '0') return false;
  return std::all_of(p.begin() + 1, p.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool plausible_email(std::string_view e) noexcept {
  if (e.empty() || e.size() > 254) return false;
  const auto at = e.find('@');
  if (at == 0 || at == std::string_view::npos || e.find('@', at + 1) != std::string_view::npos) return false;
  const auto domain = e.substr(at + 1);
  const auto dot = domain.find('.');
  if (domain.empty() || dot == 0 || dot == std::string_view::npos || domain.back() == '.') return false;
  return std::none_of(e.begin(), e.end(), [](char c) { return c == ' ' || static_cast<unsigned char>(c) < 0x21; });
}

bool is_json_content_type(std::optional<std::string_view> value) noexcept {
  if (!value) return false;
  std::string_view v = *value;
  const auto semi = v.find(';');
  std::string_view type = v.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  constexpr std::string_view json = "application/json";
  if (type.size() != json.size()) return false;
  for (std::size_t i = 0; i < json.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(type[i])) != json[i]) return false;
  return true;
}

std::variant<boost::json::object, ApiError> json_object_body(const Request& request) {
  if (!is_json_content_type(request.header("content-type")))
    return ApiError{ApiError::Kind::unsupported_media_type, "The body must be application/json."};
  boost::system::error_code ec;
  auto value = boost::json::parse(request.body, ec);
  if (ec || !value.is_object()) return ApiError{ApiError::Kind::invalid_field, "The body must be a JSON object."};
  return std::move(value.as_object());
}

std::optional<ApiError> check_text(const boost::json::object& body, std::string_view field, std::size_t max,
                                   bool required) {
  const auto* v = body.if_contains(field);
  const std::string name(field);
  if (!v || v->is_null()) {
    if (required) return ApiError::field_error(name, name + " is required.");
    return std::nullopt;
  }
  if (!v->is_string()) return ApiError::field_error(name, name + " must be a string.");
  const std::string_view text = v->as_string();
  if (required && text.empty()) return ApiError::field_error(name, name + " is required.");
  const auto length = utf8_length(text);
  if (!length) return ApiError::field_error(name, name + " is not valid UTF-8.");
  if (*length > max)
    return ApiError::field_error(name, name + " must be at most " + std::to_string(max) + " characters.");
  if (const auto bad = forbidden_character(text); !bad.empty())
    return ApiError::field_error(name, name + " must not contain the control or bidirectional character " + bad + ".");
  return std::nullopt;
}

std::variant<AddressInput, ApiError> parse_address(const boost::json::object& body, Dialect dialect) {
  const bool v1 = dialect != Dialect::v3;
  const std::string_view default_member = v1 ? "default" : "is_default";
  for (const auto& member : body) {
    // A named variable, not a structured binding: clang 14 (the fuzz build) cannot capture those in a lambda.
    const std::string_view key = member.key();
    const bool known =
        std::any_of(kAddressFields.begin(), kAddressFields.end(), [&](const FieldRule& r) { return r.name == key; }) ||
        key == default_member || (v1 && key == "metadata");
    if (!known) {
      // Named only when it is short printable ASCII: the message must not echo arbitrary input.
      const bool printable = key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
                               return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                             });
      return ApiError::field_error(printable ? std::string(key) : std::string("body"),
                                   printable ? std::string(key) + " is not an address field."
                                             : std::string("The body has a member that is not an address field."));
    }
  }
  AddressInput out;
  for (const auto& rule : kAddressFields) {
    const bool required = rule.name == "first_name" || rule.name == "last_name" || rule.name == "street_address1" ||
                          rule.name == "locality" || rule.name == "postal_code" || rule.name == "country_code" ||
                          (v1 && (rule.name == "region" || rule.name == "email"));
    if (auto err = check_text(body, rule.name, rule.max, required)) return *err;
    const auto* v = body.if_contains(rule.name);
    if (!v || v->is_null()) continue;
    std::string text(v->as_string());
    if (text.empty()) continue;  // an empty optional member is absent
    out.fields.emplace(std::string(rule.name), std::move(text));
  }
  auto& country = out.fields.at("country_code");
  for (auto& c : country) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!iso3166_alpha2(country))
    return ApiError::field_error("country_code", "country_code must be an ISO 3166-1 alpha-2 code, such as US.");
  if (auto it = out.fields.find("email"); it != out.fields.end()) {
    if (!plausible_email(it->second)) return ApiError::field_error("email", "email is not an email address.");
  }
  if (auto it = out.fields.find("phone"); it != out.fields.end()) {
    if (!e164(it->second))
      return ApiError::field_error("phone", "phone must be in E.164 form: + and 8 to 15 digits, such as +14155550100.");
  }
  if (const auto* d = body.if_contains(default_member); d && !d->is_null()) {
    if (!d->is_bool())
      return ApiError::field_error(std::string(default_member), std::string(default_member) + " must be a boolean.");
    out.make_default = d->as_bool();
  }
  return out;
}

}  // namespace boltauth::core::account
