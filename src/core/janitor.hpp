#pragma once
#include <atomic>

#include "core/ports/purge_store.hpp"

namespace boltauth::core {

/// Purges in batches of at most `batch` rows examined per kind and per transaction until nothing is left to purge at
/// `now` (or `stop` becomes true). Each batch is its own short write, so requests queue behind one batch at most.
inline ports::PurgeCounts run_janitor(ports::PurgeStore& store, base::UnixSeconds now, int batch,
                                      const std::atomic<bool>* stop = nullptr) {
  ports::PurgeCounts total;
  for (;;) {
    const auto counts = store.purge_batch(now, batch);
    total += counts;
    // The store says whether a batch stopped short (a kind hit its limit, or a table scanned in key order has
    // rows left to visit): counts alone cannot tell, since a scan may examine `batch` rows and delete none.
    if (!counts.more || (stop && stop->load())) return total;
  }
}

}  // namespace boltauth::core
