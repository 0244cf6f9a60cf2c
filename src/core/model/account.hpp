#pragma once
#include <optional>
#include <string>

#include "base/clock.hpp"

namespace boltauth::core::model {

/// A shopper's Bolt Account (contract section 1).
struct Account {
  std::string sub;    // stable opaque id
  std::string email;  // normalized to lower case; unique
  bool email_verified = false;
  std::string first_name;
  std::string last_name;
  std::optional<std::string> phone;  // E.164
  bool phone_verified = false;
  std::optional<std::string> otp_hash;             // sandbox test accounts only: keyed hash of the fixed code
  std::optional<base::UnixSeconds> deactivate_at;  // sandbox test accounts only
  base::UnixSeconds created_at = 0;
  base::UnixSeconds updated_at = 0;
  bool operator==(const Account&) const = default;
};

}  // namespace boltauth::core::model
