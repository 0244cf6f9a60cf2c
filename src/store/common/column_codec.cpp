#include "store/common/column_codec.hpp"

#include <openssl/sha.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/ports/storage_error.hpp"

namespace boltauth::store::common {

using core::model::GrantKind;
using core::ports::StorageError;

std::string encode_list(const std::vector<std::string>& items) {
  boost::json::array array;
  array.reserve(items.size());
  for (const auto& item : items) array.emplace_back(item);
  return boost::json::serialize(array);
}

std::vector<std::string> decode_list(std::string_view text, std::string_view adapter) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  const auto corrupt = [&] { return StorageError(std::string(adapter) + ": corrupt list column", false); };
  if (ec || !value.is_array()) throw corrupt();
  std::vector<std::string> items;
  items.reserve(value.get_array().size());
  for (const auto& item : value.get_array()) {
    if (!item.is_string()) throw corrupt();
    items.emplace_back(item.get_string());
  }
  return items;
}

std::string encode_fields(const std::map<std::string, std::string>& fields) {
  boost::json::object object;
  object.reserve(fields.size());
  for (const auto& [name, value] : fields) object.emplace(name, value);
  return boost::json::serialize(object);
}

std::map<std::string, std::string> decode_fields(std::string_view text, std::string_view adapter) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  const auto corrupt = [&] { return StorageError(std::string(adapter) + ": corrupt fields column", false); };
  if (ec || !value.is_object()) throw corrupt();
  std::map<std::string, std::string> fields;
  for (const auto& [name, item] : value.get_object()) {
    if (!item.is_string()) throw corrupt();
    fields.emplace(std::string(name), std::string(item.get_string()));
  }
  return fields;
}

std::int64_t encode_grant_kind(GrantKind kind) { return static_cast<std::int64_t>(kind); }

GrantKind decode_grant_kind(std::int64_t value, std::string_view adapter) {
  if (value == static_cast<std::int64_t>(GrantKind::authorization_code)) return GrantKind::authorization_code;
  if (value == static_cast<std::int64_t>(GrantKind::client_credentials)) return GrantKind::client_credentials;
  throw StorageError(std::string(adapter) + ": corrupt grant kind " + std::to_string(value), false);
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return out;
}

std::string email_sha256_hex(std::string_view lower_email) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(lower_email.data()), lower_email.size(), digest);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace boltauth::store::common
