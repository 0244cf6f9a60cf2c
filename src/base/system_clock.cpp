#include "base/clock.hpp"

#include <chrono>

namespace boltauth::base {

UnixSeconds SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace boltauth::base
