#pragma once
#include <stdexcept>
#include <string>

namespace boltauth::core::ports {

/// An infrastructure failure inside a store adapter (I/O error, disk full, database down, lock timeout).
/// Adapters throw it; the Provider facade is the one place that turns it into `server_error` (or
/// `temporarily_unavailable` when `transient`), so no 200 is ever sent for something not stored.
class StorageError : public std::runtime_error {
 public:
  StorageError(const std::string& what, bool transient) : std::runtime_error(what), transient_(transient) {}
  bool transient() const noexcept { return transient_; }

 private:
  bool transient_;
};

}  // namespace boltauth::core::ports
