#include "protocol/form.hpp"

#include <unordered_set>

namespace boltauth::protocol {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> FormParams::get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) {
      if (value.empty()) return std::nullopt;
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

std::optional<std::string> form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string form_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

FormParseResult parse_form(std::string_view body, std::size_t max_params) {
  FormParseResult result;
  FormParams params;
  std::unordered_set<std::string> seen;
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('&', pos);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view pair = body.substr(pos, end - pos);
    pos = end + 1;
    if (pair.empty()) {
      if (end == body.size()) break;
      continue;  // "a=1&&b=2": an empty pair carries nothing
    }
    if (++count > max_params) {
      result.error = FormError::too_many;
      result.debug = "too many parameters";
      return result;
    }
    const std::size_t eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) {
      result.error = FormError::malformed;
      result.debug = "bad percent-encoding";
      return result;
    }
    if (!seen.insert(*name).second) {
      result.error = FormError::duplicate;
      result.debug = "repeated parameter: " + *name;
      return result;
    }
    params.add(std::move(*name), std::move(*value));
    if (end == body.size()) break;
  }
  result.params = std::move(params);
  return result;
}

}  // namespace boltauth::protocol
