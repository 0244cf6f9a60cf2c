#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boltauth::protocol {

enum class FormError { malformed, duplicate, too_many };

/// A decoded application/x-www-form-urlencoded body (HTML URL-encoding: `+` is a space).
class FormParams {
 public:
  /// The value of `name`; an empty value counts as absent (RFC 6749 section 3.1).
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct FormParseResult {
  std::optional<FormParams> params;
  FormError error = FormError::malformed;
  std::string debug;
};

/// Parses a form body. Any parameter that appears twice is refused (RFC 6749 section 3.2: "Request and
/// response parameters MUST NOT be included more than once"), as are bad percent escapes and more than
/// `max_params` pairs.
FormParseResult parse_form(std::string_view body, std::size_t max_params);

/// Percent-decoding with `+` as space. nullopt on a bad escape.
std::optional<std::string> form_decode(std::string_view text);

/// Percent-encodes everything but unreserved characters (RFC 3986 section 2.3).
std::string form_encode(std::string_view text);

}  // namespace boltauth::protocol
