#include "core/account/idempotency.hpp"

#include <algorithm>

#include "core/api_error.hpp"
#include "crypto/digest.hpp"

namespace boltauth::core::account {
namespace {

std::string hex(const crypto::Digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(d.size() * 2);
  for (auto b : d) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// Printable ASCII without spaces, 1..255 characters: what Bolt's and Stripe's clients send (UUIDs, mostly).
bool valid_key(std::string_view key) {
  return !key.empty() && key.size() <= 255 &&
         std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

Response replay(const ports::IdempotencyStore::Record& record) {
  Response r;
  r.status = record.status;
  r.body = record.body;
  r.with_header("Cache-Control", "no-store").with_header("Pragma", "no-cache");
  r.with_header("Idempotent-Replayed", "true");
  return r;
}

}  // namespace

std::shared_ptr<Idempotency::KeyLock> Idempotency::acquire(const std::string& id) {
  std::lock_guard lock(locks_mutex_);
  auto& slot = locks_[id];
  if (!slot) slot = std::make_shared<KeyLock>();
  ++slot->users;
  return slot;
}

void Idempotency::release(const std::string& id) {
  std::lock_guard lock(locks_mutex_);
  const auto it = locks_.find(id);
  if (it != locks_.end() && --it->second->users == 0) locks_.erase(it);  // keeps the map bounded by live keys
}

Response Idempotency::run(const Request& request, std::string_view client_id, Dialect dialect,
                          const std::function<Response()>& handler) {
  if (request.header_count("idempotency-key") == 0) return handler();
  const auto key = request.header("idempotency-key").value_or("");
  if (request.header_count("idempotency-key") > 1 || !valid_key(key))
    return api_error_response(
        ApiError::field_error("Idempotency-Key", "Idempotency-Key must be 1 to 255 visible ASCII characters."),
        dialect);
  // What the request asks: a retry must ask exactly the same (the path carries the address id).
  const std::string request_hash = hex(crypto::sha256(request.method + '\n' + request.path + '\n' + request.body));

  const std::string id = std::string(client_id) + '\n' + std::string(key);
  auto slot = acquire(id);
  struct Releaser {
    Idempotency& self;
    const std::string& id;
    ~Releaser() { self.release(id); }
  } releaser{*this, id};
  std::lock_guard key_lock(slot->mutex);

  if (const auto record = store_.find(client_id, key)) {
    if (record->request_hash != request_hash)
      return api_error_response({ApiError::Kind::unprocessable,
                                 "This Idempotency-Key was used with another request; use a new key for a new "
                                 "request."},
                                dialect);
    if (record->completed) return replay(*record);
    return api_error_response(
               {ApiError::Kind::conflict, "The first request with this Idempotency-Key has not finished; retry later."},
               dialect)
        .with_header("Retry-After", "1");
  }
  if (!store_.claim(client_id, key, request_hash, clock_.now()))
    return api_error_response(
               {ApiError::Kind::conflict, "Another request with this Idempotency-Key is running; retry later."},
               dialect)
        .with_header("Retry-After", "1");
  Response answer;
  try {
    answer = handler();
  } catch (...) {
    // Storage failed before the write committed (StorageError) or the handler failed: nothing to replay.
    try {
      store_.release(client_id, key);
    } catch (...) {
    }
    throw;
  }
  if (answer.status >= 200 && answer.status < 300) {
    store_.complete(client_id, key, answer.status, answer.body);
  } else {
    store_.release(client_id, key);  // refused: nothing written, a retry runs again
  }
  return answer;
}

}  // namespace boltauth::core::account
