#pragma once
#include <atomic>

#include "core/ports/purge_store.hpp"

namespace boltauth::core {

/// Purges in batches of `batch` rows per kind and per transaction until a batch reports nothing more at `now`
/// (or `stop` becomes true). Each batch is its own short write, so requests queue behind one batch at most.
inline ports::PurgeCounts run_janitor(ports::PurgeStore& store, base::UnixSeconds now, int batch,
                                      const std::atomic<bool>* stop = nullptr) {
  ports::PurgeCounts total;
  for (;;) {
    const auto counts = store.purge_batch(now, batch);
    total += counts;
    const bool more = counts.more;
    if (!more || (stop && stop->load())) return total;
  }
}

}  // namespace boltauth::core
