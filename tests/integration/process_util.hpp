#pragma once
// A child-process helper for tests that drive the real `boltauth` binary: posix_spawn, stdout and stderr
// captured through pipes by a reader thread (so the child never blocks on a full pipe), line waits with a
// timeout, signals, and waitpid with a timeout. The destructor always SIGKILLs and reaps a child that is still
// running, so a failing test never leaks a process.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace boltauth::testing {

using namespace std::chrono_literals;

class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv) : argv_(std::move(argv)) {
    if (argv_.empty()) throw std::invalid_argument("ChildProcess: empty argv");
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    if (::pipe2(err, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      throw std::runtime_error("pipe2 failed");
    }
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);  // dup2 clears FD_CLOEXEC on the target
    ::posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    // The child gets default signal dispositions (gtest or a test may have changed ours).
    posix_spawnattr_t attr;
    ::posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    ::posix_spawnattr_setsigdefault(&attr, &all);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> args;
    for (auto& a : argv_) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
      ::close(out[0]);
      ::close(err[0]);
      pid_ = -1;
      throw std::runtime_error("posix_spawn " + argv_[0] + ": " + std::strerror(rc));
    }
    out_fd_ = out[0];
    err_fd_ = err[0];
    reader_ = std::thread([this] { read_loop(); });
  }

  ~ChildProcess() {
    kill_and_reap();
    join_reader();
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  /// Waits for the next stdout line (after the ones already matched) that satisfies `pred`.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& pred,
                                           std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      while (cursor_ < out_lines_.size()) {
        const auto& line = out_lines_[cursor_++];
        if (pred(line)) return line;
      }
      if (out_eof_) return std::nullopt;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && cursor_ >= out_lines_.size())
        return std::nullopt;
    }
  }

  std::vector<std::string> stdout_lines() const {
    std::lock_guard lock(mutex_);
    return out_lines_;
  }
  std::string stdout_text() const {
    std::lock_guard lock(mutex_);
    return out_raw_;
  }
  std::string stderr_text() const {
    std::lock_guard lock(mutex_);
    return err_raw_;
  }

  bool signal(int sig) { return pid_ > 0 && !reaped_ && ::kill(pid_, sig) == 0; }

  /// The raw wait status once the child exited, or nullopt if it still runs after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (reaped_) return status_;
    if (pid_ <= 0) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        status_ = status;
        return status_;
      }
      if (r < 0 && errno != EINTR) {
        reaped_ = true;  // not our child any more; nothing to reap
        status_ = -1;
        return status_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

  /// SIGKILL (if still running) and reap. Returns the wait status.
  int kill_and_reap() {
    if (pid_ <= 0) return -1;
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      pid_t r;
      do r = ::waitpid(pid_, &status, 0);
      while (r < 0 && errno == EINTR);
      reaped_ = true;
      status_ = r == pid_ ? status : -1;
    }
    return status_;
  }

  bool reaped() const { return reaped_; }

  /// Waits until the reader saw EOF on both pipes (after the child exited), so the captured text is complete.
  void join_reader() {
    if (reader_.joinable()) reader_.join();
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
    out_fd_ = err_fd_ = -1;
  }

 private:
  void read_loop() {
    bool out_open = true, err_open = true;
    std::string partial;
    while (out_open || err_open) {
      pollfd fds[2] = {{out_open ? out_fd_ : -1, POLLIN, 0}, {err_open ? err_fd_ : -1, POLLIN, 0}};
      const int n = ::poll(fds, 2, 200);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      char buf[8192];
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        std::lock_guard lock(mutex_);
        if (got <= 0) {
          if (i == 0) {
            out_open = false;
            if (!partial.empty()) out_lines_.push_back(std::move(partial));
            partial.clear();
            out_eof_ = true;
          } else {
            err_open = false;
          }
        } else if (i == 0) {
          out_raw_.append(buf, static_cast<std::size_t>(got));
          partial.append(buf, static_cast<std::size_t>(got));
          std::size_t nl;
          while ((nl = partial.find('\n')) != std::string::npos) {
            out_lines_.push_back(partial.substr(0, nl));
            partial.erase(0, nl + 1);
          }
        } else {
          err_raw_.append(buf, static_cast<std::size_t>(got));
        }
        cv_.notify_all();
      }
    }
    std::lock_guard lock(mutex_);
    out_eof_ = true;
    cv_.notify_all();
  }

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> out_lines_;
  std::size_t cursor_ = 0;
  bool out_eof_ = false;
  std::string out_raw_, err_raw_;
};

/// Exit code for a normal exit, 128 + signal for a signal death, -1 otherwise.
inline int exit_code_of(int status) {
  if (status < 0) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

struct CommandResult {
  int exit_code = -1;  // -1: timed out (and killed)
  std::string out;
  std::string err;
};

/// Runs a command to completion (SIGKILL after `timeout`) and returns its exit code and output.
inline CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 30s) {
  ChildProcess child(argv);
  CommandResult result;
  auto status = child.wait_exit(timeout);
  result.exit_code = status ? exit_code_of(*status) : (child.kill_and_reap(), -1);
  child.join_reader();
  result.out = child.stdout_text();
  result.err = child.stderr_text();
  return result;
}

/// `boltauth serve` on 127.0.0.1:0 as a child process; knows its real port and the demo client it printed.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::filesystem::path& data_dir,
                const std::vector<std::string>& extra_args = {}, std::chrono::milliseconds startup_timeout = 20s) {
    std::vector<std::string> argv{binary,       "serve",           "--listen",  "127.0.0.1:0",
                                  "--data-dir", data_dir.string(), "--threads", "2"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    child_ = std::make_unique<ChildProcess>(argv);
    static const std::string kPrefix = "listening on http://127.0.0.1:";
    auto line = child_->wait_for_line([](const std::string& l) { return l.rfind(kPrefix, 0) == 0; }, startup_timeout);
    if (!line) {
      child_->kill_and_reap();
      child_->join_reader();
      throw std::runtime_error("boltauth serve did not print its address; stdout:\n" + child_->stdout_text() +
                               "\nstderr:\n" + child_->stderr_text());
    }
    port_ = static_cast<std::uint16_t>(std::stoi(line->substr(kPrefix.size())));
    for (const auto& l : child_->stdout_lines()) {
      if (auto v = field(l, "  client_id:")) demo_client_id_ = v;
      if (auto v = field(l, "  client_secret:")) demo_client_secret_ = v;
    }
  }

  std::uint16_t port() const { return port_; }
  ChildProcess& process() { return *child_; }
  const std::optional<std::string>& demo_client_id() const { return demo_client_id_; }
  const std::optional<std::string>& demo_client_secret() const { return demo_client_secret_; }

 private:
  /// The first whitespace-separated word after `prefix` when `line` starts with it.
  static std::optional<std::string> field(const std::string& line, const std::string& prefix) {
    if (line.rfind(prefix, 0) != 0) return std::nullopt;
    auto start = line.find_first_not_of(' ', prefix.size());
    if (start == std::string::npos) return std::nullopt;
    auto end = line.find(' ', start);
    return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }

  std::unique_ptr<ChildProcess> child_;
  std::uint16_t port_ = 0;
  std::optional<std::string> demo_client_id_, demo_client_secret_;
};

}  // namespace boltauth::testing
