#pragma once
#include <cstdint>
#include <functional>

namespace boltauth::core::ports {

/// Lets a transport answer a request only once every write it made is durable, without a thread waiting for
/// it (issue 6). Between begin_deferred() and end_deferred() on one thread, store writes execute at once in
/// the store's open batch and return their outcome; they are not yet committed. end_deferred() hands back a
/// ticket naming the batches they joined, and when_durable() reports when those batches are committed and
/// fsynced (true) or failed (false: nothing of that batch was kept). A write outside a deferred scope keeps
/// the GrantStore contract: it returns only once durable.
class CommitGate {
 public:
  struct Ticket {
    std::uint64_t first = 0;  // oldest batch joined; 0 when nothing was written
    std::uint64_t last = 0;   // newest batch joined
    bool empty() const noexcept { return last == 0; }
  };

  virtual ~CommitGate() = default;
  virtual void begin_deferred() = 0;
  virtual Ticket end_deferred() = 0;
  /// Calls `done` once, either inline (already settled) or on the store's committer thread: it must not
  /// block or write to the store; it should only hand the answer back to where it is sent from.
  virtual void when_durable(const Ticket& ticket, std::function<void(bool durable)> done) = 0;
};

}  // namespace boltauth::core::ports
