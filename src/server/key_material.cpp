#include "server/key_material.hpp"

#include <limits>

namespace boltauth::server {

std::vector<SealingKeyStatus> sealing_schedule(const std::vector<NumberedSealingKey>& files, base::UnixSeconds now,
                                               std::int64_t retention_seconds) {
  std::vector<SealingKeyStatus> out;
  for (std::size_t i = 0; i < files.size(); ++i) {
    SealingKeyStatus st;
    st.number = files[i].number;
    st.id = files[i].key.id;
    st.created_at = files[i].key.created_at;
    if (i + 1 == files.size()) {
      st.state = SealingKeyStatus::State::seals;  // the newest always seals, whatever its created_at says
    } else {
      // A token sealed by this key was issued before its successor existed and lives at most `retention`.
      st.opens_until = files[i + 1].key.created_at + retention_seconds;
      st.state = now < *st.opens_until ? SealingKeyStatus::State::opens : SealingKeyStatus::State::retired;
    }
    out.push_back(st);
  }
  // The id travels in the token, so two live keys cannot share one: the newer wins. Walking from the newest,
  // a live key whose id a newer live key already took is retired early.
  bool taken[256] = {};
  for (auto it = out.rbegin(); it != out.rend(); ++it) {
    if (it->state == SealingKeyStatus::State::retired) continue;
    if (taken[it->id]) {
      it->state = SealingKeyStatus::State::retired;
      continue;
    }
    taken[it->id] = true;
  }
  return out;
}

LiveSealer live_sealer(const std::vector<NumberedSealingKey>& keys, base::UnixSeconds now,
                       std::int64_t retention_seconds) {
  std::vector<crypto::SealingKey> live;
  base::UnixSeconds until = std::numeric_limits<base::UnixSeconds>::max();
  const auto schedule = sealing_schedule(keys, now, retention_seconds);
  for (std::size_t i = 0; i < schedule.size(); ++i) {
    if (schedule[i].state == SealingKeyStatus::State::retired) continue;
    live.push_back(keys[i].key);
    if (schedule[i].opens_until) until = std::min(until, *schedule[i].opens_until);
  }
  return LiveSealer{std::make_shared<const crypto::TokenSealer>(std::move(live)), until};
}

}  // namespace boltauth::server
