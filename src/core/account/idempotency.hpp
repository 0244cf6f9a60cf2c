#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "core/dialect.hpp"
#include "core/exchange.hpp"
#include "core/ports/idempotency_store.hpp"

namespace boltauth::core::account {

/// How long a key's first answer is kept (Bolt: 24 hours); the janitor purges older records.
inline constexpr base::UnixSeconds kIdempotencyWindow = 86400;

/// `Idempotency-Key` on POST and PATCH (Bolt's v1 account API): the first request with a key runs; a retry with the
/// same key and the same request within the window gets the first answer again and writes nothing; the same key
/// with another request is 422. Keys are scoped per client. Only an answer that wrote something (2xx) is kept: a
/// refused request wrote nothing, so its retry simply runs again.
///
/// Requests with one key on this node run one at a time (the second waits and replays the first's answer). A
/// request on another node that finds the key claimed but unanswered gets 409 with Retry-After; so does every
/// retry of a key whose first request died between its write and its answer (the write may have happened, so
/// running it again could duplicate it) until the record is purged.
class Idempotency {
 public:
  Idempotency(ports::IdempotencyStore& store, const base::Clock& clock) : store_(store), clock_(clock) {}

  /// Runs `handler` under `request`'s Idempotency-Key when it carries one (otherwise just runs it).
  Response run(const Request& request, std::string_view client_id, Dialect dialect,
               const std::function<Response()>& handler);

 private:
  struct KeyLock {
    std::mutex mutex;
    int users = 0;
  };
  std::shared_ptr<KeyLock> acquire(const std::string& id);
  void release(const std::string& id);

  ports::IdempotencyStore& store_;
  const base::Clock& clock_;
  std::mutex locks_mutex_;
  std::map<std::string, std::shared_ptr<KeyLock>, std::less<>> locks_;
};

}  // namespace boltauth::core::account
