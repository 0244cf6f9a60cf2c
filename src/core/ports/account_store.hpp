#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
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
  /// The account with this (E.164) phone; when several share it, the oldest.
  virtual std::optional<model::Account> find_by_phone(std::string_view phone) = 0;
  /// The account whose lower-case email has this lower-case hex SHA-256 (Bolt's `sha256_email`).
  virtual std::optional<model::Account> find_by_email_sha256(std::string_view hex) = 0;
  /// Computes the email digest of rows written before it was kept (the server calls it when it starts).
  /// Returns how many rows changed.
  virtual std::size_t fill_email_sha256() = 0;
  /// Changes the given names; false when no such account.
  virtual bool update_profile(std::string_view sub, const std::optional<std::string>& first_name,
                              const std::optional<std::string>& last_name, base::UnixSeconds now) = 0;
  /// Moves every fixed one-time code still stored in clear (rows written before the otp_hash column existed) to
  /// `hash(sub, code)` and erases the clear value, in one transaction. Returns how many rows changed.
  using OtpHasher = std::function<std::string(std::string_view sub, std::string_view code)>;
  virtual std::size_t hash_clear_otp_codes(const OtpHasher& hash) = 0;
};

}  // namespace boltauth::core::ports
