#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/address.hpp"

namespace boltauth::core::ports {

/// Shoppers' address books. Every method may throw StorageError. Each write is one transaction that also keeps
/// the default rule: a book that is not empty has exactly one default address. Moving the flag changes both
/// addresses: the one that loses it and the one promoted by remove() get updated_at = now (in add() and replace(),
/// the new address's updated_at).
class AddressStore {
 public:
  virtual ~AddressStore() = default;
  /// The account's addresses, oldest first (created_at, then id).
  virtual std::vector<model::Address> list(std::string_view sub) = 0;
  virtual std::optional<model::Address> find(std::string_view sub, std::string_view id) = 0;

  enum class AddResult { added, full };
  /// Adds `address` (id, sub, fields, timestamps set by the caller). It becomes the default when
  /// `address.is_default` is true (the previous default loses the flag) or when the book was empty (its flag is
  /// then set in the stored row and in `address`). `full` (nothing written) when the book already holds
  /// `max_per_account` addresses.
  virtual AddResult add(model::Address& address, std::size_t max_per_account) = 0;

  /// Edit in place: replaces the fields of `id`, keeps its id and created_at, sets updated_at = now.
  /// `make_default` true makes it the default (the previous default loses the flag); false or absent leaves the
  /// flags as they are (the only way to stop being the default is another address becoming it). Returns the
  /// stored address, or nothing when `sub` has no address `id`.
  virtual std::optional<model::Address> edit(std::string_view sub, std::string_view id,
                                             const std::map<std::string, std::string>& fields,
                                             std::optional<bool> make_default, base::UnixSeconds now) = 0;

  /// Replace: deletes `id` and adds `replacement` (a new id, set by the caller) in one transaction. The new address
  /// is the default when the old one was, or when `replacement.is_default` is true (its flag is set in the row and
  /// in `replacement`). False (nothing written) when `sub` has no address `id`.
  virtual bool replace(std::string_view sub, std::string_view id, model::Address& replacement) = 0;

  /// Deletes `id`; when it was the default, the oldest remaining address (created_at, then id) becomes the
  /// default. False when `sub` has no address `id`.
  virtual bool remove(std::string_view sub, std::string_view id, base::UnixSeconds now) = 0;
};

}  // namespace boltauth::core::ports
