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
///
/// A store may also execute a consuming write only when its batch runs (a database server a round trip away):
/// inside the scope it then returns the outcome the caller's own read predicts, and when_settled() reports
/// `conflict` when the batch found otherwise (another request consumed the row first). Nothing that request's
/// consuming writes would have changed was kept, and its answer rests on a state that did not hold: the transport
/// runs the request again outside a deferred scope, where writes return their real outcome.
class CommitGate {
 public:
  struct Ticket {
    std::uint64_t first = 0;  // oldest batch joined; 0 when nothing was written
    std::uint64_t last = 0;   // newest batch joined
    std::uint64_t scope = 0;  // the deferred scope, for a store that settles each scope on its own (0: none)
    bool empty() const noexcept { return last == 0; }
  };
  enum class Settled { durable, failed, conflict };

  virtual ~CommitGate() = default;
  virtual void begin_deferred() = 0;
  virtual Ticket end_deferred() = 0;
  /// Calls `done` once, either inline (already settled) or on the store's committer thread: it must not
  /// block or write to the store; it should only hand the answer back to where it is sent from.
  virtual void when_durable(const Ticket& ticket, std::function<void(bool durable)> done) = 0;
  /// As when_durable(), with `conflict` told apart from `failed` (a store that predicts outcomes, above). Call it
  /// once for every ticket that is not empty.
  virtual void when_settled(const Ticket& ticket, std::function<void(Settled)> done) {
    when_durable(ticket,
                 [done = std::move(done)](bool durable) { done(durable ? Settled::durable : Settled::failed); });
  }
};

}  // namespace boltauth::core::ports
