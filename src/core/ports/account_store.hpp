#pragma once
#include <optional>
#include <string_view>

#include "core/model/account.hpp"

namespace boltauth::core::ports {

/// Shopper accounts. Every method may throw StorageError.
class AccountStore {
 public:
  virtual ~AccountStore() = default;
  /// False when the sub or the (normalized) email is taken.
  virtual bool insert(const model::Account& account) = 0;
  virtual std::optional<model::Account> find(std::string_view sub) = 0;
  virtual std::optional<model::Account> find_by_email(std::string_view email) = 0;
  /// Changes the given names; false when no such account.
  virtual bool update_profile(std::string_view sub, const std::optional<std::string>& first_name,
                              const std::optional<std::string>& last_name, base::UnixSeconds now) = 0;
};

}  // namespace boltauth::core::ports
