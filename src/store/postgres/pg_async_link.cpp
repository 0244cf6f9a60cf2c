#include "store/postgres/pg_async_link.hpp"

#include <exception>
#include <system_error>
#include <utility>

#include "store/postgres/pg_connection.hpp"

namespace boltauth::store::postgres {

PgAsyncLink::PgAsyncLink(std::function<std::unique_ptr<PgConnection>()> open) : open_(std::move(open)) {}

PgAsyncLink::~PgAsyncLink() {
  if (opener_.joinable()) opener_.join();
}

bool PgAsyncLink::connect() {
  if (connection_) return true;
  const auto now = std::chrono::steady_clock::now();
  if (opening_) {
    std::unique_ptr<PgConnection> opened;
    {
      std::lock_guard lock(opening_->mutex);
      if (!opening_->done) return false;  // still trying: the caller goes without meanwhile
      opened = std::move(opening_->result);
    }
    opener_.join();
    opening_.reset();
    if (!opened) {
      retry_at_ = now + std::chrono::seconds(1);
      return false;
    }
    fd_ = opened->socket();
    connection_ = std::move(opened);
    return true;
  }
  if (now < retry_at_) return false;
  if (!connected_once_) {
    connected_once_ = true;  // from now on, attempts run on their own thread
    try {
      connection_ = open_();
    } catch (const std::exception&) {
      retry_at_ = now + std::chrono::seconds(1);
      return false;
    }
    fd_ = connection_->socket();
    return true;
  }
  opening_ = std::make_shared<Opening>();
  try {
    opener_ = std::thread([open = open_, state = opening_] {
      std::unique_ptr<PgConnection> opened;
      try {
        opened = open();
      } catch (const std::exception&) {
        // none: the owner tries again a second later
      }
      std::lock_guard lock(state->mutex);
      state->result = std::move(opened);
      state->done = true;
    });
  } catch (const std::system_error&) {  // no thread to be had: as a failed attempt
    opening_.reset();
    retry_at_ = now + std::chrono::seconds(1);
  }
  return false;
}

void PgAsyncLink::close() noexcept {
  connection_.reset();
  fd_ = -1;
  retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  ++generation_;
  writing_ = false;
}

void PgAsyncLink::send_queued(core::ports::EventLoop& loop, const std::function<void()>& failed) {
  if (writing_ || connection_->flush()) return;
  writing_ = true;
  loop.await(fd_, true, [this, &loop, g = generation_, failed](bool ok) { on_writable(loop, g, ok, failed); });
}

void PgAsyncLink::on_writable(core::ports::EventLoop& loop, std::uint64_t of_generation, bool ok,
                              const std::function<void()>& failed) {
  if (of_generation != generation_) return;
  writing_ = false;
  if (!ok) return failed();
  try {
    send_queued(loop, failed);
  } catch (const PgError&) {
    failed();
  }
}

}  // namespace boltauth::store::postgres
