#pragma once
// A single-threaded event loop for the PostgreSQL adapter's work without waiting (read-ahead, batches on an I/O
// thread), run by the test's own thread.
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "core/ports/read_ahead.hpp"

namespace boltauth::contract {

/// A single-threaded event loop on poll(2), standing in for the HTTP layer's I/O thread.
class PollLoop final : public core::ports::EventLoop {
 public:
  void await(int fd, bool write, std::function<void(bool)> ready) override {
    (write ? writers_ : readers_)[fd] = std::move(ready);
  }
  void forget(int fd) noexcept override {
    auto cancel = [&](std::map<int, std::function<void(bool)>>& waits) {
      if (auto it = waits.find(fd); it != waits.end()) {
        posted_.push_back([ready = std::move(it->second)] { ready(false); });
        waits.erase(it);
      }
    };
    cancel(readers_);
    cancel(writers_);
  }
  void post(std::function<void()> fn) override { posted_.push_back(std::move(fn)); }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    timers_.emplace_back(std::chrono::steady_clock::now() + delay, std::move(fn));
  }

  /// Runs callbacks until `until` holds or `limit` passed; false on timeout.
  bool run(const std::function<bool()>& until, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!until()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (!posted_.empty()) {
        auto batch = std::move(posted_);
        posted_.clear();
        for (auto& fn : batch) fn();
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      if (auto due = std::find_if(timers_.begin(), timers_.end(), [&](const auto& t) { return t.first <= now; });
          due != timers_.end()) {
        auto fn = std::move(due->second);
        timers_.erase(due);
        fn();
        continue;
      }
      std::vector<pollfd> fds;
      for (const auto& [fd, unused] : readers_) fds.push_back({fd, POLLIN, 0});
      for (const auto& [fd, unused] : writers_) fds.push_back({fd, POLLOUT, 0});
      if (fds.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      for (const pollfd& p : fds) {
        if (p.revents == 0) continue;
        auto& waits = p.events == POLLIN ? readers_ : writers_;
        auto it = waits.find(p.fd);
        if (it == waits.end()) continue;
        auto ready = std::move(it->second);
        waits.erase(it);
        ready(true);
      }
    }
    return true;
  }

 private:
  std::map<int, std::function<void(bool)>> readers_;
  std::map<int, std::function<void(bool)>> writers_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::function<void()>>> timers_;
};

}  // namespace boltauth::contract
