#pragma once
#include <map>
#include <string>

#include "base/clock.hpp"

namespace boltauth::core::model {

/// One entry of a shopper's address book. The fields are kept by name (first_name, street_address1,
/// country_code...), already checked and normalized by the account endpoint: v1 and v3 name the same fields but
/// require different ones, and the store keeps whatever the endpoint accepted.
struct Address {
  std::string id;   // opaque, random; never reused
  std::string sub;  // the account it belongs to
  std::map<std::string, std::string> fields;
  bool is_default = false;  // exactly one address of a non-empty book is the default
  base::UnixSeconds created_at = 0;
  base::UnixSeconds updated_at = 0;
  bool operator==(const Address&) const = default;
};

}  // namespace boltauth::core::model
